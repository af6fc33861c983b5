"""Indicators and verification samples: what clients send and what they get back."""

import re
from datetime import date

from flask_babel import lazy_gettext as _l
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.common import ArchiveId
from schemas.paging import Page, PageQuery

REGION = validate.Regexp(r"^(\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$", error=(
    "Give a region code: 12 digits (village), 9 (township), 6 (county), or 4 or 2 (prefecture, province)."))
PERIOD = re.compile(r"^(\d{4})$|^(\d{4}-\d{2}-\d{2})/(\d{4}-\d{2}-\d{2})$")
PERIOD_HELP = "Give a year (2026) or a first and last day joined by a slash (2026-01-01/2026-06-30)."
METHODS = {"phone": _l("Phone call"), "logic": _l("Logic check"), "home_visit": _l("Home visit in person")}
SAMPLE_STATUSES = ("open", "expired", "closed")


class Period(fields.String):
    """A reporting period: a calendar year, or a first and last day; loads as (first, last)."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        match = PERIOD.match(text)
        try:
            if match and match.group(1):
                year = int(match.group(1))
                return date(year, 1, 1), date(year, 12, 31)
            if match:
                first, last = date.fromisoformat(match.group(2)), date.fromisoformat(match.group(3))
                if first <= last:
                    return first, last
                raise ValidationError("The first day comes after the last; " + PERIOD_HELP)
        except ValueError:
            pass
        raise ValidationError(PERIOD_HELP)


class CoverageQuery(Schema):
    region = fields.String(validate=REGION, metadata={"label": _l("Region code"),
                                                      "description": "default: your own region"})
    as_of = fields.Date(metadata={"label": _l("Figures as of"),
                                  "description": "the day the figures are for (default today, China time)"})
    period = Period(metadata={"label": _l("Assessment period (a year, or first/last day)"),
                              "description": "when sample results count: a year (2026) or first/last day "
                                             "(2026-01-01/2026-06-30); default 1 January of as_of's year "
                                             "to as_of"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "xlsx", "csv")),
                           metadata={"description": "json, or the same table as an Excel workbook or CSV"})


class Target(Schema):
    rate = fields.Integer(allow_none=True, metadata={"description": "coverage target in %; null: none"})
    met = fields.Boolean(allow_none=True, metadata={"description": "null when the target or coverage is unknown"})


class Elderly(Schema):
    archived = fields.Integer(metadata={"description": "archived residents aged 65 or over on as_of"})
    checked_up = fields.Integer(metadata={"description": "of them, with a checkup from 1 January to as_of"})
    management_rate = fields.Float(allow_none=True)


class Chronic(Schema):
    archived = fields.Integer(metadata={"description": "archived patients (the doctor's flag)"})
    managed = fields.Integer(metadata={"description": "with a follow-up within the last year"})
    standardised = fields.Integer(metadata={"description": "with face-to-face follow-ups on 4 or more days "
                                                           "within the last year"})
    controlled = fields.Integer(metadata={"description": "managed, and the last follow-up found it controlled"})
    standardised_rate = fields.Float(allow_none=True, metadata={"description": "standardised / archived"})
    control_rate = fields.Float(allow_none=True, metadata={"description": "controlled / managed"})


class Figures(Schema):
    """The indicators of a region or of its urban or rural part; rates are percentages with
    one decimal, null where the denominator is 0 or unknown."""

    population = fields.Integer(allow_none=True, metadata={"description": "resident population (常住人口) in "
                                                                          "as_of's year; null when unknown"})
    archived = fields.Integer()
    coverage_rate = fields.Float(allow_none=True, metadata={"description": "建档率: archived / population"})
    complete = fields.Integer()
    completeness_rate = fields.Float(allow_none=True)
    active = fields.Integer(metadata={"description": "活档: with a service record within the last year"})
    usage_rate = fields.Float(allow_none=True, metadata={"description": "使用率: active / archived"})
    checked = fields.Integer(metadata={"description": "sample results checked in the period"})
    qualified = fields.Integer()
    qualified_rate = fields.Float(allow_none=True, metadata={"description": "合格率: qualified / checked"})
    authentic = fields.Integer()
    authenticity_rate = fields.Float(allow_none=True, metadata={"description": "真实率: authentic / checked"})
    target = fields.Nested(Target)
    contracted = fields.Integer(metadata={"description": "residents under a family-doctor contract in force on "
                                                         "as_of"})
    contract_rate = fields.Float(allow_none=True, metadata={"description": "签约率: contracted / population"})
    elderly = fields.Nested(Elderly)
    hypertension = fields.Nested(Chronic)
    diabetes = fields.Nested(Chronic)


class RegionFigures(Figures):
    region = fields.String()
    name = fields.String(allow_none=True)
    level = fields.String(metadata={"enum": ["province", "prefecture", "county", "township", "village"]})
    kind = fields.String(allow_none=True, metadata={"description": "villages: urban, rural or other"})
    urban = fields.Nested(Figures, allow_none=True, metadata={"description": "townships and wider: the urban "
                                                                             "villages together"})
    rural = fields.Nested(Figures, allow_none=True)


class PeriodOut(Schema):
    from_ = fields.Date(data_key="from", attribute="from")
    to = fields.Date()


class Coverage(RegionFigures):
    as_of = fields.Date()
    period = fields.Nested(PeriodOut)
    programme_year = fields.Integer(allow_none=True)
    basis = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "what each rate is computed over: usage on all archives, qualified and authenticity "
                       "on sample results"})
    children = fields.List(fields.Nested(RegionFigures), metadata={"description": "one level down"})


class SampleIn(Schema):
    region = fields.String(required=True, validate=REGION, metadata={"label": _l("Region code")})
    size = fields.Integer(required=True, strict=True, validate=validate.Range(
        min=1, max=1000, error="Must be between 1 and 1000 archives."), metadata={"label": _l("Archives to draw")})
    seed = fields.Integer(strict=True, validate=validate.Range(min=0, max=2**53 - 1, error=(
        "Must be a whole number from 0 to 9007199254740991.")), metadata={
        "description": "repeats a draw; default a random one, answered and kept with the sample"})
    checkers = fields.List(fields.String(validate=validate.Length(min=1, max=64)),
                           validate=validate.Length(min=1, max=20), metadata={
        "label": _l("Checkers (usernames; default yourself)"),
        "description": "usernames of supervisors or township staff of the county; default yourself"})
    due = fields.Date(metadata={"label": _l("Last day of checking"),
                                "description": "the last day checkers may read and record; default and at "
                                               "most HEALTHREC_ACCESS_MAX_DAYS days away"})


class ResultIn(Schema):
    archive_id = ArchiveId(required=True, metadata={"label": _l("Archive code")})
    qualified = fields.Boolean(required=True, metadata={"label": _l("Qualified")})
    missing = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                          load_default=list, validate=validate.Length(max=30),
                          metadata={"label": _l("What it lacks (when not qualified)"),
                                    "description": "what an unqualified archive lacks"})
    authentic = fields.Boolean(required=True, metadata={"label": _l("True")})
    method = fields.String(required=True, validate=validate.OneOf(list(METHODS)),
                           metadata={"enum": list(METHODS), "label": _l("Verified by"), "labels": METHODS})
    note = fields.String(validate=validate.Length(max=2000), metadata={"label": _l("Note"),
                                                                        "description": "stored encrypted"})

    @validates_schema
    def missing_agrees(self, data, **kwargs):
        if data.get("qualified") is False and not data.get("missing"):
            raise ValidationError("Name what the archive lacks, so the village doctor can complete it.", "missing")
        if data.get("qualified") and data.get("missing"):
            raise ValidationError("A qualified archive lacks nothing; leave missing empty or set qualified "
                                  "to false.", "missing")


class Result(Schema):
    sample = fields.String()
    archive_id = fields.String()
    village = fields.String(metadata={"description": "the archive's custody when checked"})
    qualified = fields.Boolean()
    missing = fields.List(fields.String())
    authentic = fields.Boolean()
    method = fields.String()
    note = fields.String(allow_none=True)
    checked_by = fields.String()
    checked_at = fields.DateTime()
    checked_on = fields.Date()


class Frame(Schema):
    count = fields.Integer(metadata={"description": "archived archives the sample was drawn from"})
    sha256 = fields.String(metadata={"description": "over their codes in ascending order, one per line"})


class Progress(Schema):
    checked = fields.Integer(metadata={"description": "drawn archives with a result"})
    qualified = fields.Integer()
    authentic = fields.Integer()
    qualified_rate = fields.Float(allow_none=True, metadata={"description": "qualified / checked, %"})
    authenticity_rate = fields.Float(allow_none=True, metadata={"description": "authentic / checked, %"})


class Sample(Schema):
    id = fields.String()
    region = fields.String()
    size = fields.Integer()
    seed = fields.Integer()
    frame = fields.Nested(Frame)
    archives = fields.List(fields.String(), metadata={"description": "the drawn archive codes"})
    checkers = fields.List(fields.String())
    due = fields.Date()
    status = fields.String(metadata={"enum": list(SAMPLE_STATUSES)})
    created_by = fields.String()
    created_at = fields.DateTime()
    closed_by = fields.String()
    closed_at = fields.DateTime()
    results = fields.List(fields.Nested(Result))
    progress = fields.Nested(Progress, metadata={"description": "the results so far, counted"})


class SampleQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(SAMPLE_STATUSES))


class SampleList(Page):
    items = fields.List(fields.Nested(Sample), metadata={"description": "without their results, with their progress"})
