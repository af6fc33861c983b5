"""Follow-up forms of the key populations (重点人群随访), one per population."""

from datetime import timedelta

from marshmallow import ValidationError, fields, post_load, validates_schema

from schemas.records.fields import (
    BloodPressure,
    Day,
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


class Followup(Record):
    population = fields.String(required=True)
    method = choice(("clinic", "home", "phone"))
    next_followup = Day(metadata={"description": "planned day of the next follow-up, within a year"})

    @validates_schema
    def next_after_this(self, data, **kwargs):
        planned, day = data.get("next_followup"), data.get("date")
        if planned and day and not day < planned <= day + timedelta(days=366):
            raise ValidationError(
                f"Must be after the follow-up date and within a year: {day + timedelta(days=1)} "
                f"to {day + timedelta(days=366)}.", "next_followup")


ADHERENCE = ("regular", "intermittent", "none")
# 本次随访分类: controlled, not controlled, adverse drug reaction, complication
CONTROL = ("satisfactory", "unsatisfactory", "adverse_reaction", "complication")


class HypertensionFollowup(Followup, Weighed):
    blood_pressure = fields.Nested(BloodPressure, required=True)
    heart_rate = count(30, 220, "beats/min")
    symptoms = codes(("none", "headache_dizziness", "nausea_vomiting", "blurred_vision_tinnitus", "dyspnea",
                      "palpitation_sweating", "nosebleed", "limb_numbness", "lower_limb_edema", "other"))
    daily_cigarettes = count(0, 100, "cigarettes/day")
    daily_liang = measure(0, 50, "liang/day (两, 50 g)")
    exercise_per_week = count(0, 21, "sessions/week")
    salt = choice(("light", "moderate", "heavy"))
    adherence = choice(ADHERENCE, required=True)
    adverse_reactions = text()
    control = choice(CONTROL, required=True)
    medications = medications()

    @validates_schema
    def symptoms_consistent(self, data, **kwargs):
        no_other_with_none(data.get("symptoms"), "symptoms")


class DiabetesFollowup(Followup, Weighed):
    fasting_glucose = measure(1, 35, "mmol/L", required=True)
    hba1c = measure(3, 20, "%")
    blood_pressure = fields.Nested(BloodPressure)
    dorsalis_pedis_pulse = choice(("normal", "weakened", "absent"))
    symptoms = codes(("none", "polydipsia", "polyphagia", "polyuria", "blurred_vision", "infection",
                      "numbness", "edema", "weight_loss", "other"))
    hypoglycemia = choice(("none", "occasional", "frequent"))
    adherence = choice(ADHERENCE, required=True)
    control = choice(CONTROL, required=True)
    medications = medications()
    insulin = text("insulin kind and dose")

    @validates_schema
    def symptoms_consistent(self, data, **kwargs):
        no_other_with_none(data.get("symptoms"), "symptoms")


class ChildFollowup(Followup):
    height = measure(30, 150, "cm", required=True)
    weight = measure(1, 50, "kg", required=True)
    head_circumference = measure(25, 60, "cm")
    development = choice(("normal", "abnormal"))
    guidance = text()


class MaternalFollowup(Followup):
    visit = choice(("prenatal", "postpartum", "postpartum_42d"), required=True)
    gestational_week = count(1, 45, "weeks")
    blood_pressure = fields.Nested(BloodPressure)
    weight = measure(30, 200, "kg")
    fundal_height = measure(5, 50, "cm")
    fetal_heart_rate = count(60, 220, "beats/min")
    hemoglobin = count(30, 250, "g/L")
    classification = choice(("normal", "abnormal"))
    guidance = text()

    @validates_schema
    def week_for_prenatal(self, data, **kwargs):
        if data.get("visit") == "prenatal" and "gestational_week" not in data:
            raise ValidationError("A prenatal visit needs the gestational week (1 to 45 weeks).",
                                  "gestational_week")


# 老年人生活自理能力评估表: the sum of five items, 0-37.
SELF_CARE_LEVELS = ((3, "independent"), (8, "mildly_dependent"), (18, "moderately_dependent"),
                    (37, "dependent"))


class ElderlyFollowup(Followup):
    self_care_score = count(0, 37, "points", required=True)
    self_care_level = fields.String(dump_only=True, metadata={"description": "from the score"})
    self_rating = choice(("satisfied", "fairly_satisfied", "unsure", "fairly_dissatisfied", "dissatisfied"))
    cognition = choice(("negative", "positive"), "screen result")
    emotion = choice(("negative", "positive"), "screen result")

    @post_load
    def level(self, data, **kwargs):
        data["self_care_level"] = next(level for top, level in SELF_CARE_LEVELS if data["self_care_score"] <= top)
        return data


# The key populations with a follow-up form; add a population by adding its schema here.
POPULATIONS = {
    "hypertension": HypertensionFollowup,
    "diabetes": DiabetesFollowup,
    "child": ChildFollowup,
    "maternal": MaternalFollowup,
    "elderly": ElderlyFollowup,
}


