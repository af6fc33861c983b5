"""Paging, the same for every list: `?page=&per_page=` in, `{items, total, page, per_page}` out."""

from marshmallow import Schema, fields, validate

# Far beyond any real list (2 million rows at the largest page size), and small enough
# that the database's `skip` never overflows.
MAX_PAGE = 10_000


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(
        min=1, max=MAX_PAGE, error=f"Must be between 1 and {MAX_PAGE}."))
    per_page = fields.Integer(validate=validate.Range(min=1, max=200, error="Must be between 1 and 200."),
                              metadata={"description": "default HEALTHREC_PAGE_SIZE"})


class Page(Schema):
    """One page of a list; subclasses add `items`."""

    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
