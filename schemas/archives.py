"""Resident archives: what the API and forms accept and answer.

Shapes and formats are checked here; how the parts must agree (ID card against birth
date and sex, guardian for residents without a card) is the service's job.
"""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from healthrec.archives.rules import POPULATIONS
from schemas import archive_codes as codes
from schemas.access import ConsentIn
from schemas.common import ArchiveId
from schemas.form import choice, group, other_needs_text, requires, rows, short, text
from schemas.form import codes as code_list
from schemas.paging import Page, PageQuery

PHONE = validate.Regexp(
    r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$",
    error="Give an 11-digit mobile number (13812345678) or a landline with its area code (0370-7654321).")
ROUGH_DATE = validate.Regexp(
    r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$",
    error="Use YYYY, YYYY-MM or YYYY-MM-DD.")
CLOSE_REASONS = {"death": _l("Death"), "moved_away": _l("Moved away"), "lost_to_follow_up": _l("Lost to follow-up"),
                 "duplicate": _l("Duplicate archive"), "other": _l("Other")}
VERDICTS = {"qualified": _l("Qualified"), "needs_correction": _l("Needs correction")}
KEY_POPULATIONS = {name: codes.POPULATIONS[name] for name in POPULATIONS}


def phone_field(label, **kwargs):
    return fields.String(validate=PHONE, metadata={"label": label}, **kwargs)


def rough_date(label, **kwargs):
    return fields.String(validate=ROUGH_DATE, metadata={"label": label, "description": "YYYY, YYYY-MM or YYYY-MM-DD"},
                         **kwargs)


class Guardian(Schema):
    name = short(_l("Guardian's name"), required=True)
    relation = choice(codes.RELATIONS, _l("Relation to the resident"), required=True)
    phone = phone_field(_l("Guardian's phone"))
    id_card = fields.String(validate=validate.Length(max=30), metadata={"label": _l("Guardian's ID card number")})


class Contact(Schema):
    """联系人: someone close to the resident to reach them through."""

    name = short(_l("Contact's name"), required=True)
    phone = phone_field(_l("Contact's phone"), required=True)


class BloodType(Schema):
    abo = choice(codes.ABO, _l("ABO blood group"), required=True)
    rh = choice(codes.RH, _l("Rh blood group"), required=True)


class FamilyHistoryItem(Schema):
    """One relative's conditions (家族史). `condition` is the form's "other" line, or the
    condition in words as clients sent it before the coded list."""

    relation = choice(codes.RELATIVES, _l("Relative"), required=True)
    conditions = code_list(codes.FAMILY_CONDITIONS, _l("Conditions"))
    condition = short(_l("Other condition"))

    @validates_schema
    def named(self, data, **kwargs):
        requires(data, "condition", not data.get("conditions"), "Tick the relative's conditions, or name one.")
        other_needs_text(data, "conditions", "condition")


class Disease(Schema):
    """A disease of the past history (既往史), with the date it was diagnosed. `name` is the
    site of a cancer, the name of an occupational or other disease, or the disease in words
    as clients sent it before the coded list."""

    code = choice(codes.DISEASES, _l("Disease"))
    name = short(_l("Name or site"))
    date = rough_date(_l("Date diagnosed"))

    @validates_schema
    def named(self, data, **kwargs):
        code = data.get("code")
        requires(data, "name", code is None or code in codes.NAMED_DISEASES,
                 "Name the disease (the site of a cancer)." if code else "Give the disease's code, or name it.")


class Event(Schema):
    name = short(_l("What"), required=True)
    date = rough_date(_l("When"))


class PastHistory(Schema):
    diseases = rows(Disease, _l("Diseases"))
    surgeries = rows(Event, _l("Operations"))
    injuries = rows(Event, _l("Injuries"))
    transfusions = rows(Event, _l("Blood transfusions (reason)"))


class LivingConditions(Schema):
    """生活环境, asked in rural villages."""

    kitchen_exhaust = choice(codes.KITCHEN_EXHAUST, _l("Kitchen exhaust"), required=True)
    fuel = choice(codes.FUEL, _l("Cooking fuel"), required=True)
    water = choice(codes.WATER, _l("Drinking water"), required=True)
    toilet = choice(codes.TOILET, _l("Toilet"), required=True)
    livestock_pen = choice(codes.LIVESTOCK_PEN, _l("Livestock pen"), required=True)


