"""What a record's answer points out to the clinician, as `alerts: [{code, detail}]`:
danger values that call for an urgent referral, and parts of the form the specification
asks of this resident that the record lacks. Pure functions over a record's plaintext."""

from healthrec.archives.rules import ELDERLY_AGE
from healthrec.records import thresholds

URGENT = "urgent_referral"
INCOMPLETE = "incomplete"
# What a checkup records for residents of 65 and over.
ELDERLY_SCREENS = ("self_rating", "self_care_score", "cognition", "emotion")


def urgent_detail(content):
    """The urgent referral a record calls for, in words, or None."""
    found = thresholds.danger(content)
    if not found:
        return None
    return ("Danger value: " + "; ".join(found) + ". Refer at once to a higher-level institution and follow "
            "up within 2 weeks; the resident stays on the urgent list until a referral is recorded.")


def alerts(content, age):
    """The alerts of a record of a resident aged `age` on the record's day."""
    found = []
    detail = urgent_detail(content)
    if detail:
        found.append({"code": URGENT, "detail": detail})
    if content["kind"] == "checkup" and age >= ELDERLY_AGE:
        missing = [f"general.{name}" for name in ELDERLY_SCREENS if name not in content.get("general", {})]
        if missing:
            found.append({"code": INCOMPLETE, "detail": "From 65 years a checkup records the health and self-care "
                                                        "self-assessments and the cognition and emotion screens; "
                                                        "add " + ", ".join(missing) + "."})
    return found


def refers(content):
    """Whether the record itself refers the resident to a higher level: an upward referral,
    or a follow-up with its referral part filled in."""
    if content["kind"] == "referral":
        return content["direction"] == "up"
    return content["kind"] == "followup" and "referral" in content
