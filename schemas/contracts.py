"""Family-doctor teams and contracts: what clients send and what they get back."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from healthrec.contracts.rules import PACKAGES, STATUSES, TERMINATION_REASONS, TRANSFERRED
from schemas.access import ConsentIn, not_blank
from schemas.archives import text
from schemas.paging import Page, PageQuery

TOWNSHIP = validate.Regexp(r"^\d{9}$", error="Give the 9-digit township code.")


def username(**kwargs):
    return fields.String(validate=validate.Length(min=1, max=64), **kwargs)


class TeamIn(Schema):
    township = fields.String(required=True, validate=TOWNSHIP)
    name = fields.String(required=True, validate=[validate.Length(max=50), not_blank],
                         metadata={"description": "e.g. 柳河镇第一家庭医生团队"})
    lead = username(required=True, metadata={"description": "username of the lead doctor; a member"})
    members = fields.List(username(), load_default=list, validate=validate.Length(max=30), metadata={
        "description": "usernames: the township's staff and village doctors of its villages"})


class TeamChange(Schema):
    name = fields.String(validate=[validate.Length(max=50), not_blank])
    lead = username()
    members = fields.List(username(), validate=validate.Length(max=30))
    active = fields.Boolean(metadata={"description": "false: no new contracts or renewals with the team"})


class Team(Schema):
    id = fields.String()
    township = fields.String()
    name = fields.String()
    lead = fields.String()
    members = fields.List(fields.String())
    active = fields.Boolean()
    version = fields.Integer()
    created_at = fields.DateTime()
    created_by = fields.String()
    updated_at = fields.DateTime()
    updated_by = fields.String()


class TeamQuery(PageQuery):
    township = fields.String(validate=TOWNSHIP, metadata={"description": "default: your own township"})
    active = fields.Boolean()


class TeamList(Page):
    items = fields.List(fields.Nested(Team))


class ContractConsent(ConsentIn):
    """The resident's (or guardian's) agreement to the contract; appended to the consent log."""

    decision = fields.String(load_default="granted", validate=validate.Equal(
        "granted", error="A contract is signed or renewed only with the resident's consent: send granted."))


class Withdrawal(ConsentIn):
    """The resident's (or guardian's) withdrawal, when they end the contract."""

    decision = fields.String(load_default="withdrawn", validate=validate.Equal(
        "withdrawn", error="Ending a contract at the resident's request records their withdrawal."))


class SignIn(Schema):
    team = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={
        "description": "id of an active team of the township that manages the archive"})
    package = fields.String(required=True, validate=validate.OneOf(PACKAGES))
    signed_on = fields.Date(metadata={"description": "default today; runs one year from this day"})
    consent = fields.Nested(ContractConsent, required=True)


class RenewIn(Schema):
    package = fields.String(validate=validate.OneOf(PACKAGES), metadata={"description": "default: unchanged"})
    consent = fields.Nested(ContractConsent, required=True)


class TerminateIn(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(TERMINATION_REASONS))
    date = fields.Date(metadata={"description": "the first day without the contract; default today"})
    note = text(500, metadata={"description": "stored encrypted"})
    consent = fields.Nested(Withdrawal, metadata={"description": "required when the resident asks to end it"})

    @validates_schema
    def reason_needs(self, data, **kwargs):
        if data.get("reason") == "other" and not data.get("note"):
            raise ValidationError("Say why in a note when the reason is 'other'.", "note")
        if data.get("reason") == "resident_request" and not data.get("consent"):
            raise ValidationError("Record who withdrew and how (given_by, method).", "consent")


class Renewal(Schema):
    on = fields.String(metadata={"format": "date"})
    by = fields.String()
    valid_until = fields.String(metadata={"format": "date"})
    package = fields.String()


class Contract(Schema):
    id = fields.String(metadata={"description": "the archive code, '-' and the contract's number (001, 002…)"})
    archive_id = fields.String()
    village = fields.String(metadata={"description": "the archive's custody village (it follows transfers)"})
    team = fields.String()
    package = fields.String(metadata={"enum": list(PACKAGES)})
    status = fields.String(metadata={"enum": list(STATUSES), "description": "today's, computed from the dates"})
    signed_on = fields.Date()
    valid_until = fields.Date()
    ends_on = fields.Date(metadata={"description": "the last day under contract"})
    renewals = fields.List(fields.Nested(Renewal))
    signed_by = fields.String()
    terminated_on = fields.Date(allow_none=True)
    termination_reason = fields.String(allow_none=True, metadata={
        "enum": [*TERMINATION_REASONS, TRANSFERRED],
        "description": "transferred: the system ended it when the archive went to another township"})
    terminated_by = fields.String(allow_none=True)
    termination_note = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ContractsToSignQuery(PageQuery):
    township = fields.String(validate=TOWNSHIP)
    village = fields.String(validate=validate.Regexp(r"^\d{12}$", error="Give a 12-digit village code."))


class ContractsDueQuery(ContractsToSignQuery):
    team = fields.String(validate=validate.Length(min=1, max=64))
    within = fields.Integer(load_default=30, validate=validate.Range(min=0, max=90, error="Between 0 and 90 days."))


class ContractDue(Schema):
    id = fields.String()
    archive_id = fields.String()
    name = fields.String()
    archive_status = fields.String(metadata={"description": "closed: terminate the contract"})
    village = fields.String()
    team = fields.String()
    package = fields.String()
    valid_until = fields.Date()
    days_left = fields.Integer()


class ContractsDue(Page):
    items = fields.List(fields.Nested(ContractDue))


class ContractToSign(Schema):
    id = fields.String(metadata={"description": "the contract the transfer ended"})
    archive_id = fields.String()
    name = fields.String()
    village = fields.String()
    team = fields.String(metadata={"description": "the team of the township the resident left"})
    package = fields.String()
    terminated_on = fields.Date(metadata={"description": "the day the transfer was confirmed"})
    valid_until = fields.Date(metadata={"description": "the end of the year they had signed for: "
                                                       "they stay on the list until then"})


class ContractsToSign(Page):
    items = fields.List(fields.Nested(ContractToSign))
