"""健康体检表, the health checkup form, and 接诊记录, the encounter record."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.records.fields import (
    NAME_MAX,
    SEALED,
    BloodPressure,
    Record,
    Weighed,
    choice,
    codes,
    count,
    measure,
    medications,
    no_other_with_none,
    text,
)

CHECKUP_SYMPTOMS = (
    "none", "headache", "dizziness", "palpitation", "chest_tightness", "chest_pain", "chronic_cough",
    "expectoration", "dyspnea", "polydipsia", "polyuria", "weight_loss", "fatigue", "joint_pain",
    "blurred_vision", "numbness", "urinary_urgency", "dysuria", "constipation", "diarrhea",
    "nausea_vomiting", "dim_sight", "tinnitus", "breast_pain", "other",
)


class GeneralExam(Weighed):
    temperature = measure(34, 43, "°C")
    pulse = count(30, 220, "beats/min")
    respiration = count(5, 60, "breaths/min")
    blood_pressure_left = fields.Nested(BloodPressure)
    blood_pressure_right = fields.Nested(BloodPressure)
    waist = measure(30, 200, "cm")


class Smoking(Schema):
    status = choice(("never", "former", "current"), required=True)
    daily_cigarettes = count(0, 100, "cigarettes/day")
    start_age = count(5, 120, "years")
    quit_age = count(5, 120, "years")

    @validates_schema
    def ages_in_order(self, data, **kwargs):
        if data.get("quit_age", 200) < data.get("start_age", 0):
            raise ValidationError("Must not be before the starting age.", "quit_age")


class Drinking(Schema):
    frequency = choice(("never", "occasional", "often", "daily"), required=True)
    daily_liang = measure(0, 50, "liang/day (两, 50 g)")


class Exercise(Schema):
    frequency = choice(("daily", "weekly", "occasional", "never"), required=True)
    minutes = count(0, 600, "minutes per session")
    years = measure(0, 100, "years")


class Lifestyle(Schema):
    smoking = fields.Nested(Smoking)
    drinking = fields.Nested(Drinking)
    exercise = fields.Nested(Exercise)
    diet = codes(("balanced", "meat_heavy", "vegetarian", "salty", "oily", "sweet"))


class Lipids(Schema):
    total_cholesterol = measure(0.5, 20, "mmol/L")
    triglycerides = measure(0.1, 30, "mmol/L")
    ldl = measure(0.1, 15, "mmol/L")
    hdl = measure(0.1, 5, "mmol/L")


class AuxiliaryTests(Schema):
    fasting_glucose = measure(1, 35, "mmol/L")
    hba1c = measure(3, 20, "%")
    hemoglobin = count(30, 250, "g/L")
    urine_protein = choice(("negative", "trace", "1+", "2+", "3+", "4+"))
    lipids = fields.Nested(Lipids)
    ecg = choice(("normal", "abnormal"))
    ecg_finding = text()
    other = text()


class Evaluation(Schema):
    result = choice(("normal", "abnormal"), required=True)
    abnormal_items = fields.List(fields.String(validate=validate.Length(min=1, max=NAME_MAX)), metadata=SEALED)

    @validates_schema
    def items_match_result(self, data, **kwargs):
        if data["result"] == "abnormal" and not data.get("abnormal_items"):
            raise ValidationError("Name each abnormal finding when the result is abnormal.", "abnormal_items")
        if data["result"] == "normal" and data.get("abnormal_items"):
            raise ValidationError("Only an abnormal result lists abnormal findings.", "abnormal_items")


class Guidance(Schema):
    actions = codes(("regular_followup", "chronic_disease_management", "referral", "recheck"))
    risk_factors = codes(("quit_smoking", "healthy_drinking", "diet", "exercise", "weight_loss",
                          "vaccination", "other"))
    advice = text()


class Checkup(Record):
    symptoms = codes(CHECKUP_SYMPTOMS)
    symptoms_other = text()
    general = fields.Nested(GeneralExam, required=True)
    lifestyle = fields.Nested(Lifestyle)
    physical_findings = text("physical examination findings")
    auxiliary = fields.Nested(AuxiliaryTests)
    health_problems = fields.List(fields.String(validate=validate.Length(min=1, max=NAME_MAX)), metadata=SEALED)
    medications = medications()
    evaluation = fields.Nested(Evaluation, required=True)
    guidance = fields.Nested(Guidance)

    @validates_schema
    def symptoms_consistent(self, data, **kwargs):
        no_other_with_none(data.get("symptoms"), "symptoms")


# ---------------------------------------------------------------- encounter 接诊记录

class Encounter(Record):
    subjective = text()
    objective = text()
    assessment = text(required=True)
    plan = text()


