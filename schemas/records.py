"""Service records: one schema per kind (and per population for follow-ups), after the
national basic public health service forms (国家基本公共卫生服务规范).

Every range check names its allowed range and unit in the message. Fields marked
`sealed` hold free text or diagnoses and are stored encrypted; fields marked `state` are
set by the service (a referral's receipt), never by the client. A record travels in its
JSON form (dates as YYYY-MM-DD strings): `validate` loads a body and dumps it back, so
what is stored, hashed for idempotency and returned is the same plain JSON.
"""

from datetime import UTC, date, datetime, timedelta, timezone

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from schemas.paging import Page, PageQuery

# Record dates are the clinic's calendar day; China keeps one time zone all year.
CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")
EARLIEST = date(1900, 1, 1)
TEXT_MAX = 2000
BATCH_MAX = 20
NAME_MAX = 100

SEALED = {"sealed": True}


def today():
    return datetime.now(UTC).astimezone(CHINA).date()


def past_date(value):
    """A day that has happened: from 1900-01-01 to today (China time)."""
    if not EARLIEST <= value <= today():
        raise ValidationError(f"Must be between {EARLIEST.isoformat()} and today ({today().isoformat()}).")


def between(low, high, unit):
    return validate.Range(low, high, error=f"Must be between {low} and {high} {unit}.")


def measure(low, high, unit, **kwargs):
    return fields.Float(validate=between(low, high, unit), metadata={"unit": unit}, **kwargs)


def count(low, high, unit, **kwargs):
    return fields.Integer(validate=between(low, high, unit), metadata={"unit": unit}, **kwargs)


def choice(values, description=None, **kwargs):
    metadata = {"enum": list(values), **({"description": description} if description else {})}
    return fields.String(validate=validate.OneOf(values, error="Must be one of: {choices}."),
                         metadata=metadata, **kwargs)


def codes(values, **kwargs):
    return fields.List(choice(values), **kwargs)


def text(description=None, max_length=TEXT_MAX, **kwargs):
    """Free text: encrypted at rest."""
    metadata = {**SEALED, "description": description} if description else SEALED
    return fields.String(validate=validate.Length(min=1, max=max_length,
                                                  error=f"Must be 1 to {max_length} characters."),
                         metadata=metadata, **kwargs)


def label(**kwargs):
    return fields.String(validate=validate.Length(min=1, max=NAME_MAX,
                                                  error=f"Must be 1 to {NAME_MAX} characters."), **kwargs)


def bmi(weight, height):
    return round(weight / (height / 100) ** 2, 1)


class BloodPressure(Schema):
    systolic = count(50, 300, "mmHg", required=True)
    diastolic = count(30, 200, "mmHg", required=True)

    @validates_schema
    def diastolic_below_systolic(self, data, **kwargs):
        if data.get("diastolic", 0) >= data.get("systolic", 1000):
            raise ValidationError("Must be lower than the systolic pressure.", "diastolic")


class Medication(Schema):
    name = label(required=True)
    usage = label(metadata={"description": "e.g. 每日2次 / twice a day"})
    dose = label(metadata={"description": "e.g. 5mg"})
    adherence = choice(("regular", "intermittent", "none"))


def medications():
    # The whole list is one sealed value: drug names tell what a person is treated for.
    return fields.List(fields.Nested(Medication), metadata=SEALED)


class Weighed(Schema):
    """Weight and height with the BMI computed from them."""

    weight = measure(2, 300, "kg")
    height = measure(40, 250, "cm")
    bmi = fields.Float(dump_only=True, metadata={"description": "computed from height and weight, kg/m²"})

    @post_load
    def compute_bmi(self, data, **kwargs):
        if "height" in data and "weight" in data:
            data["bmi"] = bmi(data["weight"], data["height"])
        return data


class Record(Schema):
    """Fields every kind has."""

    kind = fields.String(required=True)
    date = fields.Date(required=True, validate=past_date, metadata={"description": "day of the service"})
    note = text()


