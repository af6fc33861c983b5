"""HTML forms drawn from the API's marshmallow schemas, and submitted forms turned back
into the API's JSON body.

A form field's name is the field's dotted path in the API body (`guardian.name`,
`blood_pressure.systolic`, `records.0.date`), so the errors the schema or the service
answer, keyed by that path, land next to their field. Labels come from the fields'
metadata (`label`, and `labels` for the codes of a coded field); without them the
field's name is shown.
"""

import re
from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l
from marshmallow import fields, validate

# Longer texts than this get a text area.
LONG_TEXT = 200
# Radio buttons up to this many choices, a drop-down list beyond.
FEW_CHOICES = 4
# A question that must be answered yes or no: an unticked box could not say "no".
YES_NO = [("true", _l("Yes")), ("false", _l("No"))]


@dataclass
class Widget:
    """One field of a form as the template draws it."""

    kind: str  # fieldset, rows, checkboxes, radios, select, checkbox, date, number, text, textarea, lines
    name: str  # the dotted path in the API body
    label: str
    required: bool = False
    value: object = None
    errors: list = field(default_factory=list)
    children: list = field(default_factory=list)  # a fieldset's widgets
    rows: list = field(default_factory=list)  # a list of objects: each row's widgets
    choices: list = field(default_factory=list)  # (code, label)
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    step: str | None = None
    maxlength: int | None = None
    none_known: bool | None = None  # None: no "none known" box; else whether it is ticked
    open: bool = False  # a fieldset with something in it (shown unfolded)

    @property
    def id(self):
        return "f-" + self.name.replace(".", "-")


def label_of(name, schema_field):
    return schema_field.metadata.get("label") or name


def validator(schema_field, kind):
    return next((v for v in schema_field.validators if isinstance(v, kind)), None)


def codes_of(schema_field):
    """The codes a coded field accepts with their labels, or None for a free field."""
    one_of, equal = validator(schema_field, validate.OneOf), validator(schema_field, validate.Equal)
    codes = (list(one_of.choices) if one_of else [equal.comparable] if equal
             else schema_field.metadata.get("enum"))
    if codes is None:
        return None
    labels = schema_field.metadata.get("labels") or {}
    return [(code, labels.get(code, code)) for code in codes]


def as_text(value):
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def widgets(schema, values=None, errors=None, prefix="", skip=(), none_known=()):
    """The widgets of `schema`'s input fields, filled with `values` (an API body) and the
    `errors` (dotted path -> messages). `none_known` names the list and object fields that
    get a "none known" box: an empty list or object there means "asked, none"."""
    values, errors = values or {}, errors or {}
    out = []
    for name, schema_field in schema.fields.items():
        if schema_field.dump_only or name in skip:
            continue
        out.append(widget(f"{prefix}{name}", name, schema_field, values.get(name), errors, none_known))
    return out


