"""A row of a legacy import file (`flask archives import`), once its cells are read: an
archive as ArchiveCreate takes it, with the number and the day it was established on
paper instead of the village code."""

from marshmallow import fields, post_load, validate

from healthrec.ids import site_layout
from schemas.archives import ArchiveChange, text
from schemas.common import ArchiveId


class LegacyArchive(ArchiveChange):
    archive_code = ArchiveId(required=True)
    established_on = fields.Date(required=True, metadata={"description": "建档日期, as on the paper archive"})
    name = text(50, required=True)
    sex = fields.String(required=True, validate=validate.OneOf(("male", "female")))
    birth_date = fields.Date(required=True)

    @post_load
    def village(self, data, **kwargs):
        # Custody starts where the number says the archive was made.
        return {**data, "village_code": site_layout().village_of(data["archive_code"])}