class ArchiveChange(Schema):
    """A PATCH: only the fields sent change, an object (guardian, past_history) as a
    whole; null clears an optional field. Lists: [] means asked, none."""

    name = text(_l("Name"), 50)
    sex = choice(codes.SEX, _l("Sex"), metadata={"description": "GB/T 2261.1"})
    birth_date = fields.Date(metadata={"label": _l("Date of birth")})
    id_card = fields.String(allow_none=True, validate=validate.Length(max=30),
                            metadata={"label": _l("ID card number"),
                                      "description": "18 characters; a lower-case x is accepted"})
    phone = phone_field(_l("Phone"), allow_none=True)
    address = text(_l("Current address"), 200, allow_none=True)
    registered_address = text(_l("Registered (hukou) address"), 200, allow_none=True)
    work_unit = short(_l("Work unit"), allow_none=True,
                      metadata={"description": "the last one for the retired; 'none' in words if there is none"})
    contact = group(Contact, _l("Contact person"), allow_none=True)
    guardian = group(Guardian, _l("Guardian"), allow_none=True)
    residence_type = choice(codes.RESIDENCE, _l("Residence type"), allow_none=True)
    ethnicity = choice(codes.ETHNICITY, _l("Ethnic group"), allow_none=True, metadata={"description": "GB/T 3304"})
    blood_type = group(BloodType, _l("Blood type"), allow_none=True)
    education = choice(codes.EDUCATION, _l("Education"), allow_none=True)
    occupation = choice(codes.OCCUPATION, _l("Occupation"), allow_none=True)
    marital_status = choice(codes.MARITAL_STATUS, _l("Marital status"), allow_none=True)
    payment_methods = code_list(codes.PAYMENT_METHODS, _l("Medical expenses paid by"), allow_none=True)
    payment_other = short(_l("Other payment"), allow_none=True)
    drug_allergies = code_list(codes.DRUG_ALLERGIES, _l("Drug allergies"), allow_none=True)
    allergies = fields.List(text(_l("Drug"), 50), allow_none=True, metadata={
        "label": _l("Other drug allergies"),
        "description": "drugs named in words: the form's 'other' (drug_allergies 'other'), or allergies as "
                       "clients wrote them before the coded list"})
    exposures = code_list(codes.EXPOSURES, _l("Exposure history"), allow_none=True)
    past_history = group(PastHistory, _l("Past history"), allow_none=True,
                         metadata={"description": "{} means none known"})
    family_history = rows(FamilyHistoryItem, _l("Family history"), allow_none=True)
    hereditary_diseases = fields.List(text(_l("Disease"), 100), allow_none=True,
                                      metadata={"label": _l("Hereditary diseases")})
    disabilities = code_list(codes.DISABILITIES, _l("Disabilities"), allow_none=True)
    disabilities_other = short(_l("Other disability"), allow_none=True)
    living_conditions = group(LivingConditions, _l("Living conditions"), allow_none=True)
    key_populations = code_list(KEY_POPULATIONS, _l("Key populations"), allow_none=True)
    responsible_doctor = fields.String(allow_none=True, validate=validate.Length(min=1, max=64), metadata={
        "label": _l("Responsible doctor"), "description": "username; defaults to the creating village doctor"})
    archiving_institution = short(_l("Archiving institution"), allow_none=True)


class EnrolmentConsent(ConsentIn):
    """Enrolment is voluntary (the plan's principle): an archive is kept only with consent."""

    decision = fields.String(load_default="granted", validate=validate.Equal(
        "granted", error="An archive is kept only with the resident's consent: send granted, "
                         "or do not create the archive."), metadata={"label": _l("Consent")})


