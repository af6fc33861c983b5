"""Custody: which village (and so township and county) manages an archive now.

The archive code is assigned once from the village where the archive was made and never
changes; custody is a set of fields of its own, so scope, lists and indicators follow the
resident when custody moves. Each level is stored, so every list leads with an equality on
one of them, which both servers serve from an index (docs/database.md).
"""

from healthrec.ids import prefix_range

LEVEL_FIELDS = {12: "village", 9: "township", 6: "county"}


def custody_fields(village):
    return {"village": village, "township": village[:9], "county": village[:6]}


def custody_query(region):
    """The archives managed within `region`; above a county (a prefecture or province
    supervisor) the counties under it."""
    field = LEVEL_FIELDS.get(len(region))
    return {field: region} if field else {"county": prefix_range(region)}
