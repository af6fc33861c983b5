"""/api/v1/metrics: the plan's indicators as JSON, Excel or CSV, and verification samples."""

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from healthrec.metrics import exports, indicators, samples
from schemas.common import IDEMPOTENCY_KEY
from schemas.metrics import Coverage, CoverageQuery, Result, ResultIn, Sample, SampleIn, SampleList, SampleQuery

blp = Blueprint("metrics", __name__, url_prefix="/api/v1/metrics",
                description="Indicators (建档率, 合格率, 使用率, 真实率) and verification samples")

FILE = {"type": "string", "format": "binary"}


@blp.route("/coverage")
@blp.arguments(CoverageQuery, location="query")
@blp.response(200, Coverage, description="The figures as JSON; with format=xlsx or csv the same table as an Excel "
                                         "workbook (application/vnd.openxmlformats-officedocument.spreadsheetml."
                                         "sheet) or a CSV (text/csv, UTF-8 with a byte-order mark)")
@blp.alt_response(200, schema=FILE, content_type=exports.FILES["xlsx"][0], success=True)
@blp.alt_response(200, schema=FILE, content_type="text/csv", success=True)
@blp.alt_response(403, description="Outside your region")
@blp.alt_response(404, description="No such region")
def coverage(query):
    """The indicators of a region and of each region one level down, as of a day."""
    table = indicators.coverage(current_user, query.get("region"), query.get("as_of"), query.get("period"))
    if query["format"] == "json":
        return table
    return exports.download(table, query["format"])


@blp.route("/samples", methods=["POST"])
@blp.arguments(SampleIn)
@blp.response(201, Sample)
@blp.alt_response(403, description="Not an assessor of the region")
@blp.alt_response(422, description="Field errors: size beyond the archived archives, unknown checkers, due")
@blp.alt_response(200, schema=Sample, description="An Idempotency-Key repeat: the sample the first one drew")
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def draw(body):
    """Draw a uniform random sample of the archived archives of a region, for checkers to verify."""
    sample, created = samples.draw(current_user, **body, idempotency_key=request.headers.get("Idempotency-Key"))
    return sample, 201 if created else 200


@blp.route("/samples", methods=["GET"])
@blp.arguments(SampleQuery, location="query")
@blp.response(200, SampleList)
def list_samples(query):
    """Samples you check or drew, newest first."""
    return samples.list_samples(current_user, **query)


@blp.route("/samples/<sample_id>", methods=["GET"])
@blp.response(200, Sample)
@blp.alt_response(403, description="Not a checker, the one who drew it, or an assessor of its region")
@blp.alt_response(404, description="No such sample")
def get_sample(sample_id):
    """The sample with each drawn archive's result so far."""
    return samples.get_sample(current_user, sample_id)


@blp.route("/samples/<sample_id>/results", methods=["POST"])
@blp.arguments(ResultIn)
@blp.response(200, Result)
@blp.alt_response(403, description="Not a checker of the sample")
@blp.alt_response(409, description="The sample has ended, or another result was recorded for the archive")
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def record_result(body, sample_id):
    """Record a checker's result for one drawn archive: qualified, and true by phone, logic or home visit."""
    return samples.record_result(current_user, sample_id, **body,
                                 idempotency_key=request.headers.get("Idempotency-Key"))


@blp.route("/samples/<sample_id>/close", methods=["POST"])
@blp.response(200, Sample)
@blp.alt_response(403, description="Neither whoever drew it nor an assessor of its region")
@blp.alt_response(409, description="Already ended")
def close(sample_id):
    """End the sample before its last day; the checkers' access ends with it."""
    return samples.close(current_user, sample_id)