# ---------------------------------------------------------------- checkup 健康体检表

CHECKUP_SYMPTOMS = (
    "none", "headache", "dizziness", "palpitation", "chest_tightness", "chest_pain", "chronic_cough",
    "expectoration", "dyspnea", "polydipsia", "polyuria", "weight_loss", "fatigue", "joint_pain",
    "blurred_vision", "numbness", "urinary_urgency", "dysuria", "constipation", "diarrhea",
    "nausea_vomiting", "dim_sight", "tinnitus", "breast_pain", "other",
)


def no_other_with_none(values, field):
    if values and "none" in values and len(values) > 1:
        raise ValidationError("'none' cannot be combined with other symptoms.", field)


class GeneralExam(Weighed):
    temperature = measure(34, 43, "°C")
    pulse = count(30, 220, "beats/min")
    respiration = count(5, 60, "breaths/min")
    blood_pressure_left = fields.Nested(BloodPressure)
    blood_pressure_right = fields.Nested(BloodPressure)
    waist = measure(30, 200, "cm")


class Smoking(Schema):
    status = choice(("never", "former", "current"), required=True)
    daily_cigarettes = count(0, 100, "cigarettes/day")
    start_age = count(5, 120, "years")
    quit_age = count(5, 120, "years")

    @validates_schema
    def ages_in_order(self, data, **kwargs):
        if data.get("quit_age", 200) < data.get("start_age", 0):
            raise ValidationError("Must not be before the starting age.", "quit_age")


class Drinking(Schema):
    frequency = choice(("never", "occasional", "often", "daily"), required=True)
    daily_liang = measure(0, 50, "liang/day (两, 50 g)")


class Exercise(Schema):
    frequency = choice(("daily", "weekly", "occasional", "never"), required=True)
    minutes = count(0, 600, "minutes per session")
    years = measure(0, 100, "years")


class Lifestyle(Schema):
    smoking = fields.Nested(Smoking)
    drinking = fields.Nested(Drinking)
    exercise = fields.Nested(Exercise)
    diet = codes(("balanced", "meat_heavy", "vegetarian", "salty", "oily", "sweet"))


class Lipids(Schema):
    total_cholesterol = measure(0.5, 20, "mmol/L")
    triglycerides = measure(0.1, 30, "mmol/L")
    ldl = measure(0.1, 15, "mmol/L")
    hdl = measure(0.1, 5, "mmol/L")


class AuxiliaryTests(Schema):
    fasting_glucose = measure(1, 35, "mmol/L")
    hba1c = measure(3, 20, "%")
    hemoglobin = count(30, 250, "g/L")
    urine_protein = choice(("negative", "trace", "1+", "2+", "3+", "4+"))
    lipids = fields.Nested(Lipids)
    ecg = choice(("normal", "abnormal"))
    ecg_finding = text()
    other = text()


class Evaluation(Schema):
    result = choice(("normal", "abnormal"), required=True)
    abnormal_items = fields.List(fields.String(validate=validate.Length(min=1, max=NAME_MAX)), metadata=SEALED)

    @validates_schema
    def items_match_result(self, data, **kwargs):
        if data["result"] == "abnormal" and not data.get("abnormal_items"):
            raise ValidationError("Name each abnormal finding when the result is abnormal.", "abnormal_items")
        if data["result"] == "normal" and data.get("abnormal_items"):
            raise ValidationError("Only an abnormal result lists abnormal findings.", "abnormal_items")


class Guidance(Schema):
    actions = codes(("regular_followup", "chronic_disease_management", "referral", "recheck"))
    risk_factors = codes(("quit_smoking", "healthy_drinking", "diet", "exercise", "weight_loss",
                          "vaccination", "other"))
    advice = text()


