from flask_babel import lazy_gettext as _l
from marshmallow import Schema, fields, validate

from healthrec.auth import roles
from schemas.form import choice, short

ROLE_LABELS = {roles.VILLAGE_DOCTOR: _l("Village doctor"), roles.TOWNSHIP_STAFF: _l("Township health centre staff"),
               roles.SUPERVISOR: _l("Supervisor"), roles.ADMIN: _l("Administrator")}


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


class UserIn(Schema):
    """A new account, made by an administrator; the service checks the username's form
    and that the region exists and suits the role, and makes the first password."""

    username = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata={
        "label": _l("Username"), "description": "3-32 characters: lower-case letters, digits, '_', '.', '-'"})
    name = short(_l("Name shown"))
    role = choice(ROLE_LABELS, _l("Role"), required=True)
    region = fields.String(required=True, validate=validate.Regexp(
        r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$", error="Must be a region code of 2, 4, 6, 9 or 12 digits."),
        metadata={"label": _l("Region code"),
                  "description": "a village (12 digits) for a village doctor, a township (9) for its staff, "
                                 "a county (6) or prefecture or province (4, 2) for supervisors and administrators"})
