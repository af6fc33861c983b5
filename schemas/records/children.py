"""0～6岁儿童健康管理: the newborn home visit (新生儿家庭访视记录表) and the scheduled health
checks (1岁以内、1～2岁、3～6岁儿童健康检查记录表), one form chosen by `visit`.

The visit point must fit the child's age on the day (healthrec/records/schedule.py); the
service checks it against the archive, and takes the point from the age when a client
leaves `visit` out.
"""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, validates_schema

from schemas.archive_codes import OCCUPATION
from schemas.form import choice, codes, count, flag, group, measure, other_needs_text, rows, short
from schemas.records.checkup import Vision
from schemas.records.fields import (
    Followup,
    day,
    finding,
    no_other_with_none,
    presence,
    sealed,
    text,
)

VISITS = {
    "newborn": _l("Newborn home visit"), "month_1": _l("Full month"), "month_3": _l("3 months"),
    "month_6": _l("6 months"), "month_8": _l("8 months"), "month_12": _l("12 months"), "month_18": _l("18 months"),
    "month_24": _l("24 months"), "month_30": _l("30 months"), "year_3": _l("3 years"), "year_4": _l("4 years"),
    "year_5": _l("5 years"), "year_6": _l("6 years"),
}
LEVEL = {"above": _l("Above average"), "middle": _l("Average"), "below": _l("Below average")}
UMBILICAL = {"attached": _l("Not fallen off"), "fallen_off": _l("Fallen off"), "oozing": _l("Oozing"),
             "other": _l("Other")}


class Parent(Schema):
    relation = choice({"father": _l("Father"), "mother": _l("Mother")}, _l("Parent"), required=True)
    name = short(_l("Name"), required=True)
    occupation = choice(OCCUPATION, _l("Occupation"))
    phone = short(_l("Phone"))
    birth_date = day(_l("Date of birth"))


class Fontanelle(Schema):
    length = measure(0, 10, "cm", _l("Length"))
    width = measure(0, 10, "cm", _l("Width"))
    state = choice({"normal": _l("Normal"), "bulging": _l("Bulging"), "sunken": _l("Sunken"), "closed": _l("Closed"),
                    "other": _l("Other")}, _l("State"))


class Newborn(Schema):
    """What only the newborn home visit asks: the birth and the first days."""

    parents = sealed(rows(Parent, _l("Parents")))
    gestational_weeks = count(20, 45, "weeks", _l("Gestational age at birth"))
    maternal_illness = codes({"none": _l("None"), "diabetes": _l("Diabetes"),
                              "gestational_hypertension": _l("Gestational hypertension"), "other": _l("Other")},
                             _l("Mother's illness in pregnancy"), metadata={"sealed": True})
    maternal_illness_other = text(_l("Other illness in pregnancy"))
    delivery_institution = sealed(short(_l("Delivery institution")))
    birth_mode = choice({"spontaneous": _l("Spontaneous delivery"), "vacuum": _l("Vacuum extraction"),
                         "forceps": _l("Forceps"), "caesarean": _l("Caesarean section"),
                         "multiple": _l("Twins or more"), "breech": _l("Breech"), "other": _l("Other")},
                        _l("Birth"))
    asphyxia = flag(_l("Neonatal asphyxia"))
    apgar_1 = count(0, 10, "points", _l("Apgar score at 1 minute"))
    apgar_5 = count(0, 10, "points", _l("Apgar score at 5 minutes"))
    malformation = presence(_l("Malformation"))
    hearing_screening = choice({"passed": _l("Passed"), "failed": _l("Not passed"), "not_screened": _l("Not screened"),
                                "unknown": _l("Not known")}, _l("Newborn hearing screening"))
    disease_screening = codes({"not_done": _l("Not done"), "all_negative": _l("All negative"),
                               "hypothyroidism": _l("Congenital hypothyroidism"),
                               "phenylketonuria": _l("Phenylketonuria"),
                               "other_metabolic": _l("Other inherited metabolic disease")},
                              _l("Newborn disease screening"))
    birth_weight = measure(0.3, 7, "kg", _l("Birth weight"))
    birth_length = measure(20, 70, "cm", _l("Birth length"))
    feeding = choice({"breast": _l("Breastfed only"), "mixed": _l("Mixed feeding"), "formula": _l("Formula")},
                     _l("Feeding"))
    feed_ml = count(0, 500, "ml per feed", _l("Amount per feed"))
    feeds_per_day = count(0, 30, "feeds/day", _l("Feeds a day"))
    vomiting = flag(_l("Vomiting"))
    stool = choice({"paste": _l("Paste-like"), "loose": _l("Loose"), "other": _l("Other")}, _l("Stool"))
    stools_per_day = count(0, 30, "stools/day", _l("Stools a day"))
    temperature = measure(34, 42, "°C", _l("Temperature"))
    heart_rate = count(60, 240, "beats/min", _l("Heart rate"))
    respiration = count(10, 100, "breaths/min", _l("Respiration"))
    jaundice = codes({"none": _l("None"), "face": _l("Face"), "trunk": _l("Trunk"), "limbs": _l("Limbs"),
                      "hands_feet": _l("Hands and feet")}, _l("Jaundice"))
    nose = finding(_l("Nose"))
    spine = finding(_l("Spine"))
    umbilical_cord = choice(UMBILICAL, _l("Umbilical cord"))

    @validates_schema
    def consistent(self, data, **kwargs):
        no_other_with_none(data.get("jaundice"), "jaundice")
        no_other_with_none(data.get("maternal_illness"), "maternal_illness")
        other_needs_text(data, "maternal_illness", "maternal_illness_other")
        if not data.get("asphyxia") and ("apgar_1" in data or "apgar_5" in data):
            raise ValidationError("Send asphyxia true with the Apgar scores.", "asphyxia")


