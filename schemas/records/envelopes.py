"""What the records API takes and answers around the forms: bodies, queries, and answers
that are the form's own fields plus who, when and which version."""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate

from schemas.archive_codes import POPULATIONS
from schemas.form import choice, count
from schemas.paging import Page, PageQuery
from schemas.records.children import VISITS as CHILD_VISITS
from schemas.records.fields import Day
from schemas.records.registry import KIND_LABELS, ByField, FollowupForm, RecordForm, validate_record

BATCH_MAX = 20


class RecordBody(RecordForm):
    """A new record (see the forms under RecordForm)."""

    def load(self, data, **kwargs):
        # Records are kept in their JSON form: validate_record loads and dumps back.
        return validate_record(data)


class RecordBatchBody(Schema):
    """The forms of one visit (a checkup with its follow-ups, say), appended together."""

    records = fields.List(fields.Nested(RecordForm), required=True,
                          metadata={"description": f"1 to {BATCH_MAX} record bodies"})

    def load(self, data, **kwargs):
        forms = data.get("records") if isinstance(data, dict) else None
        if not isinstance(forms, list) or not 1 <= len(forms) <= BATCH_MAX or set(data) != {"records"}:
            raise ValidationError({"records": [f"Must be a list of 1 to {BATCH_MAX} record bodies, and alone."]})
        valid, errors = [], {}
        for n, form in enumerate(forms):
            try:
                valid.append(validate_record(form))
            except ValidationError as error:
                # validate_record always answers a dict of dotted field paths
                errors.update({f"records.{n}.{field}": messages
                               for field, messages in error.normalized_messages().items()})
        if errors:
            raise ValidationError(errors)
        return {"records": valid}


class AmendBody(Schema):
    changes = fields.Dict(required=True, validate=validate.Length(min=1, error="Name at least one change."),
                          metadata={"description": "fields to change; objects merge, null removes a field"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500,
                                                                   error="Must be 1 to 500 characters."))


class TimelineQuery(PageQuery):
    kind = choice(KIND_LABELS, _l("Kind of record"))
    population = choice(POPULATIONS, _l("Key population"))
    since = fields.Date(metadata={"description": "records on or after this day"})
    history = fields.Boolean(load_default=False, metadata={"description": "include superseded versions"})


class DueQuery(Schema):
    village = fields.String(required=True, validate=validate.Regexp(r"^\d{12}$", error="Must be a 12-digit "
                                                                                        "village code."))
    within = count(0, 366, "days", _l("Due within"), load_default=0,
                   metadata={"description": "also what falls due in the next N days"})


class UrgentQuery(Schema):
    region = fields.String(validate=validate.Regexp(r"^(\d{9}|\d{12})$", error="Must be a 9-digit township or "
                                                                                 "a 12-digit village code."),
                           metadata={"description": "a township or village; default your own region"})


class Change(Schema):
    type = fields.String(metadata={"enum": ["amend", "receipt"]})
    by = fields.String()
    at = fields.DateTime()
    reason = fields.String()


class Alert(Schema):
    code = fields.String(metadata={"enum": ["urgent_referral", "incomplete"]})
    detail = fields.String()


class RecordMeta(Schema):
    """What every record answered carries besides its form's fields."""

    id = fields.String(metadata={"description": "record id, the same for all its versions"})
    version = fields.Integer()
    current = fields.Boolean(metadata={"description": "false for a superseded version"})
    archive_id = fields.String()
    village = fields.String(metadata={"description": "custody: the village managing the archive now"})
    recorded_in = fields.String(metadata={"description": "the village that managed the archive when the record "
                                                         "was made"})
    late = fields.Boolean(metadata={"description": "entered after the archive was closed, from a paper form "
                                                   "dated before"})
    author = fields.String()
    created_at = fields.DateTime()
    change = fields.Nested(Change, metadata={"description": "what made this version (versions after the first)"})
    alerts = fields.List(fields.Nested(Alert), metadata={
        "description": "urgent_referral: a danger value, refer at once; incomplete: what the form still lacks "
                       "for this resident"})