class Checkup(Record):
    symptoms = codes(CHECKUP_SYMPTOMS)
    symptoms_other = text()
    general = fields.Nested(GeneralExam, required=True)
    lifestyle = fields.Nested(Lifestyle)
    physical_findings = text("physical examination findings")
    auxiliary = fields.Nested(AuxiliaryTests)
    health_problems = fields.List(fields.String(validate=validate.Length(min=1, max=NAME_MAX)), metadata=SEALED)
    medications = medications()
    evaluation = fields.Nested(Evaluation, required=True)
    guidance = fields.Nested(Guidance)

    @validates_schema
    def symptoms_consistent(self, data, **kwargs):
        no_other_with_none(data.get("symptoms"), "symptoms")


# ---------------------------------------------------------------- encounter 接诊记录

class Encounter(Record):
    subjective = text()
    objective = text()
    assessment = text(required=True)
    plan = text()


# ---------------------------------------------------------------- follow-ups 重点人群随访

class Followup(Record):
    population = fields.String(required=True)
    method = choice(("clinic", "home", "phone"))
    next_followup = fields.Date(metadata={"description": "planned day of the next follow-up, within a year"})

    @validates_schema
    def next_after_this(self, data, **kwargs):
        planned, day = data.get("next_followup"), data.get("date")
        if planned and day and not day < planned <= day + timedelta(days=366):
            raise ValidationError(
                f"Must be after the follow-up date and within a year: {day + timedelta(days=1)} "
                f"to {day + timedelta(days=366)}.", "next_followup")


ADHERENCE = ("regular", "intermittent", "none")
# 本次随访分类: controlled, not controlled, adverse drug reaction, complication
CONTROL = ("satisfactory", "unsatisfactory", "adverse_reaction", "complication")


class HypertensionFollowup(Followup, Weighed):
    blood_pressure = fields.Nested(BloodPressure, required=True)
    heart_rate = count(30, 220, "beats/min")
    symptoms = codes(("none", "headache_dizziness", "nausea_vomiting", "blurred_vision_tinnitus", "dyspnea",
                      "palpitation_sweating", "nosebleed", "limb_numbness", "lower_limb_edema", "other"))
    daily_cigarettes = count(0, 100, "cigarettes/day")
    daily_liang = measure(0, 50, "liang/day (两, 50 g)")
    exercise_per_week = count(0, 21, "sessions/week")
    salt = choice(("light", "moderate", "heavy"))
    adherence = choice(ADHERENCE, required=True)
    adverse_reactions = text()
    control = choice(CONTROL, required=True)
    medications = medications()

    @validates_schema
    def symptoms_consistent(self, data, **kwargs):
        no_other_with_none(data.get("symptoms"), "symptoms")


class DiabetesFollowup(Followup, Weighed):
    fasting_glucose = measure(1, 35, "mmol/L", required=True)
    hba1c = measure(3, 20, "%")
    blood_pressure = fields.Nested(BloodPressure)
    dorsalis_pedis_pulse = choice(("normal", "weakened", "absent"))
    symptoms = codes(("none", "polydipsia", "polyphagia", "polyuria", "blurred_vision", "infection",
                      "numbness", "edema", "weight_loss", "other"))
    hypoglycemia = choice(("none", "occasional", "frequent"))
    adherence = choice(ADHERENCE, required=True)
    control = choice(CONTROL, required=True)
    medications = medications()
    insulin = text("insulin kind and dose")

    @validates_schema
    def symptoms_consistent(self, data, **kwargs):
        no_other_with_none(data.get("symptoms"), "symptoms")


class ChildFollowup(Followup):
    height = measure(30, 150, "cm", required=True)
    weight = measure(1, 50, "kg", required=True)
    head_circumference = measure(25, 60, "cm")
    development = choice(("normal", "abnormal"))
    guidance = text()


