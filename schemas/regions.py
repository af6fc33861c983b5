from marshmallow import Schema, fields


class FormerParent(Schema):
    code = fields.String()
    until = fields.String(metadata={"format": "date", "description": "its last day as the parent"})


class Region(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String(metadata={"enum": ["county", "township", "village"]})
    kind = fields.String(metadata={"description": "villages only: urban, rural or other"})
    parent = fields.String(allow_none=True, metadata={"description": "the region it belongs to now"})
    population = fields.Dict(keys=fields.String(), values=fields.Integer(),
                             metadata={"description": "resident population by year"})
    valid_from = fields.String(allow_none=True, metadata={"format": "date"})
    valid_to = fields.String(allow_none=True, metadata={"format": "date", "description": "its last day; "
                                                        "a retired region stays readable for old archives"})
    successor = fields.String(allow_none=True, metadata={"description": "the region that took over a retired one"})
    former_parents = fields.List(fields.Nested(FormerParent), metadata={"description": "earlier parents, "
                                                                        "before mergers moved it"})
