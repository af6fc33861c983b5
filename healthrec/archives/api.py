"""/api/v1/archives: create, read, change (If-Match), search, close and review."""

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from healthrec.archives import service
from healthrec.openapi import links
from schemas.archives import (
    Archive,
    ArchiveChange,
    ArchiveCreate,
    ArchiveList,
    ArchiveListQuery,
    ArchiveQuery,
    CloseRequest,
    ReviewRequest,
)
from schemas.common import IDEMPOTENCY_KEY

blp = Blueprint("archives", __name__, url_prefix="/api/v1/archives",
                description="Resident health archives (居民健康档案)")


def etag(archive):
    return f'"{archive["id"]}.{archive["version"]}"'


def if_match_version(target_id):
    """The version of archive or record `target_id` the client's If-Match names; None
    without the header, 0 for an ETag of something else (never a current version, so the
    service answers 412)."""
    if "If-Match" not in request.headers or request.if_match.star_tag:
        return None  # "*" would match any version and so protect nothing
    for tag in request.if_match.as_set():
        code, _, version = tag.rpartition(".")
        if code == target_id and version.isascii() and version.isdigit():
            return int(version)
    return 0


def answer(archive, warnings=None, status=200):
    if warnings is not None:
        archive = {**archive, "warnings": warnings}
    return archive, status, {"ETag": etag(archive)}


# Where a new archive leads: reading and changing it, its records, consents and contracts.
THE_ARCHIVE = {"archive_id": "$response.body#/id"}
NEXT_STEPS = {
    **{endpoint: THE_ARCHIVE for endpoint in (
        "archives.get", "archives.close", "archives.review", "records.create", "records.create_batch",
        "records.timeline", "access.consent_log", "contracts.archive_contracts", "audit.disclosures")},
    "archives.change": {**THE_ARCHIVE, "header.If-Match": "$response.header.ETag"},
}


@blp.route("", methods=["POST"])
@blp.arguments(ArchiveCreate)
@blp.response(201, Archive)
@blp.alt_response(200, schema=Archive, description="An Idempotency-Key repeat: the archive the first one made")
@blp.alt_response(403, description="Not a clinician of that village")
@blp.alt_response(409, description="The ID card already has an archive (`existing_id` when yours to see)")
@blp.alt_response(422, description="Field errors, keyed by field")
@blp.doc(parameters=[IDEMPOTENCY_KEY], **links(201, NEXT_STEPS))
def create(body):
    """Create a resident's archive; its id is the village code and the next serial."""
    archive, warnings, created = service.create_archive(current_user, body,
                                                        idempotency_key=request.headers.get("Idempotency-Key"))
    return answer(archive, warnings, 201 if created else 200)


@blp.route("", methods=["GET"])
@blp.arguments(ArchiveListQuery, location="query")
@blp.response(200, ArchiveList)
@blp.alt_response(403, description="A role that does not use archives")
@blp.alt_response(400, description="`name` or `id_card` in the URL: search with POST /api/v1/archives/search")
def search(query):
    """Archives within your region. A name or ID card in a URL ends up in access logs, so
    they are refused here (400): POST /api/v1/archives/search takes them in a body."""
    return service.search_archives(current_user, **query)


@blp.route("/search", methods=["POST"])
@blp.arguments(ArchiveQuery)
@blp.response(200, ArchiveList)
@blp.alt_response(403, description="A role that does not use archives")
def search_by_body(query):
    """The archives within your region that match every filter; name and id_card match
    exactly. Each result shown is in that resident's disclosure report."""
    return service.search_archives(current_user, **query)


@blp.route("/<archive_id>", methods=["GET"])
@blp.response(200, Archive)
@blp.alt_response(403, description="Outside your region and no active grant")
@blp.alt_response(404, description="No such archive")
def get(archive_id):
    """One archive, decrypted, with its version (also as ETag)."""
    return answer(service.get_archive(current_user, archive_id))


@blp.route("/<archive_id>", methods=["PATCH"])
@blp.arguments(ArchiveChange)
@blp.response(200, Archive)
@blp.alt_response(403, description="Outside your region")
@blp.alt_response(409, description="The archive is closed")
@blp.alt_response(412, description="Changed since the ETag in If-Match")
@blp.alt_response(428, description="If-Match is missing")
def change(body, archive_id):
    """Change some fields; needs If-Match with the archive's ETag. null clears a field."""
    archive, warnings = service.update_archive(current_user, archive_id, body, if_match_version(archive_id))
    return answer(archive, warnings)


@blp.route("/<archive_id>/close", methods=["POST"])
@blp.arguments(CloseRequest)
@blp.response(200, Archive)
@blp.alt_response(403, description="Outside your region")
@blp.alt_response(409, description="Already closed")
@blp.alt_response(412, description="Changed since the ETag in If-Match")
def close(body, archive_id):
    """Close an archive (death, moved_away, lost_to_follow_up, duplicate, other); it stays readable."""
    archive = service.close_archive(current_user, archive_id, body["reason"], body["date"],
                                    body.get("note"), body.get("duplicate_of"), if_match_version(archive_id),
                                    cause=body.get("cause"), destination=body.get("destination"))
    return answer(archive)


@blp.route("/<archive_id>/review", methods=["POST"])
@blp.arguments(ReviewRequest)
@blp.response(200, Archive)
@blp.alt_response(403, description="Not staff of the archive's township")
@blp.alt_response(412, description="Changed since the ETag in If-Match")
def review(body, archive_id):
    """Township staff's verdict on the archive's content: qualified or needs_correction."""
    archive = service.review_archive(current_user, archive_id, body["verdict"], body.get("note"),
                                     if_match_version(archive_id))
    return answer(archive)
