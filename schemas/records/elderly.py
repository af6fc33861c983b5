"""老年人健康管理: the self-care assessment (老年人生活自理能力评估表) with the screens of the
annual checkup, between checkups."""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, validates_schema

from schemas.form import choice, count, group
from schemas.records.checkup import ElderlyScreens, TcmConstitution
from schemas.records.fields import Followup

LEVELS = {"independent": _l("Independent"), "mild": _l("Mildly dependent"), "moderate": _l("Moderately dependent"),
          "dependent": _l("Cannot look after oneself")}
# Points of each level for the five items of the assessment form.
ITEM_POINTS = {
    "eating": {"independent": 0, "mild": 0, "moderate": 3, "dependent": 5},
    "grooming": {"independent": 0, "mild": 1, "moderate": 3, "dependent": 7},
    "dressing": {"independent": 0, "mild": 0, "moderate": 3, "dependent": 5},
    "toileting": {"independent": 0, "mild": 1, "moderate": 5, "dependent": 10},
    "activity": {"independent": 0, "mild": 1, "moderate": 5, "dependent": 10},
}


class SelfCareItems(Schema):
    eating = choice(LEVELS, _l("Eating"), required=True)
    grooming = choice(LEVELS, _l("Grooming"), required=True)
    dressing = choice(LEVELS, _l("Dressing"), required=True)
    toileting = choice(LEVELS, _l("Toileting"), required=True)
    activity = choice(LEVELS, _l("Moving about"), required=True)


class ElderlyFollowup(Followup, ElderlyScreens):
    self_care_score = count(0, 37, "points", _l("Self-care assessment score"), required=True)
    self_care_items = group(SelfCareItems, _l("Self-care assessment"))
    tcm_constitution = group(TcmConstitution, _l("TCM constitution"))

    @validates_schema
    def score_adds_up(self, data, **kwargs):
        items = data.get("self_care_items")
        if items and data.get("self_care_score") is not None:
            total = sum(ITEM_POINTS[item][level] for item, level in items.items())
            if total != data["self_care_score"]:
                raise ValidationError(f"The five items add up to {total} points, not {data['self_care_score']}.",
                                      "self_care_score")

