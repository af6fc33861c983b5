"""The building blocks of the record forms: the sealed marker, shared sub-forms (blood
pressure, medications, an examined finding, a referral), and the fields every record and
every follow-up has. The field factories (labels, ranges, units) are in schemas.form.

Fields marked `sealed` hold free text, diagnoses or a whole sensitive form and are stored
encrypted; fields marked `state` are set by the service (a referral's receipt), never by
the client. A record travels in its JSON form (dates as YYYY-MM-DD strings):
`registry.validate_record` loads a body and dumps it back, so what is stored, hashed for
idempotency and returned is the same plain JSON.

Coded lists follow the national forms of the basic public health service specification
(国家基本公共卫生服务规范, 3rd edition); codes are English words, labels the forms' wording.
"""

import copy
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, post_load, validates_schema

from healthrec.clock import today
from schemas import form
from schemas.form import NAME_MAX, TEXT_MAX, choice, count, measure, requires, short

EARLIEST = date(1900, 1, 1)
SEALED = {"sealed": True}

NORMAL = {"normal": _l("Normal"), "abnormal": _l("Abnormal")}
PRESENCE = {"absent": _l("None"), "present": _l("Present")}
RESULT = {"negative": _l("Negative"), "positive": _l("Positive")}
ADHERENCE = {"regular": _l("Regular"), "intermittent": _l("Intermittent"), "none": _l("Not taking")}
GOOD_FAIR_POOR = {"good": _l("Good"), "fair": _l("Fair"), "poor": _l("Poor")}
METHODS = {"clinic": _l("At the clinic"), "home": _l("Home visit"), "phone": _l("By phone")}


def text(label, max_length=TEXT_MAX, **kwargs):
    """Free text: encrypted at rest."""
    metadata = {**SEALED, **kwargs.pop("metadata", {})}
    return form.text(label, max_length, metadata=metadata, **kwargs)


def sealed(field):
    """`field` as one encrypted value (a diagnosis list, a whole sensitive part)."""
    field.metadata = {**field.metadata, **SEALED}
    return field


def sealed_form(plain):
    """A class decorator: every field of the form is sealed except those named in
    `plain` (what lists and indicators need: kind, date, population, method, next day)."""
    def seal_all(cls):
        for name, field in cls._declared_fields.items():
            if name not in plain and not field.metadata.get("sealed"):
                # Inherited fields are shared with other forms: seal a copy.
                cls._declared_fields[name] = sealed(copy.copy(field))
        return cls
    return seal_all


class Day(fields.Date):
    """A calendar day. Stored records keep days as ISO strings, so a stored record dumps
    through its form as it is."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


def past_date(value):
    """A day that has happened: from 1900-01-01 to today (China time)."""
    if not EARLIEST <= value <= today():
        raise ValidationError(f"Must be between {EARLIEST.isoformat()} and today ({today().isoformat()}).")


def not_before(data, later, earlier, what):
    """The day `later` may not come before the day `earlier` (`what`, in words)."""
    if later in data and earlier in data and data[later] < data[earlier]:
        raise ValidationError(f"Must not be before {what} ({data[earlier].isoformat()}).", later)


def day(label, **kwargs):
    """A day that has happened."""
    return Day(validate=past_date, metadata={"label": label, **kwargs.pop("metadata", {})}, **kwargs)


def bmi(weight, height):
    return round(weight / (height / 100) ** 2, 1)


class BloodPressure(Schema):
    systolic = count(50, 300, "mmHg", _l("Systolic"), required=True)
    diastolic = count(30, 200, "mmHg", _l("Diastolic"), required=True)

    @validates_schema
    def diastolic_below_systolic(self, data, **kwargs):
        if data.get("diastolic", 0) >= data.get("systolic", 1000):
            raise ValidationError("Must be lower than the systolic pressure.", "diastolic")


def blood_pressure(label=None, **kwargs):
    return form.group(BloodPressure, label or _l("Blood pressure"), **kwargs)


class Medication(Schema):
    name = short(_l("Drug"), required=True)
    usage = short(_l("Usage"), metadata={"description": "e.g. 每日2次 / twice a day"})
    dose = short(_l("Dose"), metadata={"description": "e.g. 5mg"})
    duration = short(_l("Taken for"), metadata={"description": "e.g. 3年 / 3 years"})
    adherence = choice(ADHERENCE, _l("Adherence"))


def medications():
    # The whole list is one sealed value: drug names tell what a person is treated for.
    return form.rows(Medication, _l("Medication"), metadata=SEALED)


class Finding(Schema):
    """An examined item of the form's "1 normal 2 abnormal: ____" kind."""

    result = choice(NORMAL, _l("Result"), required=True)
    detail = text(_l("Details"), NAME_MAX)

    @validates_schema
    def abnormal_described(self, data, **kwargs):
        requires(data, "detail", data.get("result") == "abnormal", "Describe what is abnormal.")


