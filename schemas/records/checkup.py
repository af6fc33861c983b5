"""健康体检表, the health checkup form, part by part as the national form has them.

A checkup must carry at least the general state and an evaluation with its basis (the
abnormal findings). The screens for residents of 65 and over are on the form for them;
a checkup of an older resident without them answers an `incomplete` alert
(healthrec/records/alerts.py).
"""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, post_load, validates_schema

from schemas.form import (
    choice,
    codes,
    count,
    flag,
    group,
    measure,
    other_needs_text,
    requires,
    rows,
    short,
)
from schemas.records.fields import (
    NORMAL,
    RESULT,
    Day,
    Record,
    Weighed,
    blood_pressure,
    day,
    finding,
    medications,
    no_other_with_none,
    not_before,
    presence,
    sealed,
    text,
)

CHECKUP_SYMPTOMS = {
    "none": _l("No symptoms"), "headache": _l("Headache"), "dizziness": _l("Dizziness"),
    "palpitation": _l("Palpitations"), "chest_tightness": _l("Chest tightness"), "chest_pain": _l("Chest pain"),
    "chronic_cough": _l("Chronic cough"), "expectoration": _l("Coughing up phlegm"),
    "dyspnea": _l("Difficulty breathing"), "polydipsia": _l("Drinking much"), "polyuria": _l("Passing much urine"),
    "weight_loss": _l("Weight loss"), "fatigue": _l("Fatigue"), "joint_pain": _l("Swollen, painful joints"),
    "blurred_vision": _l("Blurred vision"), "numbness": _l("Numb hands or feet"),
    "urinary_urgency": _l("Urgency of urine"), "dysuria": _l("Painful urination"), "constipation": _l("Constipation"),
    "diarrhea": _l("Diarrhoea"), "nausea_vomiting": _l("Nausea and vomiting"), "dim_sight": _l("Dim sight"),
    "tinnitus": _l("Ringing in the ears"), "breast_pain": _l("Breast swelling and pain"), "other": _l("Other"),
}
URINE = {"negative": _l("Negative (-)"), "trace": _l("Trace (±)"), "1+": _l("1+"), "2+": _l("2+"), "3+": _l("3+"),
         "4+": _l("4+")}


# ---------------------------------------------------------------- 一般状况 general state

SELF_RATING = {"satisfied": _l("Satisfied"), "fairly_satisfied": _l("Fairly satisfied"),
               "unsure": _l("Cannot say"), "fairly_dissatisfied": _l("Not very satisfied"),
               "dissatisfied": _l("Dissatisfied")}
# 老年人生活自理能力评估表: the sum of five items, 0-37 points.
SELF_CARE_LEVELS = ((3, "independent"), (8, "mildly_dependent"), (18, "moderately_dependent"),
                    (37, "dependent"))
SELF_CARE_LABELS = {"independent": _l("Independent (0-3)"), "mildly_dependent": _l("Mildly dependent (4-8)"),
                    "moderately_dependent": _l("Moderately dependent (9-18)"),
                    "dependent": _l("Dependent (19 and over)")}


def self_care_level(score):
    return next(level for top, level in SELF_CARE_LEVELS if score <= top)


class ElderlyScreens(Schema):
    """The self-assessments and screens of residents of 65 and over, with their scores."""

    self_rating = choice(SELF_RATING, _l("Self-assessed health"))
    self_care_score = count(0, 37, "points", _l("Self-care assessment score"))
    self_care_level = fields.String(dump_only=True, metadata={
        "label": _l("Self-care"), "labels": SELF_CARE_LABELS, "description": "from the score"})
    cognition = choice(RESULT, _l("Cognition screen"))
    cognition_score = count(0, 30, "points", _l("Mini-mental state examination score"))
    emotion = choice(RESULT, _l("Emotion screen"))
    emotion_score = count(0, 30, "points", _l("Geriatric depression scale score"))

    @post_load
    def level(self, data, **kwargs):
        if "self_care_score" in data:
            data["self_care_level"] = self_care_level(data["self_care_score"])
        return data


