"""高血压患者随访服务记录表 and 2型糖尿病患者随访服务记录表: the chronic disease follow-ups.

Whether `control` agrees with the measurements depends on the patient's age (a target of
150/90 mmHg from 65), so the service checks it against the archive
(healthrec/records/thresholds.py); this form checks what it can alone.
"""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, post_load, validates_schema

from schemas.form import choice, codes, count, group, measure, requires
from schemas.records.fields import (
    ADHERENCE,
    GOOD_FAIR_POOR,
    Followup,
    Weighed,
    blood_pressure,
    bmi,
    day,
    medications,
    no_other_with_none,
    text,
)

# 此次随访分类
CONTROL = {"satisfactory": _l("Controlled"), "unsatisfactory": _l("Not controlled"),
           "adverse_reaction": _l("Adverse drug reaction"), "complication": _l("Complication")}
REACTION = {"none": _l("None"), "present": _l("Present")}
SALT = {"light": _l("Light"), "moderate": _l("Moderate"), "heavy": _l("Heavy")}


class Targets(Schema):
    """The targets agreed with the patient for the next visit (目标)."""

    weight = measure(2, 300, "kg", _l("Target weight"))
    bmi = fields.Float(dump_only=True, metadata={"label": _l("Target body mass index"),
                                                 "description": "from the target weight and the height, kg/m²"})
    daily_cigarettes = count(0, 100, "cigarettes/day", _l("Target cigarettes a day"))
    daily_liang = measure(0, 50, "liang/day (两, 50 g)", _l("Target amount of alcohol a day"))
    exercise_per_week = count(0, 21, "sessions/week", _l("Target exercise sessions a week"))
    exercise_minutes = count(0, 600, "minutes per session", _l("Target minutes each session"))


class HypertensionTargets(Targets):
    salt = choice(SALT, _l("Target salt intake"))


class DiabetesTargets(Targets):
    staple_food = count(0, 2000, "g/day", _l("Target staple food a day"))


class ChronicFollowup(Followup, Weighed):
    """What both chronic disease forms have: signs, the lifestyle block with its targets,
    adherence, adverse drug reactions, the classification, medication and referral."""

    signs_other = text(_l("Other signs"))
    daily_cigarettes = count(0, 100, "cigarettes/day", _l("Cigarettes a day"))
    daily_liang = measure(0, 50, "liang/day (两, 50 g)", _l("Amount of alcohol a day"))
    exercise_per_week = count(0, 21, "sessions/week", _l("Exercise sessions a week"))
    exercise_minutes = count(0, 600, "minutes per session", _l("Minutes each session"))
    mental_adjustment = choice(GOOD_FAIR_POOR, _l("Psychological adjustment"))
    compliance = choice(GOOD_FAIR_POOR, _l("Following medical advice"))
    adherence = choice(ADHERENCE, _l("Medication adherence"), required=True)
    adverse_reaction = choice(REACTION, _l("Adverse drug reaction"))
    adverse_reactions = text(_l("Adverse reactions"), metadata={"description": "what reaction, to which drug"})
    control = choice(CONTROL, _l("Classification of this follow-up"), required=True)
    medications = medications()

    @validates_schema
    def reactions_consistent(self, data, **kwargs):
        reaction = data.get("adverse_reaction")
        requires(data, "adverse_reactions", reaction == "present", "Describe the adverse reaction.")
        if reaction == "none" and data.get("adverse_reactions"):
            raise ValidationError("Send adverse_reaction present with a described reaction.", "adverse_reaction")
        control = data.get("control")
        if (reaction, control) == ("none", "adverse_reaction") or \
                (reaction == "present" and control in ("satisfactory", "unsatisfactory")):
            message = (f"The classification is {control} but adverse_reaction is {reaction}; a follow-up with an "
                       "adverse drug reaction is classified adverse_reaction (or complication).")
            raise ValidationError({"control": [message], "adverse_reaction": [message]})

    @post_load
    def target_bmi(self, data, **kwargs):
        targets = data.get("targets") or {}
        if "weight" in targets and "height" in data:
            targets["bmi"] = bmi(targets["weight"], data["height"])
        return data


class HypertensionFollowup(ChronicFollowup):
    symptoms = codes({"none": _l("No symptoms"), "headache_dizziness": _l("Headache, dizziness"),
                      "nausea_vomiting": _l("Nausea and vomiting"),
                      "blurred_vision_tinnitus": _l("Blurred vision, ringing in the ears"),
                      "dyspnea": _l("Difficulty breathing"),
                      "palpitation_sweating": _l("Palpitations, chest tightness"),
                      "nosebleed": _l("Nosebleed that does not stop"), "limb_numbness": _l("Numb limbs"),
                      "lower_limb_edema": _l("Lower-limb oedema"), "other": _l("Other")}, _l("Symptoms"))
    symptoms_other = text(_l("Other symptoms"))
    blood_pressure = blood_pressure(required=True)
    heart_rate = count(30, 220, "beats/min", _l("Heart rate"))
    salt = choice(SALT, _l("Salt intake"))
    targets = group(HypertensionTargets, _l("Targets"))
    auxiliary = text(_l("Auxiliary tests"))

    @validates_schema
    def symptoms_consistent(self, data, **kwargs):
        no_other_with_none(data.get("symptoms"), "symptoms")


class DiabetesFollowup(ChronicFollowup):
    symptoms = codes({"none": _l("No symptoms"), "polydipsia": _l("Drinking much"), "polyphagia": _l("Eating much"),
                      "polyuria": _l("Passing much urine"), "blurred_vision": _l("Blurred vision"),
                      "infection": _l("Infection"), "numbness": _l("Numb hands or feet"),
                      "edema": _l("Lower-limb oedema"), "weight_loss": _l("Marked weight loss"), "other": _l("Other")},
                     _l("Symptoms"))
    symptoms_other = text(_l("Other symptoms"))
    blood_pressure = blood_pressure()
    dorsalis_pedis_pulse = choice({"normal": _l("Felt, normal"), "weakened": _l("Weakened"), "absent": _l("Absent")},
                                  _l("Dorsalis pedis pulse"))
    dorsalis_pedis_side = choice({"both": _l("Both feet"), "left": _l("Left"), "right": _l("Right")},
                                 _l("Which foot"))
    staple_food = count(0, 2000, "g/day", _l("Staple food a day"))
    targets = group(DiabetesTargets, _l("Targets"))
    fasting_glucose = measure(1, 35, "mmol/L", _l("Fasting blood glucose"), required=True)
    hba1c = measure(3, 20, "%", _l("Glycated haemoglobin"))
    hba1c_date = day(_l("Glycated haemoglobin tested on"))
    auxiliary_other = text(_l("Other tests"))
    hypoglycemia = choice({"none": _l("None"), "occasional": _l("Occasional"), "frequent": _l("Frequent")},
                          _l("Hypoglycaemic reactions"))
    insulin = text(_l("Insulin"), metadata={"description": "insulin kind and dose"})

    @validates_schema
    def symptoms_consistent(self, data, **kwargs):
        no_other_with_none(data.get("symptoms"), "symptoms")
        if data.get("dorsalis_pedis_side") and data.get("dorsalis_pedis_pulse") in (None, "normal"):
            raise ValidationError("Name a side only for a weakened or absent pulse.", "dorsalis_pedis_side")

