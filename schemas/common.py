"""Fields several domains share."""

from marshmallow import ValidationError, fields

from healthrec.ids import ArchiveCodeError, site_layout
from healthrec.regions.codes import normalized


class ArchiveId(fields.String):
    """An archive code in this site's layout: the 12-digit village code and a 4-digit
    serial (16 digits, the provincial plan) or a 5-digit one (17, the national layout)."""

    def __init__(self, **kwargs):
        metadata = {"pattern": r"^\d{16,17}$", "description": "archive code (16 or 17 digits, as the site "
                                                              "is configured)", **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        code = normalized(super()._deserialize(value, attr, data, **kwargs))
        try:
            site_layout().parse(code)
        except ArchiveCodeError as error:
            raise ValidationError(str(error)) from None
        return code


# The request header of every creation (an OpenAPI parameter object).
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string", "maxLength": 128},
                   "description": "1 to 128 visible ASCII characters, e.g. a UUID, new for each request; a "
                                  "repeat with the same key and body answers what the first one made (200) "
                                  "and writes nothing, with another body 422"}