class MaternalFollowup(Followup):
    visit = choice(("prenatal", "postpartum", "postpartum_42d"), required=True)
    gestational_week = count(1, 45, "weeks")
    blood_pressure = fields.Nested(BloodPressure)
    weight = measure(30, 200, "kg")
    fundal_height = measure(5, 50, "cm")
    fetal_heart_rate = count(60, 220, "beats/min")
    hemoglobin = count(30, 250, "g/L")
    classification = choice(("normal", "abnormal"))
    guidance = text()

    @validates_schema
    def week_for_prenatal(self, data, **kwargs):
        if data.get("visit") == "prenatal" and "gestational_week" not in data:
            raise ValidationError("A prenatal visit needs the gestational week (1 to 45 weeks).",
                                  "gestational_week")


# 老年人生活自理能力评估表: the sum of five items, 0-37.
SELF_CARE_LEVELS = ((3, "independent"), (8, "mildly_dependent"), (18, "moderately_dependent"),
                    (37, "dependent"))


class ElderlyFollowup(Followup):
    self_care_score = count(0, 37, "points", required=True)
    self_care_level = fields.String(dump_only=True, metadata={"description": "from the score"})
    self_rating = choice(("satisfied", "fairly_satisfied", "unsure", "fairly_dissatisfied", "dissatisfied"))
    cognition = choice(("negative", "positive"), "screen result")
    emotion = choice(("negative", "positive"), "screen result")

    @post_load
    def level(self, data, **kwargs):
        data["self_care_level"] = next(level for top, level in SELF_CARE_LEVELS if data["self_care_score"] <= top)
        return data


# The key populations with a follow-up form; add a population by adding its schema here.
POPULATIONS = {
    "hypertension": HypertensionFollowup,
    "diabetes": DiabetesFollowup,
    "child": ChildFollowup,
    "maternal": MaternalFollowup,
    "elderly": ElderlyFollowup,
}


# ---------------------------------------------------------------- other service records

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
    admitted = fields.Date(required=True, validate=past_date)
    discharged = fields.Date(validate=past_date)
    diagnosis = text(required=True)
    outcome = choice(("cured", "improved", "unchanged", "transferred", "died"))

    @validates_schema
    def discharge_after_admission(self, data, **kwargs):
        if "discharged" in data and "admitted" in data and data["discharged"] < data["admitted"]:
            raise ValidationError(f"Must not be before the admission date ({data['admitted'].isoformat()}).",
                                  "discharged")


KINDS = {
    "checkup": Checkup,
    "encounter": Encounter,
    "followup": POPULATIONS,
    "referral": Referral,
    "consultation": Consultation,
    "hospitalization": Hospitalization,
}


def schema_for(kind, population=None):
    """The schema instance of a kind (a follow-up's also depends on its population)."""
    schema = KINDS.get(kind) if isinstance(kind, str) else None
    if schema is None:
        raise ValidationError({"kind": [f"Must be one of: {', '.join(KINDS)}."]})
    if isinstance(schema, dict):
        schema = schema.get(population) if isinstance(population, str) else None
        if schema is None:
            raise ValidationError({"population": [f"Must be one of: {', '.join(POPULATIONS)}."]})
    return _instances.setdefault(schema, schema())


_instances = {}


def flat(messages, prefix=""):
    """{"general": {"weight": [...]}} as {"general.weight": [...]}: one key per field."""
    if not isinstance(messages, dict):
        return {prefix.rstrip(".") or "_body": messages}
    out = {}
    for key, value in messages.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def validate_record(body):
    """The record `body` checked by its kind's schema, in JSON form; ValidationError with
    one dotted key per bad field otherwise."""
    if not isinstance(body, dict):
        raise ValidationError({"_body": ["Send a JSON object."]})
    schema = schema_for(body.get("kind"), body.get("population"))
    try:
        return schema.dump(schema.load(body))
    except ValidationError as error:
        errors = flat(error.messages)
        for path in errors:
            field = field_at(schema, path)
            if field is not None and field.dump_only:
                what = field.metadata.get("description") or "set by the service"
                errors[path] = [f"Leave this field out: it is {what}."]
        raise ValidationError(errors) from None