class GeneralExam(Weighed, ElderlyScreens):
    temperature = measure(34, 43, "°C", _l("Temperature"))
    pulse = count(30, 220, "beats/min", _l("Pulse"))
    respiration = count(5, 60, "breaths/min", _l("Respiration"))
    blood_pressure_left = blood_pressure(_l("Blood pressure, left arm"))
    blood_pressure_right = blood_pressure(_l("Blood pressure, right arm"))
    waist = measure(30, 200, "cm", _l("Waist"))

    @validates_schema
    def positive_screen_scored(self, data, **kwargs):
        for screen, test in (("cognition", "mini-mental state examination"),
                             ("emotion", "geriatric depression scale")):
            requires(data, f"{screen}_score", data.get(screen) == "positive",
                     f"A positive screen is followed by the {test}: give its score.")


# ---------------------------------------------------------------- 生活方式 lifestyle

class Smoking(Schema):
    status = choice({"never": _l("Never smoked"), "former": _l("Quit smoking"), "current": _l("Smokes")},
                    _l("Smoking"), required=True)
    daily_cigarettes = count(0, 100, "cigarettes/day", _l("Cigarettes a day"))
    start_age = count(5, 120, "years", _l("Age started"))
    quit_age = count(5, 120, "years", _l("Age quit"))

    @validates_schema
    def ages_in_order(self, data, **kwargs):
        if data.get("quit_age", 200) < data.get("start_age", 0):
            raise ValidationError("Must not be before the starting age.", "quit_age")


DRINKS = {"liquor": _l("Spirits (baijiu)"), "beer": _l("Beer"), "wine": _l("Wine"),
          "rice_wine": _l("Yellow rice wine"), "other": _l("Other")}


class Drinking(Schema):
    frequency = choice({"never": _l("Never"), "occasional": _l("Occasionally"), "often": _l("Often"),
                        "daily": _l("Every day")}, _l("Drinking"), required=True)
    daily_liang = measure(0, 50, "liang/day (两, 50 g)", _l("Amount a day"))
    quit = flag(_l("Has stopped drinking"))
    quit_age = count(5, 120, "years", _l("Age stopped"))
    start_age = count(5, 120, "years", _l("Age started"))
    drunk_last_year = flag(_l("Drunk in the past year"))
    kinds = codes(DRINKS, _l("Kinds of drink"))
    kinds_other = short(_l("Other drink"))

    @validates_schema
    def consistent(self, data, **kwargs):
        requires(data, "quit", "quit_age" in data, "Give the age stopped only when drinking has stopped: send "
                                                   "quit true.")
        other_needs_text(data, "kinds", "kinds_other")


class Exercise(Schema):
    frequency = choice({"daily": _l("Every day"), "weekly": _l("Once a week or more"),
                        "occasional": _l("Occasionally"), "never": _l("Never")}, _l("Exercise"), required=True)
    minutes = count(0, 600, "minutes per session", _l("Minutes each time"))
    years = measure(0, 100, "years", _l("Years kept up"))
    way = short(_l("Way of exercising"))


class Hazard(Schema):
    substance = short(_l("Substance"), required=True)
    protection = flag(_l("Protective measures"))
    measures = short(_l("Which measures"))

    @validates_schema
    def measures_named(self, data, **kwargs):
        requires(data, "measures", data.get("protection") is True, "Name the protective measures.")


class OccupationalExposure(Schema):
    """职业病危害因素接触史."""

    exposed = flag(_l("Exposed to occupational hazards"), required=True)
    job = short(_l("Type of work"))
    years = measure(0, 70, "years", _l("Years in the work"))
    dust = group(Hazard, _l("Dust"))
    radioactive = group(Hazard, _l("Radioactive substances"))
    physical = group(Hazard, _l("Physical factors"))
    chemical = group(Hazard, _l("Chemical substances"))
    other = group(Hazard, _l("Other hazards"))

    @validates_schema
    def hazards_when_exposed(self, data, **kwargs):
        named = [name for name in ("job", "years", "dust", "radioactive", "physical", "chemical", "other")
                 if name in data]
        if not data.get("exposed") and named:
            raise ValidationError(f"Send exposed true with {', '.join(named)}.", "exposed")
        requires(data, "job", data.get("exposed"), "Name the type of work with the hazards.")


