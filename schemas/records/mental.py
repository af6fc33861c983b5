"""严重精神障碍患者随访服务记录表, the severe mental disorder follow-up.

Every clinical field is sealed: only the kind, date, population, method and the next
day stay plain, which the work lists and indicators need (docs/security.md).
"""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, validates_schema

from schemas.form import choice, codes, count, group, other_needs_text, requires, short
from schemas.records.chronic import REACTION
from schemas.records.fields import (
    FOLLOWUP_PLAIN,
    GOOD_FAIR_POOR,
    Followup,
    day,
    medications,
    presence,
    sealed_form,
    text,
)

# 本次随访分类
CLASSIFICATION = {"unstable": _l("Unstable"), "basically_stable": _l("Basically stable"), "stable": _l("Stable")}
# 危险性评估 0-5; from level 3 the patient is referred at once.
RISK_LEVELS = {str(level): label for level, label in enumerate(
    (_l("Level 0"), _l("Level 1"), _l("Level 2"), _l("Level 3"), _l("Level 4"), _l("Level 5")))}


class Death(Schema):
    date = day(_l("Date of death"), required=True)
    cause = choice({"physical_illness": _l("Physical illness"), "suicide": _l("Suicide"), "homicide": _l("Homicide"),
                    "accident": _l("Accident"), "psychiatric_complication": _l("Complication of the mental illness"),
                    "other": _l("Other")}, _l("Cause of death"), required=True)


class SocialFunctions(Schema):
    self_care = choice(GOOD_FAIR_POOR, _l("Looking after oneself"))
    housework = choice(GOOD_FAIR_POOR, _l("Housework"))
    work = choice(GOOD_FAIR_POOR, _l("Productive work"))
    learning = choice(GOOD_FAIR_POOR, _l("Learning"))
    social = choice(GOOD_FAIR_POOR, _l("Social contact"))


class RiskBehaviours(Schema):
    """How often since the last follow-up."""

    minor_trouble = count(0, 100, "times", _l("Minor trouble-making"))
    trouble = count(0, 100, "times", _l("Causing trouble"))
    disaster = count(0, 100, "times", _l("Causing a disaster"))
    other_harm = count(0, 100, "times", _l("Other harmful behaviour"))
    self_harm = count(0, 100, "times", _l("Self-harm"))
    attempted_suicide = count(0, 100, "times", _l("Attempted suicide"))


@sealed_form(FOLLOWUP_PLAIN)
class SevereMentalDisorderFollowup(Followup):
    lost = choice({"working_away": _l("Working away"), "moved": _l("Moved elsewhere"), "missing": _l("Missing"),
                   "three_missed": _l("Three visits missed in a row"), "other": _l("Other")},
                  _l("Lost to follow-up because"))
    death = group(Death, _l("Death"))
    risk_level = choice(RISK_LEVELS, _l("Risk assessment"))
    symptoms = codes({"hallucinations": _l("Hallucinations"), "communication": _l("Difficulty communicating"),
                      "suspicion": _l("Suspicion"), "mood_swings": _l("Moody"), "odd_behaviour": _l("Odd behaviour"),
                      "excited": _l("Excited and talkative"), "violence": _l("Hurting people or damaging things"),
                      "pessimism": _l("Pessimistic, weary of life"), "wandering": _l("Wandering off"),
                      "talking_alone": _l("Talking or laughing alone"), "withdrawn": _l("Withdrawn and idle"),
                      "other": _l("Other")}, _l("Current symptoms"))
    symptoms_other = short(_l("Other symptoms"))
    insight = choice({"full": _l("Full insight"), "partial": _l("Partial insight"), "none": _l("No insight")},
                     _l("Insight"))
    sleep = choice(GOOD_FAIR_POOR, _l("Sleep"))
    appetite = choice(GOOD_FAIR_POOR, _l("Appetite"))
    social_functions = group(SocialFunctions, _l("Social functioning"))
    risk_behaviours = group(RiskBehaviours, _l("Dangerous behaviour"))
    confinement = choice({"none": _l("Not locked up"), "confined": _l("Locked up"), "released": _l("Released")},
                         _l("Locked up since the last visit"))
    hospital = choice({"never": _l("Never in hospital"), "now": _l("In hospital now"),
                       "before": _l("In hospital before, not now")}, _l("Hospital stays"))
    last_discharged = day(_l("Last discharged"))
    lab_tests = presence(_l("Laboratory tests"))
    adherence = choice({"regular": _l("Regular as prescribed"), "intermittent": _l("Intermittent"),
                        "none": _l("Not taking"), "not_needed": _l("No medication prescribed")},
                       _l("Medication adherence"))
    adverse_reaction = choice(REACTION, _l("Adverse drug reaction"))
    adverse_reactions = text(_l("Adverse reactions"))
    treatment_effect = choice({"recovered": _l("Recovered"), "improved": _l("Improved"),
                               "unchanged": _l("Unchanged"), "worse": _l("Worse")}, _l("Treatment effect"))
    medications = medications()
    medication_guidance = text(_l("Medication guidance"))
    rehabilitation = codes({"daily_living": _l("Daily living skills"), "vocational": _l("Vocational training"),
                            "learning": _l("Learning ability"), "social": _l("Social skills"), "other": _l("Other")},
                           _l("Rehabilitation"))
    rehabilitation_other = short(_l("Other rehabilitation"))
    classification = choice(CLASSIFICATION, _l("Classification of this follow-up"))

    @validates_schema
    def complete(self, data, **kwargs):
        seen = not data.get("lost") and not data.get("death")
        for name in ("risk_level", "classification"):
            requires(data, name, seen, "Required when the patient was seen (not lost, not dead).")
        other_needs_text(data, "symptoms", "symptoms_other")
        other_needs_text(data, "rehabilitation", "rehabilitation_other")
        requires(data, "adverse_reactions", data.get("adverse_reaction") == "present", "Describe the adverse reaction.")
