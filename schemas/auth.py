from marshmallow import Schema, fields, validate


class TokenRequest(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=256))


class PublicUser(Schema):
    username = fields.String()
    role = fields.String()
    region = fields.String()


class TokenResponse(Schema):
    token = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(PublicUser)
