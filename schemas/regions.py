from marshmallow import Schema, fields


class Region(Schema):
    code = fields.String()
    name = fields.String()
    level = fields.String(metadata={"enum": ["county", "township", "village"]})
    kind = fields.String(metadata={"description": "villages only: urban, rural or other"})
    parent = fields.String(allow_none=True)
    population = fields.Dict(keys=fields.String(), values=fields.Integer(),
                             metadata={"description": "resident population by year"})
