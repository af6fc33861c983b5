"""The body of every error answer of the API: application/problem+json (RFC 9457)."""

from marshmallow import INCLUDE, Schema, fields


class Problem(Schema):
    """What went wrong and how to fix it. Some problems add members that name what the
    request ran into: `existing_id`, `request_status`, `current_version`, `contract_id`,
    `transfer_id`, `transfer_status`."""

    class Meta:
        unknown = INCLUDE  # so the document allows those members

    type = fields.String(required=True, metadata={"description": "about:blank"})
    title = fields.String(required=True, metadata={"description": "the status in words"})
    status = fields.Integer(required=True, metadata={"description": "the HTTP status code"})
    detail = fields.String(required=True, metadata={"description": "what to do about it, as a sentence"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), metadata={
        "description": "validation failures: messages keyed by field, dotted paths for nested fields "
                       "(`guardian.id_card`, `records.2.date`)"})
