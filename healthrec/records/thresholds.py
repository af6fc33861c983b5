"""The national specification's targets and danger values, as pure functions over a
record's plaintext: whether a follow-up's stated classification (`control`) agrees with its
own measurements, and which readings call for an urgent referral.

- Hypertension is controlled below 140/90 mmHg, below 150/90 mmHg from 65 years.
- Type-2 diabetes is controlled below 7.0 mmol/L fasting blood glucose.
- Danger values: systolic 180 mmHg or more, or diastolic 110 or more; fasting glucose
  16.7 mmol/L or more, or 3.9 or less; a severe mental disorder's risk assessment of level
  3 or more; a tuberculosis patient's adverse drug reaction or complication. Each calls
  for referral at once to a higher-level institution.
"""

from healthrec.archives.rules import ELDERLY_AGE

BP_TARGET = (140, 90)
ELDERLY_BP_TARGET = (150, 90)
FASTING_GLUCOSE_TARGET = 7.0
DANGER_BP = (180, 110)
DANGER_GLUCOSE_HIGH = 16.7
DANGER_GLUCOSE_LOW = 3.9
URGENT_RISK_LEVEL = 3


def bp_target(age):
    return ELDERLY_BP_TARGET if age >= ELDERLY_AGE else BP_TARGET


def reading(bp):
    return f"{bp['systolic']}/{bp['diastolic']} mmHg"


def _measured(content, age):
    """(field, what was measured, target in words, controlled) of a chronic follow-up."""
    if content.get("population") == "hypertension":
        bp = content["blood_pressure"]
        systolic, diastolic = bp_target(age)
        controlled = bp["systolic"] < systolic and bp["diastolic"] < diastolic
        return "blood_pressure", f"Blood pressure {reading(bp)}", f"below {systolic}/{diastolic} mmHg", controlled
    glucose = content["fasting_glucose"]
    return ("fasting_glucose", f"Fasting glucose {glucose} mmol/L", f"below {FASTING_GLUCOSE_TARGET} mmol/L",
            glucose < FASTING_GLUCOSE_TARGET)


def control_errors(content, age):
    """{field: [message]} naming both `control` and the measurement when a hypertension or
    diabetes follow-up calls itself controlled (satisfactory) or not (unsatisfactory)
    against its own measurement; `age` on the day of the follow-up."""
    control = content.get("control")
    if content.get("kind") != "followup" or content.get("population") not in ("hypertension", "diabetes") \
            or control not in ("satisfactory", "unsatisfactory"):
        return {}
    field, measured, target, controlled = _measured(content, age)
    if controlled == (control == "satisfactory"):
        return {}
    fits = "satisfactory" if controlled else "unsatisfactory"
    message = (f"{measured} is {'within' if controlled else 'not within'} the target at age {age} ({target}), "
               f"so this follow-up is {fits}, not {control}: correct control or {field}.")
    return {"control": [message], field: [message]}


def _pressures(content):
    if content["kind"] == "checkup":
        general = content.get("general", {})
        return [general[arm] for arm in ("blood_pressure_left", "blood_pressure_right") if arm in general]
    return [content["blood_pressure"]] if content.get("population") in ("hypertension", "diabetes") \
        and "blood_pressure" in content else []


def _glucose(content):
    if content["kind"] == "checkup":
        return content.get("auxiliary", {}).get("fasting_glucose")
    return content.get("fasting_glucose") if content.get("population") == "diabetes" else None


def danger(content):
    """What in the record calls for an urgent referral, in words; [] when nothing does."""
    found = []
    for bp in _pressures(content):
        if bp["systolic"] >= DANGER_BP[0] or bp["diastolic"] >= DANGER_BP[1]:
            found.append(f"blood pressure {reading(bp)} (systolic {DANGER_BP[0]} or more, or diastolic "
                         f"{DANGER_BP[1]} or more)")
    glucose = _glucose(content)
    if glucose is not None and not DANGER_GLUCOSE_LOW < glucose < DANGER_GLUCOSE_HIGH:
        found.append(f"fasting glucose {glucose} mmol/L ({DANGER_GLUCOSE_HIGH} or more, or {DANGER_GLUCOSE_LOW} "
                     "or less)")
    population = content.get("population")
    if population == "severe_mental_disorder" and int(content.get("risk_level") or 0) >= URGENT_RISK_LEVEL:
        found.append(f"risk assessment level {content['risk_level']} ({URGENT_RISK_LEVEL} or more)")
    if population == "tuberculosis":
        if content.get("adverse_reaction") == "present":
            found.append("an adverse drug reaction")
        if content.get("complication", {}).get("result") == "present":
            found.append("a complication or comorbidity")
    return found