class Illnesses(Schema):
    """两次随访间患病情况: how often since the last check."""

    pneumonia = count(0, 50, "times", _l("Pneumonia"))
    diarrhoea = count(0, 50, "times", _l("Diarrhoea"))
    injury = count(0, 50, "times", _l("Injury"))
    other = short(_l("Other illness"))


class Teeth(Schema):
    erupted = count(0, 32, "teeth", _l("Teeth erupted"))
    caries = count(0, 32, "teeth", _l("Teeth with caries"))


class ChildFollowup(Followup):
    visit = choice(VISITS, _l("Visit"), metadata={"description": "the point of the schedule; from the age on the day "
                                                                 "when left out"})
    newborn = group(Newborn, _l("Newborn visit"))
    weight = measure(1, 50, "kg", _l("Weight"), required=True)
    weight_level = choice(LEVEL, _l("Weight for age"))
    height = measure(30, 150, "cm", _l("Length or height"), metadata={
        "description": "every check but the newborn visit (which records the birth length)"})
    height_level = choice(LEVEL, _l("Height for age"))
    weight_for_height = choice(LEVEL, _l("Weight for height"))
    head_circumference = measure(25, 60, "cm", _l("Head circumference"))
    growth = choice({"normal": _l("Normal"), "underweight": _l("Underweight"), "wasting": _l("Wasting"),
                     "stunting": _l("Stunting"), "overweight": _l("Overweight")}, _l("Growth evaluation"))
    complexion = choice({"ruddy": _l("Ruddy"), "jaundiced": _l("Jaundiced"), "other": _l("Other")}, _l("Complexion"))
    skin = finding(_l("Skin"))
    fontanelle = group(Fontanelle, _l("Anterior fontanelle"))
    neck_mass = flag(_l("Neck mass"))
    eyes = finding(_l("Eyes"))
    ears = finding(_l("Ears"))
    hearing = choice({"passed": _l("Passed"), "failed": _l("Not passed")}, _l("Hearing"))
    vision = group(Vision, _l("Vision"))
    mouth = finding(_l("Mouth"))
    teeth = group(Teeth, _l("Teeth"))
    heart_lungs = finding(_l("Heart and lungs"))
    abdomen = finding(_l("Abdomen"))
    umbilicus = choice(UMBILICAL, _l("Umbilicus"))
    limbs = finding(_l("Limbs"))
    gait = finding(_l("Gait"))
    rickets_symptoms = codes({"none": _l("None"), "night_terrors": _l("Night terrors"), "sweating": _l("Sweating"),
                              "irritability": _l("Irritability")}, _l("Possible rickets symptoms"))
    rickets_signs = codes({"none": _l("None"), "craniotabes": _l("Craniotabes"), "square_skull": _l("Square skull"),
                           "occipital_baldness": _l("Occipital baldness"), "rosary": _l("Rachitic rosary"),
                           "flaring_ribs": _l("Flaring ribs"), "harrison_groove": _l("Harrison's groove"),
                           "pigeon_chest": _l("Pigeon chest"), "bracelet": _l("Wrist bracelet sign"),
                           "o_legs": _l("O-shaped legs"), "x_legs": _l("X-shaped legs")}, _l("Possible rickets signs"))
    anus_genitals = finding(_l("Anus and genitals"))
    hemoglobin = count(30, 250, "g/L", _l("Haemoglobin"))
    outdoor_hours = measure(0, 24, "hours/day", _l("Time outdoors"))
    vitamin_d = count(0, 5000, "IU/day", _l("Vitamin D taken"))
    development = choice({"normal": _l("Passed"), "abnormal": _l("Warning signs")}, _l("Development assessment"))
    development_warnings = text(_l("Warning signs seen"))
    illnesses = group(Illnesses, _l("Illness since the last check"))
    guidance_topics = codes({"feeding": _l("Feeding"), "growth": _l("Growth and development"),
                             "disease_prevention": _l("Disease prevention"),
                             "injury_prevention": _l("Injury prevention"), "oral_health": _l("Oral health"),
                             "other": _l("Other")}, _l("Guidance given"))
    guidance = text(_l("Guidance"))

    @validates_schema
    def fits_the_visit(self, data, **kwargs):
        newborn, errors = data.get("visit") == "newborn", {}
        if "height" not in data and not newborn:
            errors["height"] = ["Measure the length or height (30 to 150 cm): every check but the newborn visit "
                                "records it."]
        if data.get("newborn") and not newborn:
            errors["newborn"] = ["Only the newborn visit (visit newborn) records the birth."]
        if errors:
            raise ValidationError(errors)
        no_other_with_none(data.get("rickets_symptoms"), "rickets_symptoms")
        no_other_with_none(data.get("rickets_signs"), "rickets_signs")
