"""Access requests (plan item 7): anyone outside the archive's own service staff files a
written application; the archive's township health centre approves it, then the resident
or guardian consents, and the requester may read the archive for the days asked.

Every step is a claimed transition (`transitions`) and an audit entry; refusals, and
steps the request's state does not allow, are audited as denials.
"""

from datetime import timedelta
from functools import partial

from bson import ObjectId
from flask import current_app

from healthrec import idempotency
from healthrec.access import consents, policy
from healthrec.access.grants import effective_status
from healthrec.access.transitions import REQUESTS, load, transition, unsealed
from healthrec.archives.service import custody, follow_custody
from healthrec.audit import pending
from healthrec.audit.log import record, refusals
from healthrec.auth.roles import TOWNSHIP_STAFF, VILLAGE_DOCTOR
from healthrec.clock import now
from healthrec.crypto import keyring
from healthrec.db import get_db
from healthrec.errors import Conflict, Invalid
from healthrec.paging import page_of_union


def _where(doc):
    """Where an audit entry about request `doc` belongs, and what it was for."""
    return {"archive_id": doc["archive_id"], "region": doc["village"], "township": doc["township"],
            "grant": doc["_id"], "purpose": doc["purpose"]}


def create_request(user, archive_id, purpose, application, days, idempotency_key=None):
    """File a request; (request, created): created is False when an Idempotency-Key repeat
    answers the request its first use filed."""
    with refusals(user, "access.request", archive_id=archive_id):
        policy.check_request(user)
    limit = current_app.config["ACCESS_MAX_DAYS"]
    if days > limit:
        raise Invalid(f"At most {limit} days can be requested; ask again when they run out.",
                      {"days": [f"At most {limit}."]})
    place = custody(archive_id)
    claim = idempotency.claim(user, idempotency_key, "access.request",
                              [archive_id, purpose, application, days], ref=str(ObjectId()))
    made = idempotency.made_before(claim, REQUESTS)
    if made:
        return present_request(made), False
    request_id = claim.ref if claim else str(ObjectId())
    doc = {
        "_id": request_id, "archive_id": archive_id, **place,
        "requester": user.username, "requester_role": user.role,
        "purpose": purpose.strip(),
        "application": keyring().seal(application, request_id, "application"),
        "days": days, "status": "pending", "created_at": now(),
    }
    doc = pending.insert(REQUESTS, doc, pending.intent(user, "access.request", intent_id=claim and claim.id,
                                                        **_where(doc)))
    doc.update(follow_custody(REQUESTS, archive_id, [request_id], {"village": doc["village"],
                                                                   "township": doc["township"]}))
    return present_request(doc), True


def _step(user, action, doc, states, check, to, changes, **extra):
    """Check who may, that the request is in one of `states`, and make the transition."""
    with refusals(user, action, **_where(doc)):
        check(user, doc)
        status = effective_status(doc, now())
        if status not in states:
            raise Conflict(f"The request is {status}, and this step needs it {' or '.join(states)}; "
                           "nothing was changed.", request_status=status)
        doc = transition(user, REQUESTS, doc, to, changes, pending.intent(user, action, **_where(doc)), **extra)
    return present_request(doc)


def decide(user, request_id, decision, note=None):
    """Township staff of the archive's township approve or reject a pending request."""
    doc = load(REQUESTS, request_id)
    return _step(user, f"access.{decision}", doc, ("pending",), policy.check_decide,
                 "awaiting_consent" if decision == "approve" else "rejected",
                 {"decided_by": user.username, "decided_at": now()},
                 secrets={"decision_note": note} if note else None)


def record_consent(user, request_id, decision, **giver):
    """The resident's (or guardian's) answer to an approved request, or their withdrawal
    of a consent given before; recorded by the archive's own service staff."""
    doc = load(REQUESTS, request_id)
    entry = consents.entry(user, doc["archive_id"], decision, giver,
                           kind="access", request_id=request_id, purpose=doc["purpose"])
    at = entry["at"]
    if decision == "granted":
        to, changes = "active", {"valid_until": at + timedelta(days=doc["days"])}
    elif decision == "refused":
        to, changes = "refused", {}
    else:
        to, changes = "withdrawn", {"ended_by": user.username, "ended_at": at}
    withdrawal = decision == "withdrawn"
    states = ("active",) if withdrawal else ("awaiting_consent",)
    check = partial(policy.check_consent, withdrawal=withdrawal,
                    approver_may=bool(current_app.config["APPROVER_MAY_RECORD_CONSENT"]))
    return _step(user, f"access.consent_{decision}", doc, states, check, to, changes, consent=entry)


def revoke(user, request_id):
    """The requester gives up a request, or the township health centre ends it."""
    doc = load(REQUESTS, request_id)
    return _step(user, "access.revoke", doc, ("pending", "awaiting_consent", "active"), policy.check_revoke,
                 "revoked", {"ended_by": user.username, "ended_at": now()})


def get_request(user, request_id):
    doc = load(REQUESTS, request_id)
    with refusals(user, "access.view", **_where(doc)):
        policy.check_view(user, doc)
    # The application says what is wanted of the resident: its reading is a disclosure.
    record(user, "access.view", **_where(doc))
    return present_request(doc)


def print_request(user, request_id):
    """The request for printing its application and consent record; audited as a print."""
    doc = load(REQUESTS, request_id)
    with refusals(user, "access.print", **_where(doc)):
        policy.check_view(user, doc)
    record(user, "access.print", **_where(doc))
    return present_request(doc)


def list_requests(user, status=None, page=1, per_page=None):
    """Requests the caller made, and those they must decide or record consent for."""
    queries = [{"requester": user.username}]
    if user.role == TOWNSHIP_STAFF:
        queries.append({"township": user.region, "requester": {"$ne": user.username}})
    elif user.role == VILLAGE_DOCTOR:
        queries.append({"village": user.region, "requester": {"$ne": user.username}})
    at = now()
    if status:
        queries = [{**query, **_status_query(status, at)} for query in queries]
    result = page_of_union(get_db()[REQUESTS], queries, [("created_at", -1), ("_id", -1)], page, per_page,
                           lambda doc: present_request(doc, at))
    record(user, "access.list", region=user.region,
           detail={"filters": ["status"] if status else [], "total": result["total"],
                   "shown": sorted({item["archive_id"] for item in result["items"]})})
    return result


def _status_query(status, at):
    if status == "active":
        return {"status": "active", "valid_until": {"$gt": at}}
    if status == "expired":
        return {"status": "active", "valid_until": {"$lte": at}}
    return {"status": status}


def present_request(doc, at=None):
    return {**unsealed(doc, "application", "decision_note"), "status": effective_status(doc, at or now())}
