"""The other service records: 双向转诊单 referrals, 会诊记录 consultations and 住院记录
hospital stays."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.records.fields import Day, Record, choice, label, past_date, text

REGION_CODE = validate.Regexp(r"^(\d{6}|\d{9}|\d{12})$", error="Must be a region code of 6, 9 or 12 digits.")


class Referral(Record):
    """双向转诊单: sent by the referring side, confirmed by the receiving side."""

    direction = choice(("up", "down"), required=True)
    from_institution = label(required=True)
    to_institution = label(required=True)
    to_region = fields.String(required=True, validate=REGION_CODE,
                              metadata={"description": "region code of the receiving institution "
                                                       "(township 9 digits, village 12, county 6)"})
    reason = text(required=True)
    preliminary_diagnosis = text()
    history = text("main history of the present illness")
    treatment = text("treatment given so far")
    status = fields.String(dump_only=True, metadata={"state": True, "enum": ["sent", "received"]})
    received_by = fields.String(dump_only=True, metadata={"state": True})
    received_at = fields.String(dump_only=True, metadata={"state": True, "description": "ISO 8601 time, UTC"})


class Consulted(Schema):
    doctor = label(required=True)
    institution = label()


class Consultation(Record):
    """会诊记录."""

    reason = text(required=True)
    consulted = fields.List(fields.Nested(Consulted), required=True,
                            validate=validate.Length(min=1, max=20, error="Name 1 to 20 consulted doctors."))
    opinion = text(required=True)


class Hospitalization(Record):
    """住院记录."""

    hospital = label(required=True)
    department = label()
    admitted = Day(required=True, validate=past_date)
    discharged = Day(validate=past_date)
    diagnosis = text(required=True)
    outcome = choice(("cured", "improved", "unchanged", "transferred", "died"))

    @validates_schema
    def discharge_after_admission(self, data, **kwargs):
        if "discharged" in data and "admitted" in data and data["discharged"] < data["admitted"]:
            raise ValidationError(f"Must not be before the admission date ({data['admitted'].isoformat()}).",
                                  "discharged")