class ArchiveCreate(ArchiveChange):
    village_code = fields.String(required=True, validate=validate.Regexp(
        r"^\d{12}$", error="Give the 12-digit village code."), metadata={"label": _l("Village")})
    name = text(_l("Name"), 50, required=True)
    sex = choice(codes.SEX, _l("Sex"), required=True, metadata={"description": "GB/T 2261.1"})
    birth_date = fields.Date(required=True, metadata={"label": _l("Date of birth")})
    enrolment_consent = group(EnrolmentConsent, _l("Enrolment consent"), metadata={
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
    cause = fields.String(allow_none=True, metadata={"description": "death: the cause"})
    destination = fields.String(allow_none=True, metadata={"description": "moved_away: where to"})
    duplicate_of = fields.String(allow_none=True)
    by = fields.String()
    at = fields.DateTime()


class FieldWarning(Schema):
    field = fields.String()
    message = fields.String()


class ArchiveSummary(Schema):
    id = fields.String()
    village_code = fields.String(metadata={"description": "the same as village (its name before custody could move)"})
    village = fields.String(metadata={"description": "custody: the village that manages the archive now"})
    township = fields.String(metadata={"description": "custody: the township health centre over that village now"})
    county = fields.String()
    status = fields.String(metadata={"enum": ["open", "closed"]})
    name = fields.String()
    sex = fields.String()
    birth_date = fields.Date()
    key_populations = fields.List(fields.String())
    responsible_doctor = fields.String(allow_none=True)
    completeness = fields.Nested(Completeness)
    review = fields.Nested(Review, allow_none=True)
    version = fields.Integer()
    unreadable = fields.Boolean(metadata={
        "description": "true on a list row whose sealed values do not open (damaged data): only its id, "
                       "custody and status are shown; the operator restores it from a backup"})


class Archive(ArchiveSummary):
    id_card = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    registered_address = fields.String(allow_none=True)
    work_unit = fields.String(allow_none=True)
    contact = fields.Nested(Contact, allow_none=True)
    guardian = fields.Nested(Guardian, allow_none=True)
    residence_type = fields.String(allow_none=True)
    ethnicity = fields.String(allow_none=True)
    blood_type = fields.Nested(BloodType, allow_none=True)
    education = fields.String(allow_none=True)
    occupation = fields.String(allow_none=True)
    marital_status = fields.String(allow_none=True)
    payment_methods = fields.List(fields.String(), allow_none=True)
    payment_other = fields.String(allow_none=True)
    drug_allergies = fields.List(fields.String(), allow_none=True)
    allergies = fields.List(fields.String(), allow_none=True)
    exposures = fields.List(fields.String(), allow_none=True)
    past_history = fields.Nested(PastHistory, allow_none=True)
    family_history = fields.List(fields.Nested(FamilyHistoryItem), allow_none=True)
    hereditary_diseases = fields.List(fields.String(), allow_none=True)
    disabilities = fields.List(fields.String(), allow_none=True)
    disabilities_other = fields.String(allow_none=True)
    living_conditions = fields.Nested(LivingConditions, allow_none=True)
    archiving_institution = fields.String(allow_none=True)
    closed = fields.Nested(Closure, allow_none=True)
    established_on = fields.Date(allow_none=True, metadata={
        "description": "建档日期: the day the archive was made; for an archive brought in from paper, "
                       "the day on the paper"})
    created_at = fields.DateTime()
    created_by = fields.String()
    updated_at = fields.DateTime()
    updated_by = fields.String()
    warnings = fields.List(fields.Nested(FieldWarning), metadata={"description": "on create and update only"})


class ArchiveListQuery(PageQuery):
    """The filters a URL may carry: never a name or ID card (healthrec.urls)."""

    village = fields.String(validate=validate.Regexp(r"^\d{12}$", error="Give a 12-digit village code."),
                            metadata={"label": _l("Village")})
    status = choice({"open": _l("Open"), "closed": _l("Closed")}, _l("Status"))
    review = choice({**VERDICTS, "none": _l("Not reviewed")}, _l("Review"),
                    metadata={"description": "none: not reviewed yet"})
    key_population = choice(KEY_POPULATIONS, _l("Key population"), metadata={
        "description": "archives of this key population: elderly and child by age today, the others as "
                       "the doctor flagged them"})


class ArchiveQuery(ArchiveListQuery):
    """The search's filters, in a POST body."""

    name = text(_l("Name"), 50, metadata={"description": "the full name, matched exactly"})
    id_card = fields.String(validate=validate.Length(max=30), metadata={"label": _l("ID card number")})


class ArchiveList(Page):
    items = fields.List(fields.Nested(ArchiveSummary))


class CloseRequest(Schema):
    reason = choice(CLOSE_REASONS, _l("Reason for closing"), required=True, metadata={
        "description": "lost_to_follow_up (失访): cannot be reached; a resident who moved to another village "
                       "served here is transferred (POST /api/v1/archives/{id}/transfers), not closed"})
    date = fields.Date(required=True, metadata={"label": _l("Date"),
                                                "description": "the day of death, of moving, or of closing"})
    note = text(_l("Note"), 500)
    duplicate_of = ArchiveId(metadata={"label": _l("Archive kept"),
                                       "description": "with reason duplicate: the archive kept"})
    cause = text(_l("Cause of death"), 200, metadata={
        "description": "with reason death: the cause of death, as known (sealed)"})
    destination = text(_l("Moved to"), 100, metadata={
        "description": "with reason moved_away: where to, as far as known (sealed)"})

    @validates_schema
    def reason_needs(self, data, **kwargs):
        reason = data.get("reason")
        if reason == "duplicate" and not data.get("duplicate_of"):
            raise ValidationError("Name the archive that is kept.", "duplicate_of")
        if reason == "other" and not data.get("note"):
            raise ValidationError("Say why in a note when the reason is 'other'.", "note")
        for field, belongs in (("cause", "death"), ("destination", "moved_away")):
            if data.get(field) and reason != belongs:
                raise ValidationError(f"Give {field} only when the reason is {belongs}.", field)


class ReviewRequest(Schema):
    verdict = choice(VERDICTS, _l("Verdict"), required=True)
    note = text(_l("Note"), 500)

    @validates_schema
    def correction_needs_note(self, data, **kwargs):
        if data.get("verdict") == "needs_correction" and not data.get("note"):
            raise ValidationError("Tell the village doctor what to correct.", "note")