class Lifestyle(Schema):
    exercise = group(Exercise, _l("Physical exercise"))
    diet = codes({"balanced": _l("Balanced meat and vegetables"), "meat_heavy": _l("Mostly meat"),
                  "vegetarian": _l("Mostly vegetables"), "salty": _l("Likes salt"), "oily": _l("Likes oil"),
                  "sweet": _l("Likes sugar")}, _l("Eating habits"))
    smoking = group(Smoking, _l("Smoking"))
    drinking = group(Drinking, _l("Drinking"))
    occupational = group(OccupationalExposure, _l("Occupational hazards"), metadata={"sealed": True})


# ---------------------------------------------------------------- 脏器功能 organ function

class Vision(Schema):
    # 对数视力表, recorded in five-point values (GB/T 11533).
    left = measure(3.0, 5.3, "(five-point record)", _l("Left eye"))
    right = measure(3.0, 5.3, "(five-point record)", _l("Right eye"))
    corrected_left = measure(3.0, 5.3, "(five-point record)", _l("Left eye, corrected"))
    corrected_right = measure(3.0, 5.3, "(five-point record)", _l("Right eye, corrected"))


class Organs(Schema):
    lips = choice({"ruddy": _l("Ruddy"), "pale": _l("Pale"), "cyanotic": _l("Cyanotic"),
                   "chapped": _l("Chapped"), "herpes": _l("Herpes")}, _l("Lips"))
    dentition = codes({"normal": _l("Normal"), "missing": _l("Missing teeth"), "caries": _l("Caries"),
                       "denture": _l("Dentures")}, _l("Teeth"))
    dentition_detail = short(_l("Which teeth"))
    pharynx = choice({"normal": _l("No congestion"), "congested": _l("Congested"),
                      "lymphoid_hyperplasia": _l("Lymphoid follicle hyperplasia")}, _l("Throat"))
    vision = group(Vision, _l("Vision"))
    hearing = choice({"heard": _l("Hears"), "not_heard": _l("Cannot hear clearly or at all")}, _l("Hearing"))
    motor = choice({"completed": _l("Completes the movements"), "unable": _l("Cannot complete a movement alone")},
                   _l("Motor function"))

    @validates_schema
    def teeth(self, data, **kwargs):
        no_other_with_none(data.get("dentition"), "dentition", "normal")


# ---------------------------------------------------------------- 查体 physical examination

class Lungs(Schema):
    barrel_chest = flag(_l("Barrel chest"))
    breath_sounds = finding(_l("Breath sounds"))
    rales = choice({"none": _l("None"), "dry": _l("Dry rales"), "moist": _l("Moist rales"), "other": _l("Other")},
                   _l("Rales"))
    rales_other = short(_l("Other rales"))

    @validates_schema
    def other_named(self, data, **kwargs):
        other_needs_text(data, "rales", "rales_other")


class Heart(Schema):
    rate = count(30, 220, "beats/min", _l("Heart rate"))
    rhythm = choice({"regular": _l("Regular"), "irregular": _l("Irregular"),
                     "absolutely_irregular": _l("Absolutely irregular")}, _l("Rhythm"))
    murmur = presence(_l("Murmur"))


class Abdomen(Schema):
    tenderness = presence(_l("Tenderness"))
    mass = presence(_l("Mass"))
    hepatomegaly = presence(_l("Enlarged liver"))
    splenomegaly = presence(_l("Enlarged spleen"))
    shifting_dullness = presence(_l("Shifting dullness"))


class Gynaecology(Schema):
    vulva = finding(_l("Vulva"))
    vagina = finding(_l("Vagina"))
    cervix = finding(_l("Cervix"))
    uterus = finding(_l("Uterus"))
    adnexa = finding(_l("Adnexa"))


