"""Resident archives: what the API and forms accept and answer.

Shapes and formats are checked here; how the parts must agree (ID card against birth
date and sex, guardian for residents without a card) is the service's job.
"""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from healthrec.archives.rules import POPULATIONS
from schemas.access import ConsentIn
from schemas.common import ArchiveId
from schemas.paging import Page, PageQuery

PHONE = validate.Regexp(
    r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$",
    error="Give an 11-digit mobile number (13812345678) or a landline with its area code (0370-7654321).")
ROUGH_DATE = validate.Regexp(
    r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$",
    error="Use YYYY, YYYY-MM or YYYY-MM-DD.")
RELATIONS = ("father", "mother", "grandparent", "spouse", "child", "sibling", "other")
DISABILITIES = ("visual", "hearing", "speech", "physical", "intellectual", "mental", "other")
CLOSE_REASONS = ("death", "moved_away", "duplicate", "other")
VERDICTS = ("qualified", "needs_correction")


def text(maximum, **kwargs):
    return fields.String(validate=validate.Length(min=1, max=maximum), **kwargs)


class Guardian(Schema):
    name = text(50, required=True)
    relation = fields.String(required=True, validate=validate.OneOf(RELATIONS))
    phone = fields.String(validate=PHONE)
    id_card = fields.String(validate=validate.Length(max=30))


class FamilyHistoryItem(Schema):
    relation = fields.String(required=True, validate=validate.OneOf(("father", "mother", "sibling", "child")))
    condition = text(100, required=True)


class Event(Schema):
    name = text(100, required=True)
    date = fields.String(validate=ROUGH_DATE, metadata={"description": "YYYY, YYYY-MM or YYYY-MM-DD"})


class PastHistory(Schema):
    diseases = fields.List(fields.Nested(Event))
    surgeries = fields.List(fields.Nested(Event))
    injuries = fields.List(fields.Nested(Event))
    transfusions = fields.List(fields.Nested(Event))


class ArchiveChange(Schema):
    """A PATCH: only the fields sent change, an object (guardian, past_history) as a
    whole; null clears an optional field."""

    name = text(50)
    sex = fields.String(validate=validate.OneOf(("male", "female")))
    birth_date = fields.Date()
    id_card = fields.String(allow_none=True, validate=validate.Length(max=30),
                            metadata={"description": "18 characters; a lower-case x is accepted"})
    phone = fields.String(allow_none=True, validate=PHONE)
    address = text(200, allow_none=True)
    guardian = fields.Nested(Guardian, allow_none=True)
    family_history = fields.List(fields.Nested(FamilyHistoryItem), allow_none=True,
                                 metadata={"description": "[] means none known"})
    past_history = fields.Nested(PastHistory, allow_none=True,
                                 metadata={"description": "{} means none known"})
    allergies = fields.List(text(50), allow_none=True, metadata={"description": "[] means none known"})
    disabilities = fields.List(fields.String(validate=validate.OneOf(DISABILITIES)), allow_none=True)
    key_populations = fields.List(fields.String(validate=validate.OneOf(POPULATIONS)), allow_none=True)
    responsible_doctor = fields.String(allow_none=True, validate=validate.Length(min=1, max=64),
                                       metadata={"description": "username; defaults to the creating village doctor"})


class EnrolmentConsent(ConsentIn):
    """Enrolment is voluntary (the plan's principle): an archive is kept only with consent."""

    decision = fields.String(load_default="granted", validate=validate.Equal(
        "granted", error="An archive is kept only with the resident's consent: send granted, "
                         "or do not create the archive."))


class ArchiveCreate(ArchiveChange):
    village_code = fields.String(required=True, validate=validate.Regexp(
        r"^\d{12}$", error="Give the 12-digit village code."))
    name = text(50, required=True)
    sex = fields.String(required=True, validate=validate.OneOf(("male", "female")))
    birth_date = fields.Date(required=True)
    enrolment_consent = fields.Nested(EnrolmentConsent, metadata={
        "description": "Who agreed to the archive and how; appended to its consent log."})


class Completeness(Schema):
    complete = fields.Boolean()
    missing = fields.List(fields.String())


class Review(Schema):
    verdict = fields.String(metadata={"enum": list(VERDICTS)})
    note = fields.String(allow_none=True)
    by = fields.String()
    at = fields.DateTime()
    version = fields.Integer(metadata={"description": "the archive version reviewed"})


class Closure(Schema):
    reason = fields.String(metadata={"enum": list(CLOSE_REASONS)})
    date = fields.String(metadata={"format": "date"})
    note = fields.String(allow_none=True)
    duplicate_of = fields.String(allow_none=True)
    by = fields.String()
    at = fields.DateTime()


class FieldWarning(Schema):
    field = fields.String()
    message = fields.String()


class ArchiveSummary(Schema):
    id = fields.String()
    village_code = fields.String()
    status = fields.String(metadata={"enum": ["open", "closed"]})
    name = fields.String()
    sex = fields.String()
    birth_date = fields.Date()
    key_populations = fields.List(fields.String())
    responsible_doctor = fields.String(allow_none=True)
    completeness = fields.Nested(Completeness)
    review = fields.Nested(Review, allow_none=True)
    version = fields.Integer()


class Archive(ArchiveSummary):
    id_card = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    guardian = fields.Nested(Guardian, allow_none=True)
    family_history = fields.List(fields.Nested(FamilyHistoryItem), allow_none=True)
    past_history = fields.Nested(PastHistory, allow_none=True)
    allergies = fields.List(fields.String(), allow_none=True)
    disabilities = fields.List(fields.String(), allow_none=True)
    closed = fields.Nested(Closure, allow_none=True)
    established_on = fields.Date(allow_none=True, metadata={
        "description": "建档日期: the day the archive was made; for an archive brought in from paper, "
                       "the day on the paper"})
    created_at = fields.DateTime()
    created_by = fields.String()
    updated_at = fields.DateTime()
    updated_by = fields.String()
    warnings = fields.List(fields.Nested(FieldWarning), metadata={"description": "on create and update only"})


class ArchiveQuery(PageQuery):
    village = fields.String(validate=validate.Regexp(r"^\d{12}$", error="Give a 12-digit village code."))
    name = text(50, metadata={"description": "the full name, matched exactly"})
    id_card = fields.String(validate=validate.Length(max=30))
    status = fields.String(validate=validate.OneOf(("open", "closed")))
    review = fields.String(validate=validate.OneOf(VERDICTS + ("none",)),
                           metadata={"description": "none: not reviewed yet"})


class ArchiveList(Page):
    items = fields.List(fields.Nested(ArchiveSummary))


class CloseRequest(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(CLOSE_REASONS))
    date = fields.Date(required=True)
    note = text(500)
    duplicate_of = ArchiveId(metadata={"description": "with reason duplicate: the archive kept"})

    @validates_schema
    def reason_needs(self, data, **kwargs):
        if data.get("reason") == "duplicate" and not data.get("duplicate_of"):
            raise ValidationError("Name the archive that is kept.", "duplicate_of")
        if data.get("reason") == "other" and not data.get("note"):
            raise ValidationError("Say why in a note when the reason is 'other'.", "note")


class ReviewRequest(Schema):
    verdict = fields.String(required=True, validate=validate.OneOf(VERDICTS))
    note = text(500)

    @validates_schema
    def correction_needs_note(self, data, **kwargs):
        if data.get("verdict") == "needs_correction" and not data.get("note"):
            raise ValidationError("Tell the village doctor what to correct.", "note")
