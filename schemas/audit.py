"""Audit trail queries, chain verification and the per-archive disclosure report."""

from datetime import UTC

from marshmallow import Schema, fields, validate

from schemas.common import ArchiveId
from schemas.paging import Page, PageQuery


class ArchivePath(Schema):
    archive_id = ArchiveId(required=True)


class AuditQuery(PageQuery):
    archive_id = ArchiveId()
    actor = fields.String(validate=validate.Length(min=1, max=64))
    outcome = fields.String(validate=validate.Length(min=1, max=32),
                            metadata={"description": "ok, denied, conflict, ..."})
    since = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "ISO 8601; UTC unless it says"})


class CountQuery(Schema):
    since = fields.AwareDateTime(default_timezone=UTC, metadata={"description": "ISO 8601; UTC unless it says"})


class Entry(Schema):
    id = fields.String(metadata={"description": "<chain>:<sequence number>"})
    chain = fields.String(metadata={"description": "the township (9 digits) or system"})
    seq = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    role = fields.String()
    ip = fields.String(allow_none=True)
    action = fields.String()
    outcome = fields.String()
    archive_id = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    purpose = fields.String(allow_none=True)
    grant = fields.String(allow_none=True, metadata={"description": "the access request or opening used"})
    detail = fields.Raw(allow_none=True)
    prev = fields.String()
    hash = fields.String()


class EntryList(Page):
    items = fields.List(fields.Nested(Entry))


class Count(Schema):
    chain = fields.String()
    action = fields.String()
    outcome = fields.String()
    count = fields.Integer()


class Counts(Schema):
    region = fields.String(allow_none=True)
    since = fields.DateTime(allow_none=True)
    items = fields.List(fields.Nested(Count))


class Break(Schema):
    chain = fields.String(allow_none=True, metadata={"description": "null: a document outside every chain"})
    seq = fields.Integer(allow_none=True)
    id = fields.String(metadata={"description": "the entry that is bad or missing"})
    problem = fields.String(metadata={"enum": ["edited", "moved", "relinked", "replaced", "missing",
                                               "unexpected", "truncated", "head_missing"]})
    detail = fields.String()


class ChainReport(Schema):
    chain = fields.String(allow_none=True)
    entries = fields.Integer()
    ok = fields.Boolean()
    first_bad = fields.Nested(Break, allow_none=True)


class Verification(Schema):
    ok = fields.Boolean()
    entries = fields.Integer()
    chains = fields.List(fields.Nested(ChainReport))
    first_bad = fields.Nested(Break, allow_none=True)


class Disclosure(Schema):
    at = fields.DateTime()
    actor = fields.String()
    actor_name = fields.String()
    role = fields.String()
    action = fields.String()
    outcome = fields.String()
    purpose = fields.String(allow_none=True)
    grant = fields.String(allow_none=True)


class Disclosures(Schema):
    archive_id = fields.String()
    village = fields.String(metadata={"description": "the village managing the archive now"})
    township = fields.String(metadata={"description": "the township health centre managing it now"})
    items = fields.List(fields.Nested(Disclosure))