class Presence(Schema):
    """An item of the form's "1 none 2 present: ____" kind."""

    result = choice(PRESENCE, _l("Result"), required=True)
    detail = text(_l("Details"), NAME_MAX)

    @validates_schema
    def present_described(self, data, **kwargs):
        requires(data, "detail", data.get("result") == "present", "Say what is present.")


def finding(label, **kwargs):
    return form.group(Finding, label, **kwargs)


def presence(label, **kwargs):
    return form.group(Presence, label, **kwargs)


class Weighed(Schema):
    """Weight and height with the BMI computed from them."""

    weight = measure(2, 300, "kg", _l("Weight"))
    height = measure(40, 250, "cm", _l("Height"))
    bmi = fields.Float(dump_only=True, metadata={"label": _l("Body mass index"),
                                                 "description": "computed from height and weight, kg/m²"})

    @post_load
    def compute_bmi(self, data, **kwargs):
        if "height" in data and "weight" in data:
            data["bmi"] = bmi(data["weight"], data["height"])
        return data


REFERRAL_RESULTS = {"arrived": _l("Arrived"), "not_arrived": _l("Did not arrive")}


class FollowupReferral(Schema):
    """转诊 on a follow-up form: why, where to, and whether the patient got there."""

    reason = text(_l("Reason for referral"), required=True)
    institution = sealed(short(_l("Institution"), required=True))
    department = sealed(short(_l("Department")))
    contact = sealed(short(_l("Contact person and phone")))
    result = choice(REFERRAL_RESULTS, _l("Result"), metadata={"description": "known at the next contact"})


class Record(Schema):
    """Fields every kind has."""

    kind = fields.String(required=True, metadata={"label": _l("Kind of record")})
    date = day(_l("Date"), required=True, metadata={"description": "day of the service"})
    note = text(_l("Note"))


class Followup(Record):
    """Fields every follow-up form has."""

    population = fields.String(required=True, metadata={"label": _l("Key population")})
    method = choice(METHODS, _l("Follow-up method"), metadata={
        "description": "clinic and home visits are face to face; a phone call is not"})
    next_followup = Day(metadata={"label": _l("Next follow-up"),
                                  "description": "planned day of the next follow-up, within a year"})
    referral = form.group(FollowupReferral, _l("Referral"))

    @validates_schema
    def next_after_this(self, data, **kwargs):
        planned, day = data.get("next_followup"), data.get("date")
        if planned and day and not day < planned <= day + timedelta(days=366):
            raise ValidationError(
                f"Must be after the follow-up date and within a year: {day + timedelta(days=1)} "
                f"to {day + timedelta(days=366)}.", "next_followup")


# What a sensitive form leaves plain: the lists and indicators work from these.
FOLLOWUP_PLAIN = ("kind", "date", "population", "method", "next_followup")


def no_other_with_none(values, field, none="none"):
    """A list of ticked answers where `none` ("no symptoms", "nothing abnormal") stands alone."""
    if values and none in values and len(values) > 1:
        raise ValidationError(f"'{none}' cannot be combined with other answers.", field)

