"""The building blocks of the record forms: field factories that name their range and
unit in every message, the sealed marker, shared sub-forms, and the fields every record has.

Fields marked `sealed` hold free text or diagnoses and are stored encrypted; fields marked
`state` are set by the service (a referral's receipt), never by the client. A record
travels in its JSON form (dates as YYYY-MM-DD strings): `registry.validate_record` loads a
body and dumps it back, so what is stored, hashed for idempotency and returned is the same
plain JSON.
"""

from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from healthrec.clock import today

EARLIEST = date(1900, 1, 1)
TEXT_MAX = 2000
NAME_MAX = 100

SEALED = {"sealed": True}


class Day(fields.Date):
    """A calendar day. Stored records keep days as ISO strings, so a stored record dumps
    through its form as it is."""

    def _serialize(self, value, attr, obj, **kwargs):
        return value if isinstance(value, str) else super()._serialize(value, attr, obj, **kwargs)


def past_date(value):
    """A day that has happened: from 1900-01-01 to today (China time)."""
    if not EARLIEST <= value <= today():
        raise ValidationError(f"Must be between {EARLIEST.isoformat()} and today ({today().isoformat()}).")


def between(low, high, unit):
    return validate.Range(low, high, error=f"Must be between {low} and {high} {unit}.")


def measure(low, high, unit, **kwargs):
    return fields.Float(validate=between(low, high, unit), metadata={"unit": unit}, **kwargs)


def count(low, high, unit, **kwargs):
    return fields.Integer(validate=between(low, high, unit), metadata={"unit": unit}, **kwargs)


def choice(values, description=None, **kwargs):
    metadata = {"enum": list(values), **({"description": description} if description else {})}
    return fields.String(validate=validate.OneOf(values, error="Must be one of: {choices}."),
                         metadata=metadata, **kwargs)


def codes(values, **kwargs):
    return fields.List(choice(values), **kwargs)


def text(description=None, max_length=TEXT_MAX, **kwargs):
    """Free text: encrypted at rest."""
    metadata = {**SEALED, "description": description} if description else SEALED
    return fields.String(validate=validate.Length(min=1, max=max_length,
                                                  error=f"Must be 1 to {max_length} characters."),
                         metadata=metadata, **kwargs)


def label(**kwargs):
    return fields.String(validate=validate.Length(min=1, max=NAME_MAX,
                                                  error=f"Must be 1 to {NAME_MAX} characters."), **kwargs)


def bmi(weight, height):
    return round(weight / (height / 100) ** 2, 1)


class BloodPressure(Schema):
    systolic = count(50, 300, "mmHg", required=True)
    diastolic = count(30, 200, "mmHg", required=True)

    @validates_schema
    def diastolic_below_systolic(self, data, **kwargs):
        if data.get("diastolic", 0) >= data.get("systolic", 1000):
            raise ValidationError("Must be lower than the systolic pressure.", "diastolic")


class Medication(Schema):
    name = label(required=True)
    usage = label(metadata={"description": "e.g. 每日2次 / twice a day"})
    dose = label(metadata={"description": "e.g. 5mg"})
    adherence = choice(("regular", "intermittent", "none"))


def medications():
    # The whole list is one sealed value: drug names tell what a person is treated for.
    return fields.List(fields.Nested(Medication), metadata=SEALED)


class Weighed(Schema):
    """Weight and height with the BMI computed from them."""

    weight = measure(2, 300, "kg")
    height = measure(40, 250, "cm")
    bmi = fields.Float(dump_only=True, metadata={"description": "computed from height and weight, kg/m²"})

    @post_load
    def compute_bmi(self, data, **kwargs):
        if "height" in data and "weight" in data:
            data["bmi"] = bmi(data["weight"], data["height"])
        return data


class Record(Schema):
    """Fields every kind has."""

    kind = fields.String(required=True)
    date = Day(required=True, validate=past_date, metadata={"description": "day of the service"})
    note = text()


def no_other_with_none(values, field):
    if values and "none" in values and len(values) > 1:
        raise ValidationError("'none' cannot be combined with other symptoms.", field)