def field_at(schema, path):
    """The field a dotted error path names ("general.bmi", "medications.0.name"), or None."""
    field = None
    for part in path.split("."):
        if field is not None:
            if isinstance(field, fields.List):
                field = field.inner
                if part.isdigit():
                    continue
            if not isinstance(field, fields.Nested):
                return None
            schema = field.schema
        field = schema.fields.get(part)
        if field is None:
            return None
    return field


class RecordBody(Schema):
    """A new record: `kind`, `date` and the fields of that kind's form (see the
    Record* schemas); follow-ups also name their `population`."""

    kind = choice(tuple(KINDS), required=True)
    date = fields.Date(required=True)
    population = choice(tuple(POPULATIONS), "follow-ups only")

    def load(self, data, **kwargs):
        # The fields depend on the kind, so the kind's own schema does the loading.
        return validate_record(data)


class RecordBatchBody(Schema):
    """The forms of one visit (a checkup with its follow-ups, say), appended together."""

    records = fields.List(fields.Dict(), required=True, metadata={"description": "1 to 20 record bodies"})

    def load(self, data, **kwargs):
        forms = data.get("records") if isinstance(data, dict) else None
        if not isinstance(forms, list) or not 1 <= len(forms) <= BATCH_MAX or set(data) != {"records"}:
            raise ValidationError({"records": [f"Must be a list of 1 to {BATCH_MAX} record bodies, and alone."]})
        valid, errors = [], {}
        for n, form in enumerate(forms):
            try:
                valid.append(validate_record(form))
            except ValidationError as error:
                errors.update({f"records.{n}.{field}": messages for field, messages in error.messages.items()})
        if errors:
            raise ValidationError(errors)
        return {"records": valid}


class AmendBody(Schema):
    changes = fields.Dict(required=True, validate=validate.Length(min=1, error="Name at least one change."),
                          metadata={"description": "fields to change; objects merge, null removes a field"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500,
                                                                   error="Must be 1 to 500 characters."))


class TimelineQuery(PageQuery):
    kind = choice(tuple(KINDS))
    population = choice(tuple(POPULATIONS))
    since = fields.Date(metadata={"description": "records on or after this day"})
    history = fields.Boolean(load_default=False, metadata={"description": "include superseded versions"})


class DueQuery(Schema):
    village = fields.String(required=True, validate=validate.Regexp(r"^\d{12}$", error="Must be a 12-digit "
                                                                                        "village code."))


class Change(Schema):
    type = fields.String(metadata={"enum": ["amend", "receipt"]})
    by = fields.String()
    at = fields.DateTime()
    reason = fields.String()


class RecordOut(Schema):
    """A record as returned: the form's fields plus these."""

    class Meta:
        ordered = True

    id = fields.String(metadata={"description": "record id, the same for all its versions"})
    version = fields.Integer()
    current = fields.Boolean(metadata={"description": "false for a superseded version"})
    archive_id = fields.String()
    village = fields.String()
    kind = fields.String()
    date = fields.Date()
    author = fields.String()
    created_at = fields.DateTime()
    change = fields.Nested(Change, metadata={"description": "what made this version (versions after the first)"})
    history = fields.List(fields.Dict(), metadata={"description": "single record reads: earlier versions"})


class RecordList(Page):
    items = fields.List(fields.Nested(RecordOut))


class IncomingQuery(PageQuery):
    status = choice(("sent", "received"), load_default="sent")


class ReceiptOut(Schema):
    id = fields.String()
    version = fields.Integer()
    status = fields.String()
    received_by = fields.String()
    received_at = fields.String(metadata={"description": "ISO 8601 time, UTC"})


class DueItem(Schema):
    archive_id = fields.String()
    name = fields.String()
    reason = fields.String(metadata={"enum": ["hypertension", "diabetes", "elderly_checkup"]})
    last_date = fields.Date(allow_none=True, metadata={"description": "last follow-up / checkup, if any"})
    due_since = fields.Date(metadata={"description": "day it became due"})


class DueList(Schema):
    village = fields.String()
    as_of = fields.Date()
    items = fields.List(fields.Nested(DueItem))
