"""The other service records: 接诊记录 encounters, 双向转诊单 referrals with their return
slips, 会诊记录 consultations and 住院记录 hospital stays.

Where a person was treated, by whom and in which department says what they were treated
for (a chest hospital, a psychiatric ward), so institutions, departments and doctors are
sealed; a referral is routed by its plain `to_region` (and the `to_township` the service
derives from it)."""

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.form import choice, group, rows, short
from schemas.records.fields import Record, day, not_before, sealed, text

REGION_CODE = validate.Regexp(r"^(\d{6}|\d{9}|\d{12})$", error="Must be a region code of 6, 9 or 12 digits.")


class Encounter(Record):
    """接诊记录, in the order of a SOAP note."""

    subjective = text(_l("Complaint (subjective)"))
    objective = text(_l("Examination (objective)"))
    assessment = text(_l("Assessment"), required=True)
    plan = text(_l("Plan"))


class ReturnSlip(Schema):
    """回转单: what the receiving institution sends back when the patient comes back down."""

    date = day(_l("Date"), required=True)
    institution = sealed(short(_l("Institution"), required=True))
    department = sealed(short(_l("Department")))
    doctor = sealed(short(_l("Doctor")))
    diagnosis = text(_l("Diagnosis"), required=True)
    findings = text(_l("Main test results"))
    treatment = text(_l("Treatment given"))
    recommendations = text(_l("Further treatment and rehabilitation advice"))


class Referral(Record):
    """双向转诊单: sent by the referring side, confirmed by the receiving side; an upward
    referral gets its return slip (by amendment) when the patient comes back down."""

    direction = choice({"up": _l("Up to a higher level"), "down": _l("Down to primary care")}, _l("Direction"),
                       required=True)
    from_institution = sealed(short(_l("Referred from"), required=True))
    to_institution = sealed(short(_l("Referred to"), required=True))
    to_department = sealed(short(_l("Receiving department")))
    to_doctor = sealed(short(_l("Receiving doctor")))
    to_region = fields.String(required=True, validate=REGION_CODE,
                              metadata={"label": _l("Region of the receiving institution"),
                                        "description": "region code of the receiving institution "
                                                       "(township 9 digits, village 12, county 6)"})
    reason = text(_l("Reason for referral"), required=True)
    preliminary_diagnosis = text(_l("Preliminary diagnosis"))
    history = text(_l("Main history"), metadata={"description": "main history of the present illness"})
    treatment = text(_l("Treatment so far"), metadata={"description": "treatment given so far"})
    return_slip = group(ReturnSlip, _l("Return slip"), metadata={
        "description": "with an upward referral, when the patient comes back down"})
    status = fields.String(dump_only=True, metadata={"state": True, "enum": ["sent", "received"],
                                                     "label": _l("Status")})
    received_by = fields.String(dump_only=True, metadata={"state": True, "label": _l("Received by")})
    received_at = fields.String(dump_only=True, metadata={"state": True, "label": _l("Received at"),
                                                          "description": "ISO 8601 time, UTC"})

    @validates_schema
    def return_after_referral(self, data, **kwargs):
        slip = data.get("return_slip")
        if not slip:
            return
        if data.get("direction") != "up":
            raise ValidationError("Only an upward referral gets a return slip.", "return_slip")
        if data.get("date") and slip["date"] < data["date"]:
            raise ValidationError(f"Must not be before the referral ({data['date'].isoformat()}).",
                                  "return_slip.date")


class Consulted(Schema):
    doctor = short(_l("Doctor"), required=True)
    institution = short(_l("Institution"))


class Consultation(Record):
    """会诊记录."""

    reason = text(_l("Reason for consultation"), required=True)
    consulted = rows(Consulted, _l("Doctors consulted"), required=True, metadata={"sealed": True},
                     validate=validate.Length(min=1, max=20, error="Name 1 to 20 consulted doctors."))
    opinion = text(_l("Opinion"), required=True)


class Hospitalization(Record):
    """住院记录."""

    hospital = sealed(short(_l("Hospital"), required=True))
    department = sealed(short(_l("Department")))
    admitted = day(_l("Admitted"), required=True)
    discharged = day(_l("Discharged"))
    diagnosis = text(_l("Diagnosis"), required=True)
    outcome = choice({"cured": _l("Cured"), "improved": _l("Improved"), "unchanged": _l("Unchanged"),
                      "transferred": _l("Transferred"), "died": _l("Died")}, _l("Outcome"))

    @validates_schema
    def discharge_after_admission(self, data, **kwargs):
        not_before(data, "discharged", "admitted", "the admission date")
