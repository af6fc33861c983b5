"""Field factories for the forms the API takes and the web pages render from the same
schemas.

Every field carries a human label (`metadata["label"]`) and every coded field the label of
each of its codes (`metadata["labels"]`, code -> label), as Flask-Babel lazy strings with
English msgids; their Chinese is in schemas/translations. Stored values are the codes;
people see the labels. Every message says how to fix the field: a coded field lists its
codes, a measurement its range and unit.
"""

from marshmallow import ValidationError, fields, validate

TEXT_MAX = 2000
NAME_MAX = 100


def between(low, high, unit):
    return validate.Range(low, high, error=f"Must be between {low} and {high} {unit}.")


def _metadata(label, kwargs, **more):
    return {"label": label, **more, **kwargs.pop("metadata", {})}


def measure(low, high, unit, label, **kwargs):
    """A measurement with decimals, e.g. 36.6 °C."""
    return fields.Float(validate=between(low, high, unit), metadata=_metadata(label, kwargs, unit=unit), **kwargs)


def count(low, high, unit, label, **kwargs):
    """A whole number, e.g. 78 beats/min."""
    return fields.Integer(validate=between(low, high, unit), metadata=_metadata(label, kwargs, unit=unit), **kwargs)


def choice(codes, label, **kwargs):
    """One of `codes` ({code: label}); the code is stored."""
    return fields.String(validate=validate.OneOf(list(codes), error="Must be one of: {choices}."),
                         metadata=_metadata(label, kwargs, labels=codes, enum=list(codes)), **kwargs)


def codes(values, label, **kwargs):
    """Any of `values` ({code: label}), as a list of codes."""
    return fields.List(choice(values, label), metadata=_metadata(label, kwargs, labels=values), **kwargs)


def text(label, max_length=TEXT_MAX, **kwargs):
    """Free text, where the form has a line to write on."""
    return fields.String(validate=validate.Length(min=1, max=max_length,
                                                  error=f"Must be 1 to {max_length} characters."),
                         metadata=_metadata(label, kwargs), **kwargs)


def short(label, **kwargs):
    """A name: an institution, a drug, a department."""
    return text(label, NAME_MAX, **kwargs)


def flag(label, **kwargs):
    """A yes/no question."""
    return fields.Boolean(metadata=_metadata(label, kwargs), **kwargs)


def group(schema, label, **kwargs):
    """A part of the form with fields of its own."""
    return fields.Nested(schema, metadata=_metadata(label, kwargs), **kwargs)


def rows(schema, label, **kwargs):
    """A table of the form: a list of rows, each with the fields of `schema`."""
    return fields.List(fields.Nested(schema), metadata=_metadata(label, kwargs), **kwargs)


def requires(data, field, when, message):
    """Add `message` for `field` (absent or empty) when `when` holds."""
    if when and not data.get(field):
        raise ValidationError(message, field)


def picked(value, code):
    """Whether `code` is the answer, or one of the answers, of a coded field."""
    return value == code or (isinstance(value, list) and code in value)


def other_needs_text(data, field, text_field, code="other"):
    """The form's "other: ____": choosing `code` needs the line written."""
    requires(data, text_field, picked(data.get(field), code),
             f"Say what it is: '{code}' is chosen in {field}.")

