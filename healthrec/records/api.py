"""/api/v1/archives/{id}/records (append, timeline, read, amend, referral receipt),
/api/v1/followups/due and /api/v1/referrals/incoming."""

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from healthrec.archives.api import if_match_version
from healthrec.openapi import links
from healthrec.records import reads, urgent, worklists, writes
from schemas.common import IDEMPOTENCY_KEY
from schemas.records.envelopes import (
    AmendBody,
    DueList,
    DueQuery,
    IncomingList,
    IncomingQuery,
    ReceiptOut,
    RecordBatchBody,
    RecordBody,
    RecordItems,
    RecordList,
    RecordVersion,
    RecordWithHistory,
    TimelineQuery,
    UrgentList,
    UrgentQuery,
)

blp = Blueprint("records", __name__, url_prefix="/api/v1",
                description="Service records appended to archives: checkups, encounters, follow-ups, "
                            "referrals, consultations, hospital stays")


# Where a new record leads: reading it, correcting it, confirming a referral's arrival.
THE_RECORD = {"archive_id": "$response.body#/archive_id", "record_id": "$response.body#/id"}
NEXT_STEPS = {endpoint: THE_RECORD for endpoint in ("records.get", "records.amend", "records.receive")}


@blp.route("/archives/<archive_id>/records", methods=["POST"])
@blp.arguments(RecordBody)
@blp.response(201, RecordVersion, description="The record created; 200 when an Idempotency-Key repeat "
                                               "returns the first one")
@blp.alt_response(200, schema=RecordVersion, description="An Idempotency-Key repeat: the first record")
@blp.alt_response(403, description="May not write this archive")
@blp.alt_response(409, description="The archive is closed (a form dated after the closing day)")
@blp.alt_response(422, description="Field errors keyed by dotted field path, with the allowed range")
@blp.doc(parameters=[IDEMPOTENCY_KEY], **links(201, NEXT_STEPS))
def create(body, archive_id):
    """Append a service record to an archive."""
    record, created = writes.create_record(current_user, archive_id, body, request.headers.get("Idempotency-Key"))
    return record, 201 if created else 200


@blp.route("/archives/<archive_id>/records/batch", methods=["POST"])
@blp.arguments(RecordBatchBody)
@blp.response(201, RecordItems, description="The records created, in the order sent")
@blp.alt_response(200, schema=RecordItems, description="An Idempotency-Key repeat: the first records")
@blp.alt_response(403, description="May not write this archive")
@blp.alt_response(409, description="The archive is closed (a form dated after the closing day)")
@blp.alt_response(422, description="Field errors keyed records.<n>.<dotted field path>")
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def create_batch(body, archive_id):
    """Append the forms of one visit together (a checkup with its follow-ups, say)."""
    records, created = writes.create_records(current_user, archive_id, body["records"],
                                             request.headers.get("Idempotency-Key"))
    return {"items": records}, 201 if created else 200


@blp.route("/archives/<archive_id>/records", methods=["GET"])
@blp.arguments(TimelineQuery, location="query")
@blp.response(200, RecordList, description="One page of the timeline, newest first")
@blp.alt_response(403, description="May not read this archive")
def timeline(query, archive_id):
    """The archive's records, newest first; `history=true` adds superseded versions."""
    return reads.timeline(current_user, archive_id, **query)


@blp.route("/archives/<archive_id>/records/<record_id>", methods=["GET"])
@blp.response(200, RecordWithHistory, description="The current version, with the earlier ones under "
                                                   "`history`, newest first")
@blp.alt_response(403, description="May not read this archive")
def get(archive_id, record_id):
    """One record: its current version (also as ETag, for an amendment) and its history."""
    return with_etag(reads.get_record(current_user, archive_id, record_id))


@blp.route("/archives/<archive_id>/records/<record_id>/amend", methods=["POST"])
@blp.arguments(AmendBody)
@blp.response(200, RecordVersion, description="The new current version")
@blp.alt_response(403, description="May not write this archive")
@blp.alt_response(409, description="Changed by someone else at the same moment, or the archive is closed")
@blp.alt_response(412, description="Changed since the ETag in If-Match")
@blp.alt_response(422, description="Field errors of the whole amended record, keyed changes.<field>")
@blp.alt_response(428, description="If-Match is missing")
def amend(body, archive_id, record_id):
    """Correct a record: a new version with the changes; the old one stays in its history.
    Needs If-Match with the record's ETag (from GET of the record)."""
    return with_etag(writes.amend_record(current_user, archive_id, record_id, body["changes"], body["reason"],
                                         if_match_version(record_id)))


def with_etag(record):
    return record, 200, {"ETag": f'"{record["id"]}.{record["version"]}"'}


@blp.route("/archives/<archive_id>/records/<record_id>/receive", methods=["POST"])
@blp.response(200, ReceiptOut)
@blp.alt_response(403, description="Not the receiving side")
@blp.alt_response(409, description="Already received")
def receive(archive_id, record_id):
    """The receiving side confirms a referral arrived (status sent -> received)."""
    return writes.receive_referral(current_user, archive_id, record_id)


@blp.route("/followups/due", methods=["GET"])
@blp.arguments(DueQuery, location="query")
@blp.response(200, DueList)
@blp.alt_response(403, description="Not a clinician of that village")
def due(query):
    """What a village's residents are due for by the national specification, on or before
    today + `within` days: the urgent first, then follow-ups, checkups and visits."""
    return worklists.followups_due(current_user, query["village"], query["within"])


@blp.route("/followups/urgent", methods=["GET"])
@blp.arguments(UrgentQuery, location="query")
@blp.response(200, UrgentList)
@blp.alt_response(403, description="Outside your region, or a role that does not use archives")
def urgent_list(query):
    """Residents of a township (or village) with a danger value whose referral is not
    recorded yet, the longest waiting first."""
    return urgent.urgent_list(current_user, query.get("region"))


@blp.route("/referrals/incoming", methods=["GET"])
@blp.arguments(IncomingQuery, location="query")
@blp.response(200, IncomingList)
@blp.alt_response(403, description="Only village doctors and township staff receive referrals")
def incoming(query):
    """Referrals to institutions in your region, for confirming their receipt."""
    return worklists.incoming_referrals(current_user, **query)