def widget(path, name, schema_field, value, errors, none_known):
    w = Widget("text", path, label_of(name, schema_field), schema_field.required, errors=errors.get(path, []))
    if isinstance(schema_field, fields.List) and not isinstance(schema_field.inner, fields.Nested):
        # A list drawn as one field shows its items' errors (`checkers.1`) next to it.
        w.errors = w.errors + [message for key, messages in errors.items()
                               if re.fullmatch(re.escape(path) + r"\.\d+", key) for message in messages]
    if path in none_known:
        w.none_known = value in ([], {})
    if isinstance(schema_field, fields.Nested):
        w.kind = "fieldset"
        w.children = widgets(schema_field.schema, value if isinstance(value, dict) else {}, errors, path + ".")
    elif isinstance(schema_field, fields.List) and isinstance(schema_field.inner, fields.Nested):
        w.kind = "rows"
        items = [item for item in value or [] if isinstance(item, dict)]
        # One empty row more than filled: another press of "add a row" adds the next.
        w.rows = [widgets(schema_field.inner.schema, item, errors, f"{path}.{n}.")
                  for n, item in enumerate([*items, {}])]
    elif isinstance(schema_field, fields.List):
        inner_codes = codes_of(schema_field.inner)
        if inner_codes is not None:
            labels = schema_field.metadata.get("labels") or {}
            w.kind, w.value = "checkboxes", [as_text(v) for v in value or []]
            w.choices = [(code, labels.get(code, text)) for code, text in inner_codes]
        else:
            w.kind, w.value = "lines", "\n".join(as_text(v) for v in value or [])
    elif isinstance(schema_field, fields.Boolean) and schema_field.required:
        w.kind, w.choices = "radios", YES_NO
        w.value = "" if value is None else as_text(value).lower()
    elif isinstance(schema_field, fields.Boolean):
        w.kind, w.value = "checkbox", bool(value)
    elif (codes := codes_of(schema_field)) is not None:
        w.kind = "radios" if len(codes) <= FEW_CHOICES else "select"
        w.choices, w.value = codes, as_text(value)
    elif isinstance(schema_field, fields.Date):
        w.kind, w.value = "date", as_text(value)
    elif isinstance(schema_field, fields.Integer | fields.Float):
        w.kind, w.value = "number", as_text(value)
        w.unit = schema_field.metadata.get("unit")
        w.step = "1" if isinstance(schema_field, fields.Integer) else "any"
        if (bounds := validator(schema_field, validate.Range)) is not None:
            w.low, w.high = bounds.min, bounds.max
    else:
        length = validator(schema_field, validate.Length)
        w.maxlength = length.max if length else None
        w.kind = "textarea" if w.maxlength and w.maxlength > LONG_TEXT else "text"
        w.value = as_text(value)
    w.open = bool(value) or w.none_known is True or any(key == path or key.startswith(path + ".") for key in errors)
    return w


# --- From a submitted form to the API's body ---------------------------------------------

def body(schema, form, prefix="", skip=(), none_known=()):
    """The API body a submitted `form` (a MultiDict) gives for `schema`: empty inputs are
    left out, numbers sent as numbers when they are numbers (anything else goes through as
    typed, for the schema to refuse with its own message)."""
    out = {}
    for name, schema_field in schema.fields.items():
        if schema_field.dump_only or name in skip:
            continue
        path = prefix + name
        value = field_value(path, schema_field, form)
        if value in (None, "", [], {}):
            if path in none_known and form.get(path + ".none"):
                value = {} if isinstance(schema_field, fields.Nested) else []
            else:
                continue
        out[name] = value
    return out


def field_value(path, schema_field, form):
    if isinstance(schema_field, fields.Nested):
        return body(schema_field.schema, form, path + ".")
    if isinstance(schema_field, fields.List) and isinstance(schema_field.inner, fields.Nested):
        return [row for row in (body(schema_field.inner.schema, form, f"{path}.{n}.")
                                for n in row_numbers(form, path)) if row]
    if isinstance(schema_field, fields.List):
        if codes_of(schema_field.inner) is not None:
            return [code for code in form.getlist(path) if code]
        return [line.strip() for line in form.get(path, "").splitlines() if line.strip()]
    if isinstance(schema_field, fields.Boolean):
        answer = form.get(path)
        return False if answer == "false" else True if answer else None
    raw = form.get(path, "").strip()
    if raw and isinstance(schema_field, fields.Integer | fields.Float):
        return number(raw, schema_field)
    return raw


def row_numbers(form, path):
    pattern = re.compile(re.escape(path) + r"\.(\d+)\.")
    return sorted({int(found.group(1)) for key in form if (found := pattern.match(key))})


def number(raw, schema_field):
    try:
        value = float(raw)
    except ValueError:
        return raw
    if isinstance(schema_field, fields.Integer):
        return int(value) if value.is_integer() else raw
    return value


def diff(old, new):
    """The changes that turn `old` into `new` as an amendment takes them: objects merge
    field by field, null removes a field, anything else replaces the old value."""
    changes = {name: None for name in old if name not in new}
    for name, value in new.items():
        if isinstance(value, dict) and isinstance(old.get(name), dict):
            inner = diff(old[name], value)
            if inner:
                changes[name] = inner
        elif value != old.get(name):
            changes[name] = value
    return changes
