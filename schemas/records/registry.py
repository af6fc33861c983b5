"""The kind registry and the validation engine: which form a body is (by its `kind`, and a
follow-up's by its `population`), checked by that form, with one dotted error key per bad
field. The same registry describes every form in the OpenAPI document (marshmallow-oneofschema)."""

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, fields
from marshmallow_oneofschema import OneOfSchema

from healthrec.errors import dotted
from schemas.records.checkup import Checkup
from schemas.records.followups import POPULATIONS
from schemas.records.services import Consultation, Encounter, Hospitalization, Referral


class ByField(OneOfSchema):
    """A form chosen by the value of `type_field`, which stays in the body as a field of
    the form itself."""

    type_field_remove = False

    @classmethod
    def form_for(cls, value):
        form = cls.type_schemas.get(value) if isinstance(value, str) else None
        if form is None:
            raise ValidationError({cls.type_field: [f"Must be one of: {', '.join(cls.type_schemas)}."]})
        return form

    def get_data_type(self, data):
        self.form_for(data.get(self.type_field))
        return data[self.type_field]

    def get_obj_type(self, obj):
        return obj[self.type_field]


class FollowupForm(ByField):
    """A key-population follow-up: the population's own form."""

    type_field = "population"
    type_schemas = POPULATIONS


class RecordForm(ByField):
    """A service record: `kind`, `date` and the fields of that kind's form; follow-ups also
    name their `population`."""

    type_field = "kind"
    type_schemas = {
        "checkup": Checkup,
        "encounter": Encounter,
        "followup": FollowupForm,
        "referral": Referral,
        "consultation": Consultation,
        "hospitalization": Hospitalization,
    }


KINDS = tuple(RecordForm.type_schemas)
KIND_LABELS = {"checkup": _l("Health checkup"), "encounter": _l("Encounter"), "followup": _l("Follow-up"),
               "referral": _l("Referral"), "consultation": _l("Consultation"),
               "hospitalization": _l("Hospital stay")}
_instances: dict = {}


def schema_for(kind, population=None):
    """The form (a schema instance) of a kind; a follow-up's also depends on its population."""
    form = RecordForm.form_for(kind)
    if form is FollowupForm:
        form = FollowupForm.form_for(population)
    return _instances.setdefault(form, form())


def validate_record(body):
    """The record `body` checked by its form, in JSON form; ValidationError with one dotted
    key per bad field otherwise."""
    if not isinstance(body, dict):
        raise ValidationError({"_body": ["Send a JSON object."]})
    schema = schema_for(body.get("kind"), body.get("population"))
    try:
        return schema.dump(schema.load(body))
    except ValidationError as error:
        errors = dotted(error.messages)
        for path in errors:
            field = field_at(schema, path)
            if field is not None and field.dump_only:
                what = field.metadata.get("description") or "set by the service"
                errors[path] = [f"Leave this field out: it is {what}."]
        raise ValidationError(errors) from None


def field_at(schema, path):
    """The field a dotted error path names ("general.bmi", "medications.0.name"), or None."""
    field = None
    for part in path.split("."):
        if field is not None:
            if isinstance(field, fields.List):
                field = field.inner
                if part.isdigit():
                    continue
            if not isinstance(field, fields.Nested):
                return None
            schema = field.schema
        field = schema.fields.get(part)
        if field is None:
            return None
    return field