def answers(suffix, extra):
    """The answer schema for every form: each form's fields plus `extra`'s, chosen by kind
    (and population) as the forms are."""
    def answer(form):
        return type(f"{form.__name__}{suffix}", (form, extra), {})

    populations = {name: answer(form) for name, form in FollowupForm.type_schemas.items()}
    followup = type(f"Followup{suffix}", (ByField,), {"type_field": "population", "type_schemas": populations})
    kinds = {kind: followup if form is FollowupForm else answer(form) for kind, form in RecordForm.type_schemas.items()}
    return type(f"Record{suffix}", (ByField,), {"type_field": "kind", "type_schemas": kinds})


RecordVersion = answers("Version", RecordMeta)


class WithHistory(RecordMeta):
    history = fields.List(fields.Nested(RecordVersion), metadata={"description": "earlier versions, newest first"})


RecordWithHistory = answers("WithHistory", WithHistory)


class RecordList(Page):
    items = fields.List(fields.Nested(RecordVersion))


class RecordItems(Schema):
    items = fields.List(fields.Nested(RecordVersion))


class IncomingQuery(PageQuery):
    status = choice({"sent": _l("Sent"), "received": _l("Received")}, _l("Status"), load_default="sent")


class IncomingReferral(Schema):
    """A referral as the receiving side's list shows it: routing only, no clinical content."""

    id = fields.String()
    archive_id = fields.String()
    version = fields.Integer()
    date = Day()
    direction = fields.String()
    from_institution = fields.String()
    to_institution = fields.String()
    to_department = fields.String()
    to_doctor = fields.String()
    to_region = fields.String()
    status = fields.String()
    author = fields.String()
    received_by = fields.String()
    received_at = fields.String(metadata={"description": "ISO 8601 time, UTC"})


class IncomingList(Page):
    items = fields.List(fields.Nested(IncomingReferral))


class ReceiptOut(Schema):
    id = fields.String()
    version = fields.Integer()
    status = fields.String()
    received_by = fields.String()
    received_at = fields.String(metadata={"description": "ISO 8601 time, UTC"})


DUE_REASONS = ["urgent_referral", "hypertension", "diabetes", "severe_mental_disorder", "tuberculosis",
               "hypertension_recheck", "diabetes_recheck", "severe_mental_disorder_recheck",
               "hypertension_face_to_face", "diabetes_face_to_face", "severe_mental_disorder_face_to_face",
               "elderly_checkup", "chronic_checkup", "child_visit", "maternal_visit"]
DUE_VISITS = [*CHILD_VISITS, "first_prenatal", "prenatal_2", "prenatal_3", "prenatal_4", "prenatal_5", "postpartum",
              "postpartum_42d"]


class DueItem(Schema):
    archive_id = fields.String()
    name = fields.String()
    reason = fields.String(metadata={"enum": DUE_REASONS})
    visit = fields.String(metadata={"enum": DUE_VISITS, "description": "child_visit and maternal_visit: which one"})
    due_on = fields.Date(metadata={"description": "the day it falls due"})
    since = fields.Date(allow_none=True, metadata={
        "description": "the day it counts from: the last visit, the reading that made it urgent, the opening of "
                       "a visit window; none for a patient never seen"})
    last_date = fields.Date(allow_none=True, metadata={"description": "last record of this kind, if any"})
    due_since = fields.Date(allow_none=True, metadata={
        "description": "as due_on, but none for a patient never seen (kept for older clients)"})
    record_id = fields.String(metadata={"description": "urgent_referral: the record with the danger value"})
    detail = fields.String(metadata={"description": "urgent_referral: the danger value"})


class DueList(Schema):
    village = fields.String()
    as_of = fields.Date()
    within = fields.Integer()
    items = fields.List(fields.Nested(DueItem))


class UrgentItem(Schema):
    archive_id = fields.String()
    name = fields.String()
    village = fields.String()
    reason = fields.String(metadata={"enum": ["urgent_referral"]})
    record_id = fields.String(metadata={"description": "the record with the danger value"})
    due_on = fields.Date(metadata={"description": "the day of the danger value: due at once"})
    since = fields.Date()
    detail = fields.String(metadata={"description": "the danger value"})


class UrgentList(Schema):
    region = fields.String()
    as_of = fields.Date()
    items = fields.List(fields.Nested(UrgentItem))
