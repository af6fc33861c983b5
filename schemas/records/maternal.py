"""孕产妇健康管理: the first prenatal visit (第1次产前检查服务记录表), the 2nd to 5th prenatal
visits (第2～5次产前随访服务记录表), the postpartum visit (产后访视记录表) and the 42-day
postpartum check (产后42天健康检查记录表), which closes the pregnancy episode; one form
chosen by `visit`.

Parts the form asks at one kind of visit only are refused at the others. Infection
screening, the histories and the husband's particulars are sealed.
"""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, validates_schema

from schemas.archive_codes import ABO, RH
from schemas.form import choice, codes, count, group, measure, other_needs_text, short
from schemas.records.checkup import URINE, Gynaecology, KidneyFunction, LiverFunction
from schemas.records.fields import (
    RESULT,
    Day,
    Followup,
    Weighed,
    blood_pressure,
    day,
    finding,
    presence,
    sealed,
    text,
)

VISITS = {"first_prenatal": _l("First prenatal check"), "prenatal": _l("Prenatal visit (2nd to 5th)"),
          "postpartum": _l("Postpartum home visit"), "postpartum_42d": _l("42-day postpartum check")}
PRENATAL = ("first_prenatal", "prenatal")
POSTPARTUM = ("postpartum", "postpartum_42d")
# The parts a kind of visit alone asks; the fields every visit had before these forms
# (blood pressure, weight, haemoglobin…) stay allowed at all of them.
FIRST_VISIT = ("husband", "gravidity", "parity", "last_menstrual_period", "due_date", "histories", "height",
               "heart", "lungs", "gynaecology", "tests")
POSTPARTUM_VISIT = ("delivery_date", "discharge_date", "temperature", "general_health", "mental_health",
                    "breasts", "lochia", "uterus", "wound")
VISIT_PARTS = {
    "first_prenatal": FIRST_VISIT,
    "prenatal": ("complaint", "abdominal_circumference", "fetal_position", "urine_protein"),
    "postpartum": POSTPARTUM_VISIT,
    "postpartum_42d": (*POSTPARTUM_VISIT, "recovered", "handling"),
}
ASKED_AT = {name: [visit for visit, parts in VISIT_PARTS.items() if name in parts]
            for parts in VISIT_PARTS.values() for name in parts}


class Husband(Schema):
    name = short(_l("Husband's name"))
    age = count(15, 100, "years", _l("Husband's age"))
    phone = short(_l("Husband's phone"))


class Parity(Schema):
    vaginal = count(0, 20, "deliveries", _l("Vaginal deliveries"))
    caesarean = count(0, 20, "deliveries", _l("Caesarean sections"))


class ObstetricHistory(Schema):
    abortions = count(0, 30, "times", _l("Abortions"))
    fetal_deaths = count(0, 30, "times", _l("Fetal deaths"))
    stillbirths = count(0, 30, "times", _l("Stillbirths"))
    neonatal_deaths = count(0, 30, "times", _l("Neonatal deaths"))
    birth_defects = count(0, 30, "times", _l("Children with birth defects"))


class Histories(Schema):
    past = codes({"none": _l("None"), "heart": _l("Heart disease"), "kidney": _l("Kidney disease"),
                  "liver": _l("Liver disease"), "hypertension": _l("Hypertension"), "anaemia": _l("Anaemia"),
                  "diabetes": _l("Diabetes"), "other": _l("Other")}, _l("Past history"))
    past_other = short(_l("Other past illness"))
    family = codes({"none": _l("None"), "hereditary": _l("Hereditary disease"), "mental": _l("Mental illness"),
                    "other": _l("Other")}, _l("Family history"))
    family_other = short(_l("Other family history"))
    personal = codes({"none": _l("Nothing special"), "smoking": _l("Smoking"), "drinking": _l("Drinking"),
                      "medication": _l("Taking medicines"), "toxic": _l("Contact with toxic substances"),
                      "radiation": _l("Contact with radiation"), "other": _l("Other")}, _l("Personal history"))
    personal_other = short(_l("Other personal history"))
    gynaecological_surgery = presence(_l("Gynaecological operations"))
    obstetric = group(ObstetricHistory, _l("Obstetric history"))

    @validates_schema
    def others_named(self, data, **kwargs):
        for name in ("past", "family", "personal"):
            other_needs_text(data, name, f"{name}_other")


class Infections(Schema):
    hbsag = choice(RESULT, _l("Hepatitis B surface antigen"))
    hbsab = choice(RESULT, _l("Hepatitis B surface antibody"))
    hbeag = choice(RESULT, _l("Hepatitis B e antigen"))
    hbeab = choice(RESULT, _l("Hepatitis B e antibody"))
    hbcab = choice(RESULT, _l("Hepatitis B core antibody"))
    syphilis = choice(RESULT, _l("Syphilis serology"))
    hiv = choice(RESULT, _l("HIV antibody"))