class PhysicalExam(Schema):
    fundus = finding(_l("Fundus"))
    skin = choice({"normal": _l("Normal"), "flushed": _l("Flushed"), "pale": _l("Pale"), "cyanotic": _l("Cyanotic"),
                   "jaundiced": _l("Jaundiced"), "pigmented": _l("Pigmented"), "other": _l("Other")}, _l("Skin"))
    skin_other = short(_l("Other skin finding"))
    sclera = choice({"normal": _l("Normal"), "jaundiced": _l("Jaundiced"), "congested": _l("Congested"),
                     "other": _l("Other")}, _l("Sclera"))
    sclera_other = short(_l("Other sclera finding"))
    lymph_nodes = choice({"not_palpable": _l("Not palpable"), "supraclavicular": _l("Supraclavicular"),
                          "axillary": _l("Axillary"), "other": _l("Other")}, _l("Lymph nodes"))
    lymph_nodes_other = short(_l("Other lymph nodes"))
    lungs = group(Lungs, _l("Lungs"))
    heart = group(Heart, _l("Heart"))
    abdomen = group(Abdomen, _l("Abdomen"))
    edema = choice({"none": _l("None"), "unilateral": _l("One leg"), "bilateral_asymmetric": _l("Both legs, unequal"),
                    "bilateral_symmetric": _l("Both legs, equal")}, _l("Lower-limb oedema"))
    dorsalis_pedis = choice({"not_palpable": _l("Not palpable"), "symmetric": _l("Both felt, equal"),
                             "left_weak": _l("Left weak or absent"), "right_weak": _l("Right weak or absent")},
                            _l("Dorsalis pedis pulse"))
    rectal = choice({"normal": _l("Nothing abnormal"), "tenderness": _l("Tenderness"), "mass": _l("Mass"),
                     "prostate": _l("Prostate abnormal"), "other": _l("Other")}, _l("Digital rectal examination"))
    rectal_other = short(_l("Other rectal finding"))
    breasts = codes({"normal": _l("Nothing abnormal"), "mastectomy": _l("Mastectomy"),
                     "abnormal_lactation": _l("Abnormal lactation"), "mass": _l("Breast mass"), "other": _l("Other")},
                    _l("Breasts"))
    breasts_other = short(_l("Other breast finding"))
    gynaecology = group(Gynaecology, _l("Gynaecological examination"))
    other = text(_l("Other findings"))

    @validates_schema
    def others_named(self, data, **kwargs):
        no_other_with_none(data.get("breasts"), "breasts", "normal")
        for name in ("skin", "sclera", "lymph_nodes", "rectal", "breasts"):
            other_needs_text(data, name, f"{name}_other")


# ---------------------------------------------------------------- 辅助检查 auxiliary tests

class Lipids(Schema):
    total_cholesterol = measure(0.5, 20, "mmol/L", _l("Total cholesterol"))
    triglycerides = measure(0.1, 30, "mmol/L", _l("Triglycerides"))
    ldl = measure(0.1, 15, "mmol/L", _l("LDL cholesterol"))
    hdl = measure(0.1, 5, "mmol/L", _l("HDL cholesterol"))


class LiverFunction(Schema):
    alt = count(0, 5000, "U/L", _l("Serum ALT"))
    ast = count(0, 5000, "U/L", _l("Serum AST"))
    albumin = measure(5, 80, "g/L", _l("Albumin"))
    total_bilirubin = measure(0, 800, "μmol/L", _l("Total bilirubin"))
    direct_bilirubin = measure(0, 600, "μmol/L", _l("Conjugated bilirubin"))


class KidneyFunction(Schema):
    creatinine = measure(10, 3000, "μmol/L", _l("Serum creatinine"))
    urea = measure(0.5, 80, "mmol/L", _l("Blood urea"))
    potassium = measure(1, 10, "mmol/L", _l("Blood potassium"))
    sodium = measure(100, 200, "mmol/L", _l("Blood sodium"))


