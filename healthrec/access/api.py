"""Access requests, the consent log and break-glass over HTTP (docs/api.md)."""

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from healthrec.access import alerts, requests
from healthrec.access import break_glass as openings
from healthrec.access import consent_log as consents
from schemas.access import (
    AccessRequest,
    AccessRequestIn,
    AccessRequestList,
    AccessRequestQuery,
    AcknowledgeIn,
    AlertList,
    BreakGlass,
    BreakGlassCounts,
    BreakGlassCountsQuery,
    BreakGlassIn,
    BreakGlassList,
    BreakGlassQuery,
    Consent,
    ConsentIn,
    DecisionIn,
)
from schemas.common import IDEMPOTENCY_KEY
from schemas.paging import PageQuery

blp = Blueprint("access", __name__, url_prefix="/api/v1",
                description="Access requests, consent log and break-glass (plan item 7)")


@blp.route("/access-requests", methods=["POST"])
@blp.arguments(AccessRequestIn)
@blp.response(201, AccessRequest)
@blp.alt_response(403, description="Administrators hold no clinical data")
@blp.alt_response(404, description="No such archive")
@blp.alt_response(200, schema=AccessRequest, description="An Idempotency-Key repeat: the request the first one made")
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def create_request(body):
    """File a written application to use an archive outside one's own scope."""
    filed, created = requests.create_request(current_user, **body,
                                             idempotency_key=request.headers.get("Idempotency-Key"))
    return filed, 201 if created else 200


@blp.route("/access-requests", methods=["GET"])
@blp.arguments(AccessRequestQuery, location="query")
@blp.response(200, AccessRequestList)
def list_requests(query):
    """Requests the caller made, and those they must decide or record consent for; newest first."""
    return requests.list_requests(current_user, **query)


@blp.route("/access-requests/<request_id>", methods=["GET"])
@blp.response(200, AccessRequest)
@blp.alt_response(403, description="Neither the requester nor the archive's staff")
@blp.alt_response(404, description="No such request")
def get_request(request_id):
    """One request with its status."""
    return requests.get_request(current_user, request_id)


@blp.route("/access-requests/<request_id>/decision", methods=["POST"])
@blp.arguments(DecisionIn)
@blp.response(200, AccessRequest)
@blp.alt_response(403, description="Not staff of the archive's township, or the requester")
@blp.alt_response(409, description="The request is not pending")
def decide(body, request_id):
    """Approve (then consent is needed) or reject a pending request."""
    return requests.decide(current_user, request_id, body["decision"], body.get("note"))


@blp.route("/access-requests/<request_id>/consent", methods=["POST"])
@blp.arguments(ConsentIn)
@blp.response(200, AccessRequest)
@blp.alt_response(403, description="Not the archive's township staff or village doctor")
@blp.alt_response(409, description="Not awaiting consent (granted, refused) or not active (withdrawn)")
def consent(body, request_id):
    """Record the resident's or guardian's consent, refusal or withdrawal."""
    return requests.record_consent(current_user, request_id, **body)


@blp.route("/access-requests/<request_id>/revoke", methods=["POST"])
@blp.response(200, AccessRequest)
@blp.alt_response(403, description="Neither the requester nor the archive's township staff")
@blp.alt_response(409, description="The request has already ended")
def revoke(request_id):
    """End a request or grant before its time."""
    return requests.revoke(current_user, request_id)


@blp.route("/archives/<archive_id>/consents", methods=["GET"])
@blp.response(200, Consent(many=True))
@blp.alt_response(403, description="May not read this archive")
@blp.alt_response(404, description="No such archive")
def consent_log(archive_id):
    """The archive's consent log, oldest first: enrolment and access consents, withdrawals."""
    return consents.consent_log(current_user, archive_id)


@blp.route("/archives/<archive_id>/consents", methods=["POST"])
@blp.arguments(ConsentIn)
@blp.response(201, Consent)
@blp.alt_response(403, description="Not the archive's township staff or village doctor")
@blp.alt_response(404, description="No such archive")
@blp.alt_response(200, schema=Consent, description="An Idempotency-Key repeat: the entry the first one made")
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def enrolment_consent(body, archive_id):
    """Append the resident's consent to, refusal or withdrawal of keeping the archive."""
    entry, created = consents.log_enrolment_consent(current_user, archive_id, **body,
                                                    idempotency_key=request.headers.get("Idempotency-Key"))
    return entry, 201 if created else 200


@blp.route("/archives/<archive_id>/break-glass", methods=["POST"])
@blp.arguments(BreakGlassIn)
@blp.response(201, BreakGlass)
@blp.alt_response(403, description="Not a clinician")
@blp.alt_response(404, description="No such archive")
@blp.alt_response(404, description="No such archive, or one of another county: the same answer")
@blp.alt_response(409, description="Within your scope already, or already open to you")
@blp.alt_response(429, description="The day's openings (HEALTHREC_BREAK_GLASS_PER_DAY) are used up")
@blp.alt_response(200, schema=BreakGlass, description="An Idempotency-Key repeat: the opening the first one made")
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def break_glass(body, archive_id):
    """Open an archive of your county outside your scope in an emergency; the township reviews it."""
    opening, created = openings.open_archive(current_user, archive_id, body["reason"],
                                             request.headers.get("Idempotency-Key"))
    return opening, 201 if created else 200


@blp.route("/break-glass", methods=["GET"])
@blp.arguments(BreakGlassQuery, location="query")
@blp.response(200, BreakGlassList)
def list_break_glass(query):
    """Township staff: their township's emergency openings (the review queue); others: their own."""
    return openings.list_openings(current_user, **query)


@blp.route("/break-glass/alerts", methods=["GET"])
@blp.arguments(PageQuery, location="query")
@blp.response(200, AlertList)
@blp.alt_response(403, description="Neither township staff nor a supervisor")
def list_alerts(query):
    """Alerts about clinicians of your township (staff) or region (supervisors), newest
    first: one who has nearly used up the day's emergency openings."""
    return alerts.list_alerts(current_user, **query)


@blp.route("/break-glass/<opening_id>/acknowledge", methods=["POST"])
@blp.arguments(AcknowledgeIn)
@blp.response(200, BreakGlass)
@blp.alt_response(403, description="Not staff of the archive's township")
@blp.alt_response(409, description="Already acknowledged")
def acknowledge(body, opening_id):
    """Mark an emergency opening as reviewed."""
    return openings.acknowledge(current_user, opening_id, body.get("note"))


@blp.route("/break-glass/counts", methods=["GET"])
@blp.arguments(BreakGlassCountsQuery, location="query")
@blp.response(200, BreakGlassCounts)
@blp.alt_response(403, description="Not a supervisor of the region")
def break_glass_counts(query):
    """Emergency openings per township, and how many await review."""
    return openings.counts(current_user, query.get("region"), query.get("since"))