class PrenatalTests(Schema):
    white_cells = measure(0.1, 200, "×10⁹/L", _l("White blood cells"))
    platelets = count(1, 2000, "×10⁹/L", _l("Platelets"))
    urine_protein = choice(URINE, _l("Urine protein"))
    urine_glucose = choice(URINE, _l("Urine glucose"))
    urine_ketones = choice(URINE, _l("Urine ketones"))
    urine_occult_blood = choice(URINE, _l("Urine occult blood"))
    abo = choice(ABO, _l("ABO blood group"))
    rh = choice(RH, _l("Rh blood group"))
    blood_glucose = measure(1, 35, "mmol/L", _l("Blood glucose"))
    liver = group(LiverFunction, _l("Liver function"))
    kidney = group(KidneyFunction, _l("Kidney function"))
    vaginal_discharge = codes({"normal": _l("Nothing abnormal"), "trichomonas": _l("Trichomonas"),
                               "candida": _l("Candida"), "other": _l("Other")}, _l("Vaginal discharge"))
    vaginal_cleanliness = choice({"I": _l("Grade I"), "II": _l("Grade II"), "III": _l("Grade III"),
                                  "IV": _l("Grade IV")}, _l("Vaginal cleanliness"))
    infections = group(Infections, _l("Infection screening"), metadata={"sealed": True})
    ultrasound = text(_l("B-ultrasound"))
    other = text(_l("Other tests"))


GUIDANCE = {
    "lifestyle": _l("Lifestyle"), "psychology": _l("Psychological health"), "nutrition": _l("Nutrition"),
    "teratogens": _l("Avoiding harm to the embryo"), "prenatal_screening": _l("Prenatal screening"),
    "exercise": _l("Exercise"), "self_monitoring": _l("Self-monitoring"),
    "delivery_preparation": _l("Preparing for delivery"), "breastfeeding": _l("Breastfeeding"),
    "hygiene": _l("Personal hygiene"), "newborn_care": _l("Newborn care and feeding"),
    "contraception": _l("Sexual health and contraception"), "other": _l("Other"),
}


class MaternalFollowup(Followup, Weighed):
    visit = choice(VISITS, _l("Visit"), required=True)
    gestational_week = count(1, 45, "weeks", _l("Gestational week"))
    # 第1次产前检查
    husband = sealed(group(Husband, _l("Husband")))
    gravidity = count(1, 30, "pregnancies", _l("Pregnancies (this one included)"))
    parity = group(Parity, _l("Deliveries"))
    last_menstrual_period = day(_l("Last menstrual period"))
    due_date = Day(metadata={"label": _l("Expected date of delivery")})
    histories = sealed(group(Histories, _l("Histories")))
    height = measure(120, 200, "cm", _l("Height"))
    heart = finding(_l("Heart"))
    lungs = finding(_l("Lungs"))
    gynaecology = group(Gynaecology, _l("Gynaecological examination"))
    tests = group(PrenatalTests, _l("Auxiliary tests"))
    # 第2～5次产前随访
    complaint = text(_l("Complaint"))
    abdominal_circumference = measure(50, 160, "cm", _l("Abdominal circumference"))
    fetal_position = short(_l("Fetal position"))
    urine_protein = choice(URINE, _l("Urine protein"))
    # every prenatal visit
    blood_pressure = blood_pressure()
    weight = measure(30, 200, "kg", _l("Weight"))
    fundal_height = measure(5, 50, "cm", _l("Fundal height"))
    fetal_heart_rate = count(60, 220, "beats/min", _l("Fetal heart rate"))
    hemoglobin = count(30, 250, "g/L", _l("Haemoglobin"))
    # 产后访视, 产后42天
    delivery_date = day(_l("Date of delivery"))
    discharge_date = day(_l("Date of discharge"))
    temperature = measure(34, 43, "°C", _l("Temperature"))
    general_health = text(_l("General health"))
    mental_health = text(_l("Mental state"))
    breasts = finding(_l("Breasts"))
    lochia = finding(_l("Lochia"))
    uterus = finding(_l("Uterus"))
    wound = finding(_l("Wound"))
    recovered = choice({"recovered": _l("Recovered"), "not_recovered": _l("Not recovered")}, _l("Recovery"))
    handling = choice({"closed": _l("Case closed"), "referred": _l("Referred")}, _l("Handling"))
    # every visit
    classification = choice({"normal": _l("Nothing abnormal"), "abnormal": _l("Abnormal")}, _l("Classification"))
    abnormal_findings = text(_l("Abnormal findings"))
    guidance_topics = codes(GUIDANCE, _l("Guidance given"))
    guidance = text(_l("Guidance"))

    @validates_schema
    def fits_the_visit(self, data, **kwargs):
        visit = data.get("visit")
        allowed = VISIT_PARTS.get(visit, ())
        wrong = {name: [f"Asked at a {' or '.join(visits)} visit, not at a {visit} one."]
                 for name, visits in ASKED_AT.items() if name in data and name not in allowed}
        if visit in PRENATAL and "gestational_week" not in data:
            wrong["gestational_week"] = ["A prenatal visit needs the gestational week (1 to 45 weeks)."]
        if wrong:
            raise ValidationError(wrong)
        due, day = data.get("due_date"), data.get("date")
        if due and day and not day <= due <= day + timedelta(weeks=44):
            raise ValidationError(f"Must be from the visit day to 44 weeks after it ({day + timedelta(weeks=44)}).",
                                  "due_date")

