"""Transfers of custody: what the API takes and answers."""

from marshmallow import Schema, ValidationError, fields, pre_load, validate, validates_schema

from healthrec.regions.codes import normalized
from schemas.paging import Page, PageQuery

DECISIONS = ("confirm", "refuse")
STATUSES = ("pending", "done", "refused", "expired")


class TransferIn(Schema):
    to_village = fields.String(required=True, validate=validate.Regexp(
        r"^[0-9]{12}$", error="Give the 12-digit code of the village the resident moved to."))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "why the resident moved, as they told it (sealed)"})
    moved_on = fields.Date(required=True, metadata={"description": "the day the resident moved"})

    @pre_load
    def typed_code(self, data, **kwargs):
        # A code typed on a phone may come in full-width digits.
        if isinstance(data, dict) and isinstance(data.get("to_village"), str):
            return {**data, "to_village": normalized(data["to_village"])}
        return data


class TransferDecision(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))
    note = fields.String(validate=validate.Length(min=1, max=500))

    @validates_schema
    def refusal_needs_note(self, data, **kwargs):
        if data.get("decision") == "refuse" and not data.get("note"):
            raise ValidationError("Tell the receiving side why the transfer is refused.", "note")


class TransferQuery(PageQuery):
    direction = fields.String(validate=validate.OneOf(("incoming", "outgoing")),
                              metadata={"description": "both when left out"})
    status = fields.String(validate=validate.OneOf(STATUSES))


class Transfer(Schema):
    id = fields.String(metadata={"description": "<archive code>-<attempt>"})
    archive_id = fields.String()
    status = fields.String(metadata={"enum": list(STATUSES)})
    from_village = fields.String(metadata={"description": "the releasing side: custody when it was asked for"})
    from_township = fields.String()
    to_village = fields.String(metadata={"description": "the receiving side"})
    to_township = fields.String()
    reason = fields.String()
    moved_on = fields.String(metadata={"format": "date"})
    requested_by = fields.String()
    requested_at = fields.DateTime()
    expires_at = fields.DateTime(metadata={"description": "a pending transfer runs out then (HEALTHREC_TRANSFER_DAYS)"})
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    note = fields.String(allow_none=True)


class TransferList(Page):
    items = fields.List(fields.Nested(Transfer))