class AuxiliaryTests(Schema):
    fasting_glucose = measure(1, 35, "mmol/L", _l("Fasting blood glucose"))
    hemoglobin = count(30, 250, "g/L", _l("Haemoglobin"))
    white_cells = measure(0.1, 200, "×10⁹/L", _l("White blood cells"))
    platelets = count(1, 2000, "×10⁹/L", _l("Platelets"))
    blood_other = short(_l("Other blood test"))
    urine_protein = choice(URINE, _l("Urine protein"))
    urine_glucose = choice(URINE, _l("Urine glucose"))
    urine_ketones = choice(URINE, _l("Urine ketones"))
    urine_occult_blood = choice(URINE, _l("Urine occult blood"))
    urine_other = short(_l("Other urine test"))
    urine_microalbumin = measure(0, 300, "mg/dL", _l("Urine microalbumin"))
    fecal_occult_blood = choice(RESULT, _l("Faecal occult blood"))
    hba1c = measure(3, 20, "%", _l("Glycated haemoglobin"))
    hbsag = choice(RESULT, _l("Hepatitis B surface antigen"))
    liver = group(LiverFunction, _l("Liver function"))
    kidney = group(KidneyFunction, _l("Kidney function"))
    lipids = group(Lipids, _l("Blood lipids"))
    ecg = choice(NORMAL, _l("Electrocardiogram"))
    ecg_finding = text(_l("Electrocardiogram finding"))
    chest_xray = finding(_l("Chest X-ray"))
    ultrasound_abdomen = finding(_l("Abdominal B-ultrasound"))
    ultrasound_other = finding(_l("Other B-ultrasound"))
    cervical_smear = finding(_l("Cervical smear"))
    other = text(_l("Other tests"))


# ---------------------------------------------------------------- 现存主要健康问题 current health problems

def problems(values, label):
    """One organ system's problems: 'not found' or the conditions present."""
    return codes({"not_found": _l("Not found"), **values, "other": _l("Other")}, label)


class CurrentProblems(Schema):
    cerebrovascular = problems({
        "ischaemic_stroke": _l("Ischaemic stroke"), "cerebral_haemorrhage": _l("Cerebral haemorrhage"),
        "subarachnoid_haemorrhage": _l("Subarachnoid haemorrhage"),
        "transient_ischaemic_attack": _l("Transient ischaemic attack")}, _l("Cerebrovascular disease"))
    kidney = problems({
        "diabetic_nephropathy": _l("Diabetic nephropathy"), "renal_failure": _l("Renal failure"),
        "acute_nephritis": _l("Acute nephritis"), "chronic_nephritis": _l("Chronic nephritis")}, _l("Kidney disease"))
    heart = problems({
        "myocardial_infarction": _l("Myocardial infarction"), "angina": _l("Angina"),
        "revascularisation": _l("Coronary revascularisation"), "heart_failure": _l("Congestive heart failure"),
        "precordial_pain": _l("Precordial pain")}, _l("Heart disease"))
    vascular = problems({"dissecting_aneurysm": _l("Dissecting aneurysm"),
                         "arterial_occlusion": _l("Arterial occlusive disease")}, _l("Vascular disease"))
    eye = problems({"retinal_haemorrhage": _l("Retinal haemorrhage or exudate"),
                    "papilloedema": _l("Papilloedema"), "cataract": _l("Cataract")}, _l("Eye disease"))
    other_detail = short(_l("Other problems of these organs"))
    nervous = presence(_l("Nervous system disease"))
    other_systems = presence(_l("Other system disease"))

    @validates_schema
    def consistent(self, data, **kwargs):
        systems = ("cerebrovascular", "kidney", "heart", "vascular", "eye")
        for name in systems:
            no_other_with_none(data.get(name), name, "not_found")
        requires(data, "other_detail", any("other" in (data.get(name) or []) for name in systems),
                 "Name the other problems ticked.")


# ---------------------------------------------------------------- 住院治疗情况, 预防接种

class HospitalStay(Schema):
    admitted = day(_l("Admitted"), required=True)
    discharged = day(_l("Discharged"))
    reason = short(_l("Reason"), required=True)
    institution = short(_l("Institution and department"), required=True)
    case_number = short(_l("Case number"))

    @validates_schema
    def in_order(self, data, **kwargs):
        not_before(data, "discharged", "admitted", "the admission date")


class HomeBed(Schema):
    opened = day(_l("Bed set up"), required=True)
    closed = day(_l("Bed withdrawn"))
    reason = short(_l("Reason"), required=True)
    institution = short(_l("Institution"), required=True)
    case_number = short(_l("Case number"))

    @validates_schema
    def in_order(self, data, **kwargs):
        not_before(data, "closed", "opened", "the day the bed was set up")


