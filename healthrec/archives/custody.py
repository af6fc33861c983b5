"""Custody: which village (and so township and county) manages an archive now.

The archive code is assigned once from the village where the archive was made and never
changes; custody is a set of fields of its own (`village`, `township`, `county`), moved by
a transfer or a merger, so scope, lists and indicators follow the resident. The township
is the village's parent when custody was last set, which after a merger is not the one
the village's code names. Each level is stored, so every list leads with an equality on
one of them, which both servers serve from an index (docs/database.md).
"""

from healthrec.ids import prefix_range

LEVEL_FIELDS = {12: "village", 9: "township", 6: "county"}


def custody_query(region):
    """The archives managed within `region`; above a county (a prefecture or province
    supervisor) the counties under it."""
    field = LEVEL_FIELDS.get(len(region))
    return {field: region} if field else {"county": prefix_range(region)}


def in_scope(region, custody):
    """True when a user whose scope is `region` covers `custody` (custody fields, as far
    down as they go): a village or township by equality, a county or above by prefix."""
    field = LEVEL_FIELDS.get(len(region))
    if field in ("village", "township"):
        return custody.get(field) == region
    return custody.get("county", "").startswith(region)
