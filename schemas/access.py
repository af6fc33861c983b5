"""Access requests, consent and break-glass: what clients send and what they get back."""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import ArchiveId
from schemas.paging import Page, PageQuery

REQUEST_STATUSES = ("pending", "awaiting_consent", "active", "expired", "rejected",
                    "refused", "revoked", "withdrawn")
CONSENT_METHODS = ("signature", "thumbprint", "verbal_witnessed", "electronic")


def not_blank(value):
    if not value.strip():
        raise ValidationError("May not be blank.")


class AccessRequestIn(Schema):
    archive_id = ArchiveId(required=True, metadata={"label": _l("Archive code")})
    purpose = fields.String(required=True, validate=[validate.Length(max=200), not_blank], metadata={
        "label": _l("Purpose (name no person)"),
        "description": "Short purpose (e.g. 慢病管理质量抽查); kept in clear in the audit trail, "
                       "so name no person here: details belong in `application`."})
    application = fields.String(required=True, validate=[validate.Length(max=5000), not_blank],
                                metadata={"label": _l("Written application"),
                                          "description": "The written application; stored encrypted."})
    days = fields.Integer(required=True, strict=True, validate=validate.Range(min=1), metadata={
        "label": _l("Days of access"),
        "description": "How long access is wanted once consented; at most HEALTHREC_ACCESS_MAX_DAYS."})


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]), metadata={
        "label": _l("Decision"), "labels": {"approve": _l("Approve"), "reject": _l("Reject")}})
    note = fields.String(validate=validate.Length(max=2000), metadata={
        "label": _l("Note (required when rejecting)"),
        "description": "Required when rejecting: the requester is told why. Stored encrypted."})

    @validates_schema
    def reason_for_rejection(self, data, **kwargs):
        if data.get("decision") == "reject" and not (data.get("note") or "").strip():
            raise ValidationError("Say why the request is rejected.", "note")


class ConsentIn(Schema):
    """Who gave (or refused, or withdrew) consent and how; the names are stored encrypted."""

    decision = fields.String(required=True, validate=validate.OneOf(["granted", "refused", "withdrawn"]),
                             metadata={"label": _l("Answer"),
                                       "labels": {"granted": _l("Consents"), "refused": _l("Refuses"),
                                                  "withdrawn": _l("Withdraws consent")},
                                       "description": "For an access request: granted or refused answers "
                                                      "an approved request, withdrawn ends an active grant. "
                                                      "For enrolment: the resident's consent to the archive."})

    given_by = fields.String(required=True, validate=validate.OneOf(["self", "guardian"]), metadata={
        "label": _l("Given by"), "labels": {"self": _l("The resident"), "guardian": _l("A guardian")}})
    guardian_name = fields.String(validate=validate.Length(max=100), metadata={"label": _l("Guardian's name")})
    relation = fields.String(validate=validate.Length(max=50),
                             metadata={"label": _l("Guardian's relation to the resident"),
                                       "description": "The guardian's relation to the resident."})
    method = fields.String(required=True, validate=validate.OneOf(CONSENT_METHODS), metadata={
        "label": _l("How"), "labels": {"signature": _l("Signature"), "thumbprint": _l("Thumbprint"),
                                       "verbal_witnessed": _l("Verbal, before a witness"),
                                       "electronic": _l("Electronic")}})
    witness = fields.String(validate=validate.Length(max=100),
                            metadata={"label": _l("Witness (for verbal consent)"),
                                      "description": "Required for method verbal_witnessed."})

    @validates_schema
    def complete(self, data, **kwargs):
        errors = {}
        if data.get("given_by") == "guardian":
            for name in ("guardian_name", "relation"):
                if not (data.get(name) or "").strip():
                    errors[name] = ["Required when consent is given by a guardian."]
        elif data.get("guardian_name") or data.get("relation"):
            errors["given_by"] = ["Send given_by guardian with a guardian's name and relation."]
        if data.get("method") == "verbal_witnessed" and not (data.get("witness") or "").strip():
            errors["witness"] = ["Verbal consent needs the name of the witness."]
        if errors:
            raise ValidationError(errors)


class AccessRequestQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(REQUEST_STATUSES))


class AccessRequest(Schema):
    id = fields.String()
    archive_id = fields.String()
    status = fields.String(metadata={"enum": list(REQUEST_STATUSES)})
    purpose = fields.String()
    application = fields.String()
    days = fields.Integer()
    requester = fields.String()
    requester_role = fields.String()
    created_at = fields.DateTime()
    decided_by = fields.String()
    decided_at = fields.DateTime()
    decision_note = fields.String()
    valid_until = fields.DateTime()
    ended_by = fields.String(metadata={"description": "Who revoked it or recorded the withdrawal."})
    ended_at = fields.DateTime()


class AccessRequestList(Page):
    items = fields.List(fields.Nested(AccessRequest))


class Consent(Schema):
    id = fields.String()
    archive_id = fields.String()
    kind = fields.String(metadata={"enum": ["enrolment", "access", "contract"]})
    request_id = fields.String(metadata={"description": "The access request, for kind access."})
    contract_id = fields.String(metadata={"description": "The family-doctor contract, for kind contract."})
    step = fields.String(metadata={"enum": ["sign", "renew", "terminate"],
                                   "description": "For kind contract: what the consent was given to."})
    purpose = fields.String()
    decision = fields.String(metadata={"enum": ["granted", "refused", "withdrawn"]})
    given_by = fields.String()
    guardian_name = fields.String()
    relation = fields.String()
    method = fields.String()
    witness = fields.String()
    recorded_by = fields.String()
    recorded_role = fields.String()
    at = fields.DateTime()


class BreakGlassIn(Schema):
    reason = fields.String(required=True, validate=[validate.Length(min=4, max=1000), not_blank],
                           metadata={"label": _l("The emergency"),
                                     "description": "The emergency; township staff review it. Stored encrypted."})


class AcknowledgeIn(Schema):
    note = fields.String(validate=validate.Length(max=2000), metadata={"label": _l("Note")})


class BreakGlassQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(["unreviewed", "acknowledged"]))


class BreakGlass(Schema):
    id = fields.String()
    archive_id = fields.String()
    opened_by = fields.String()
    role = fields.String()
    opened_at = fields.DateTime()
    valid_until = fields.DateTime()
    reason = fields.String()
    status = fields.String(metadata={"enum": ["unreviewed", "acknowledged"]})
    acknowledged_by = fields.String()
    acknowledged_at = fields.DateTime()
    note = fields.String()


class BreakGlassList(Page):
    items = fields.List(fields.Nested(BreakGlass))


class BreakGlassCountsQuery(Schema):
    region = fields.String(validate=validate.Regexp(r"^(\d{2}|\d{4}|\d{6}|\d{9})$",
                                                    error="A province, prefecture, county or township code "
                                                          "within your scope."))
    since = fields.Date(metadata={"description": "Count openings from this day on (default: all)."})


class TownshipCount(Schema):
    township = fields.String()
    name = fields.String()
    openings = fields.Integer()
    unreviewed = fields.Integer()


class BreakGlassCounts(Schema):
    region = fields.String()
    since = fields.Date(allow_none=True)
    townships = fields.List(fields.Nested(TownshipCount))


class BreakGlassAlert(Schema):
    id = fields.String()
    kind = fields.String(metadata={"enum": ["break_glass_limit_near"],
                                   "description": "break_glass_limit_near: a clinician has made all but one of "
                                                  "the day's emergency openings (or the only one)"})
    clinician = fields.String()
    role = fields.String()
    region = fields.String(metadata={"description": "the clinician's region"})
    township = fields.String()
    county = fields.String()
    day = fields.Date(metadata={"description": "the day of the openings, on the clinic's calendar"})
    openings = fields.Integer(metadata={"description": "openings made that day when the alert was raised"})
    limit = fields.Integer(metadata={"description": "HEALTHREC_BREAK_GLASS_PER_DAY"})
    at = fields.DateTime()


class AlertList(Page):
    items = fields.List(fields.Nested(BreakGlassAlert))