class Vaccination(Schema):
    """A vaccination outside the immunisation programme (非免疫规划预防接种)."""

    name = short(_l("Vaccine"), required=True)
    date = Day(required=True, metadata={"label": _l("Date")})
    institution = short(_l("Vaccinating institution"))


# ---------------------------------------------------------------- 中医体质辨识 TCM constitution

CONSTITUTION = {"yes": _l("Yes"), "tendency": _l("Tends to")}


class TcmConstitution(Schema):
    balanced = choice(CONSTITUTION, _l("Balanced"))
    qi_deficiency = choice(CONSTITUTION, _l("Qi deficiency"))
    yang_deficiency = choice(CONSTITUTION, _l("Yang deficiency"))
    yin_deficiency = choice(CONSTITUTION, _l("Yin deficiency"))
    phlegm_dampness = choice(CONSTITUTION, _l("Phlegm-dampness"))
    damp_heat = choice(CONSTITUTION, _l("Damp-heat"))
    blood_stasis = choice(CONSTITUTION, _l("Blood stasis"))
    qi_stagnation = choice(CONSTITUTION, _l("Qi stagnation"))
    special = choice(CONSTITUTION, _l("Special (allergic)"))


# ---------------------------------------------------------------- 健康评价, 健康指导

class Evaluation(Schema):
    result = choice({"normal": _l("Nothing abnormal"), "abnormal": _l("Abnormal")}, _l("Health evaluation"),
                    required=True)
    abnormal_items = sealed(fields.List(short(_l("Abnormal finding")), metadata={"label": _l("Abnormal findings")}))

    @validates_schema
    def items_match_result(self, data, **kwargs):
        if data["result"] == "abnormal" and not data.get("abnormal_items"):
            raise ValidationError("Name each abnormal finding when the result is abnormal.", "abnormal_items")
        if data["result"] == "normal" and data.get("abnormal_items"):
            raise ValidationError("Only an abnormal result lists abnormal findings.", "abnormal_items")


class Guidance(Schema):
    actions = codes({"regular_followup": _l("Regular follow-up"),
                     "chronic_disease_management": _l("Included in chronic disease management"),
                     "referral": _l("Referral advised"), "recheck": _l("Recheck advised")}, _l("Health guidance"))
    risk_factors = codes({"quit_smoking": _l("Quit smoking"), "healthy_drinking": _l("Healthy drinking"),
                          "diet": _l("Diet"), "exercise": _l("Exercise"), "weight_loss": _l("Lose weight"),
                          "vaccination": _l("Vaccination advised"), "other": _l("Other")},
                         _l("Risk factor control"))
    weight_target = measure(2, 300, "kg", _l("Target weight"))
    vaccines = short(_l("Vaccines advised"))
    risk_other = short(_l("Other risk factor control"))
    advice = text(_l("Advice"))


class Checkup(Record):
    symptoms = codes(CHECKUP_SYMPTOMS, _l("Symptoms"))
    symptoms_other = text(_l("Other symptoms"))
    general = group(GeneralExam, _l("General state"), required=True)
    lifestyle = group(Lifestyle, _l("Lifestyle"))
    organs = group(Organs, _l("Organ function"))
    physical = group(PhysicalExam, _l("Physical examination"))
    physical_findings = text(_l("Physical examination findings"))
    auxiliary = group(AuxiliaryTests, _l("Auxiliary tests"))
    tcm_constitution = group(TcmConstitution, _l("TCM constitution"))
    current_problems = group(CurrentProblems, _l("Current main health problems"), metadata={"sealed": True})
    health_problems = sealed(fields.List(short(_l("Problem")), metadata={"label": _l("Other health problems")}))
    hospital_stays = rows(HospitalStay, _l("Hospital stays"), metadata={"sealed": True})
    home_beds = rows(HomeBed, _l("Home sickbeds"), metadata={"sealed": True})
    medications = medications()
    vaccinations = rows(Vaccination, _l("Vaccinations outside the programme"), metadata={"sealed": True})
    evaluation = group(Evaluation, _l("Health evaluation"), required=True)
    guidance = group(Guidance, _l("Health guidance"))

    @validates_schema
    def symptoms_consistent(self, data, **kwargs):
        no_other_with_none(data.get("symptoms"), "symptoms")

