"""Access to an archive beyond one's own scope (plan item 7), and the consent log.

- Access requests: anyone outside the archive's own service staff files a written
  application; the archive's township health centre approves it, then the resident or
  guardian consents, and the requester may read the archive for the days asked.
- The consent log: append-only, per archive; enrolment consent and access consent alike,
  a withdrawal is a new entry.
- Break-glass: a clinician opens an archive outside their scope in an emergency, with a
  reason; the archive's township reviews every opening afterwards.

Transitions. FerretDB v1 runs an update as read-then-write, so two conditional updates
`{_id, status: "pending"}` racing each other can both match (four writers at once: more
than one winner in about a quarter of the rounds). Each transition is therefore claimed
by inserting an event whose `_id` is "<document id>:<state it leaves>". No state machine
here returns to a state, so each state is left at most once, and the unique `_id` lets
exactly one writer win on MongoDB and FerretDB alike. The event carries every write of
the transition; applying it is idempotent, and loading a document applies an event that
a crash left unapplied.
"""

from collections import namedtuple
from contextlib import suppress
from datetime import UTC, datetime, timedelta

from bson import ObjectId
from flask import current_app
from pymongo.errors import DuplicateKeyError

from healthrec import audit
from healthrec.archives import scope  # a module, not its names: scope calls back for grants
from healthrec.auth.roles import ADMIN, SUPERVISOR, TOWNSHIP_STAFF, VILLAGE_DOCTOR
from healthrec.crypto import keyring
from healthrec.db import get_db, now
from healthrec.errors import Conflict, Forbidden, Invalid, NotFound
from healthrec.ids import prefix_range

REQUESTS, BREAK_GLASS = "access_requests", "break_glass"
BREAK_GLASS_PURPOSE = "emergency (break-glass)"
CONSENT_NAMES = ("guardian_name", "witness")  # they identify people: sealed

# What a read outside one's scope is allowed under: an access request or a break-glass.
Grant = namedtuple("Grant", "id purpose")


# --- Grants at read time ---------------------------------------------------------------

def active_grant(user, archive_id):
    """The grant under which `user` may read `archive_id` now, or None.

    An active, consented request of theirs comes first; then an emergency opening of
    theirs that has not run out. Expiry, revocation and withdrawal take effect here, at
    the next read.
    """
    db, at = get_db(), now()
    for doc in db[REQUESTS].find({"archive_id": archive_id, "requester": user.username,
                                  "status": "active"}):
        doc = _roll_forward(db, doc)
        if effective_status(doc, at) == "active":
            return Grant(doc["_id"], doc["purpose"])
    opening = db[BREAK_GLASS].find_one({"archive_id": archive_id, "opened_by": user.username,
                                        "valid_until": {"$gt": at}})
    if opening:
        return Grant(opening["_id"], BREAK_GLASS_PURPOSE)
    return None


# --- Access requests -------------------------------------------------------------------

def create_request(user, archive_id, purpose, application, days):
    db = get_db()
    if user.role == ADMIN:
        raise _denied(db, user, "access.request", archive_id, Forbidden(
            "Administrators manage users, regions and keys and are not given clinical data."))
    limit = current_app.config["ACCESS_MAX_DAYS"]
    if days > limit:
        raise Invalid(f"At most {limit} days can be requested; ask again when they run out.",
                      {"days": [f"At most {limit}."]})
    _require_archive(db, archive_id)
    request_id = str(ObjectId())
    doc = {
        "_id": request_id, "archive_id": archive_id,
        "village": archive_id[:12], "township": archive_id[:9],
        "requester": user.username, "requester_role": user.role,
        "purpose": purpose.strip(),
        "application": keyring().seal(application, request_id, "application"),
        "days": days, "status": "pending", "created_at": now(),
    }
    db[REQUESTS].insert_one(doc)
    _audit(db, user, "access.request", archive_id, grant=request_id, purpose=doc["purpose"])
    return present_request(doc)


def decide(user, request_id, decision, note=None):
    """Township staff of the archive's township approve or reject a pending request."""
    db = get_db()
    doc = _load(db, REQUESTS, request_id)
    action = f"access.{decision}"
    if user.role != TOWNSHIP_STAFF or user.region != doc["township"]:
        raise _denied(db, user, action, doc["archive_id"], Forbidden(
            f"Only staff of township health centre {doc['township']}, which manages this "
            "archive, decide requests for it."), doc)
    _not_own(db, user, action, doc)
    _expect(db, user, action, doc, "pending")
    to = "awaiting_consent" if decision == "approve" else "rejected"
    doc = _transition(db, user, action, REQUESTS, doc, to,
                      {"decided_by": user.username, "decided_at": now()},
                      secrets={"decision_note": note} if note else None)
    _audit(db, user, action, doc["archive_id"], grant=request_id, purpose=doc["purpose"])
    return present_request(doc)


def record_consent(user, request_id, decision, **giver):
    """The resident's (or guardian's) answer to an approved request, or their withdrawal
    of a consent given before; recorded by the archive's own service staff."""
    db = get_db()
    doc = _load(db, REQUESTS, request_id)
    action = f"access.consent_{decision}"
    archive_id = doc["archive_id"]
    if not _may_record_consent(user, archive_id):
        raise _denied(db, user, action, archive_id, Forbidden(
            f"Consent is recorded by staff of township health centre {doc['township']} or a "
            f"village doctor of village {doc['village']}."), doc)
    _not_own(db, user, action, doc)
    _expect(db, user, action, doc, "active" if decision == "withdrawn" else "awaiting_consent")
    entry = _consent_entry(user, archive_id, decision, giver,
                           kind="access", request_id=request_id, purpose=doc["purpose"])
    at = entry["at"]
    if decision == "granted":
        to, changes = "active", {"valid_until": at + timedelta(days=doc["days"])}
    elif decision == "refused":
        to, changes = "refused", {}
    else:
        to, changes = "withdrawn", {"ended_by": user.username, "ended_at": at}
    doc = _transition(db, user, action, REQUESTS, doc, to, changes, consent=entry)
    _audit(db, user, action, archive_id, grant=request_id, purpose=doc["purpose"])
    return present_request(doc)


def revoke(user, request_id):
    """The requester gives up a request, or the township health centre ends it."""
    db = get_db()
    doc = _load(db, REQUESTS, request_id)
    action = "access.revoke"
    staff = user.role == TOWNSHIP_STAFF and user.region == doc["township"]
    if not staff and user.username != doc["requester"]:
        raise _denied(db, user, action, doc["archive_id"], Forbidden(
            f"Only the requester or staff of township health centre {doc['township']} "
            "revoke this request."), doc)
    _expect(db, user, action, doc, "pending", "awaiting_consent", "active")
    doc = _transition(db, user, action, REQUESTS, doc, "revoked",
                      {"ended_by": user.username, "ended_at": now()})
    _audit(db, user, action, doc["archive_id"], grant=request_id, purpose=doc["purpose"])
    return present_request(doc)


def get_request(user, request_id):
    db = get_db()
    doc = _load(db, REQUESTS, request_id)
    if not _involved(user, doc):
        raise _denied(db, user, "access.view", doc["archive_id"], Forbidden(
            "Only the requester and the archive's township and village staff see this request."), doc)
    return present_request(doc)


def list_requests(user, status=None, page=1, per_page=None):
    """Requests the caller made, and those they must decide or record consent for."""
    query = {"$or": [{"requester": user.username}]}
    if user.role == TOWNSHIP_STAFF:
        query["$or"].append({"township": user.region})
    elif user.role == VILLAGE_DOCTOR:
        query["$or"].append({"village": user.region})
    at = now()
    if status:
        query.update(_status_query(status, at))
    return _page(REQUESTS, query, "created_at", page, per_page, lambda doc: present_request(doc, at))


def effective_status(doc, at):
    # An active grant past valid_until is expired; nothing needs to write that down.
    if doc["status"] == "active" and doc["valid_until"] <= at:
        return "expired"
    return doc["status"]


def _status_query(status, at):
    if status == "active":
        return {"status": "active", "valid_until": {"$gt": at}}
    if status == "expired":
        return {"status": "active", "valid_until": {"$lte": at}}
    return {"status": status}


def present_request(doc, at=None):
    return {**_unsealed(doc, "application", "decision_note"),
            "status": effective_status(doc, at or now())}


def _involved(user, doc):
    return (user.username == doc["requester"]
            or (user.role == TOWNSHIP_STAFF and user.region == doc["township"])
            or (user.role == VILLAGE_DOCTOR and user.region == doc["village"]))


def _may_record_consent(user, archive_id):
    # The archive's own service staff: its township health centre or its village clinic.
    return ((user.role == TOWNSHIP_STAFF and user.region == archive_id[:9])
            or (user.role == VILLAGE_DOCTOR and user.region == archive_id[:12]))


def _not_own(db, user, action, doc):
    if user.username == doc["requester"]:
        raise _denied(db, user, action, doc["archive_id"], Forbidden(
            "You made this request, so another staff member must decide it and record consent."), doc)


def _expect(db, user, action, doc, *states):
    status = effective_status(doc, now())
    if status not in states:
        raise _denied(db, user, action, doc["archive_id"], Conflict(
            f"The request is {status}, and this step needs it {' or '.join(states)}; "
            "nothing was changed.", request_status=status), doc)


# --- Consent log -----------------------------------------------------------------------

def log_enrolment_consent(user, archive_id, decision, **giver):
    """Append the resident's consent to (or refusal or withdrawal of) keeping their archive.

    The archives service calls this right after it creates an archive; staff call it later
    through the API, e.g. when a resident withdraws.
    """
    db = get_db()
    action = f"consent.enrolment_{decision}"
    if not _may_record_consent(user, archive_id):
        raise _denied(db, user, action, archive_id, Forbidden(
            "Enrolment consent is recorded by the archive's township health centre or village doctor."))
    _require_archive(db, archive_id)
    entry = {"_id": str(ObjectId()), **_consent_entry(user, archive_id, decision, giver, kind="enrolment")}
    db.consents.insert_one(_sealed(entry, entry["_id"], CONSENT_NAMES))
    _audit(db, user, action, archive_id)
    return {**entry, "id": entry["_id"]}


def consent_log(user, archive_id):
    """Every consent entry of an archive, oldest first, for whoever may read the archive."""
    from healthrec.archives import service as archives  # it imports scope, which imports us

    access = archives.archive_for(user, archive_id, scope.READ, "consent.read")
    docs = get_db().consents.find({"archive_id": archive_id}).sort("at", 1)
    entries = [present_consent(doc) for doc in docs]
    access.audit("consent.read", detail={"entries": len(entries)})
    return entries


def _consent_entry(user, archive_id, decision, giver, **about):
    """A consent-log entry in plaintext, without its `_id`."""
    entry = {
        "archive_id": archive_id, **about, "decision": decision,
        "recorded_by": user.username, "recorded_role": user.role, "at": now(),
    }
    entry.update((name, value) for name, value in giver.items() if value)
    return entry


def present_consent(doc):
    return _unsealed(doc, *CONSENT_NAMES)


# --- Break-glass -----------------------------------------------------------------------

def break_glass(user, archive_id, reason):
    """Open an archive outside one's scope in an emergency, for BREAK_GLASS_HOURS."""
    db = get_db()
    action = "break_glass.open"
    if user.role not in (VILLAGE_DOCTOR, TOWNSHIP_STAFF):
        raise _denied(db, user, action, archive_id, Forbidden(
            "Break-glass is for clinicians (village doctors, township staff) treating the resident."))
    _require_archive(db, archive_id)
    if user.covers(archive_id):
        raise _denied(db, user, action, archive_id, Conflict(
            "This archive is within your own scope: open it directly."))
    if active_grant(user, archive_id):
        raise _denied(db, user, action, archive_id, Conflict(
            "You may already read this archive under an active grant or emergency opening."))
    at = now()
    opening_id = str(ObjectId())
    doc = {
        "_id": opening_id, "archive_id": archive_id,
        "village": archive_id[:12], "township": archive_id[:9],
        "opened_by": user.username, "role": user.role,
        "reason": keyring().seal(reason, opening_id, "reason"),
        "opened_at": at,
        "valid_until": at + timedelta(hours=current_app.config["BREAK_GLASS_HOURS"]),
        "status": "unreviewed",
    }
    db[BREAK_GLASS].insert_one(doc)
    _audit(db, user, action, archive_id, grant=opening_id, purpose=BREAK_GLASS_PURPOSE)
    return present_break_glass(doc)


def acknowledge(user, opening_id, note=None):
    """Township staff review an emergency opening of one of their archives."""
    db = get_db()
    doc = _load(db, BREAK_GLASS, opening_id)
    action = "break_glass.acknowledge"
    if user.role != TOWNSHIP_STAFF or user.region != doc["township"]:
        raise _denied(db, user, action, doc["archive_id"], Forbidden(
            f"Emergency openings are reviewed by staff of township health centre {doc['township']}."),
            doc)
    if doc["status"] != "unreviewed":
        raise _denied(db, user, action, doc["archive_id"], Conflict(
            f"{doc['acknowledged_by']} has already acknowledged this opening; nothing was changed."),
            doc)
    doc = _transition(db, user, action, BREAK_GLASS, doc, "acknowledged",
                      {"acknowledged_by": user.username, "acknowledged_at": now()},
                      secrets={"note": note} if note else None)
    _audit(db, user, action, doc["archive_id"], grant=opening_id, purpose=BREAK_GLASS_PURPOSE)
    return present_break_glass(doc)


def list_break_glass(user, status=None, page=1, per_page=None):
    """Township staff: their township's openings (the review queue); others: their own."""
    mine = {"township": user.region} if user.role == TOWNSHIP_STAFF else {"opened_by": user.username}
    query = {**mine, "status": status} if status else mine
    return _page(BREAK_GLASS, query, "opened_at", page, per_page, present_break_glass)


def break_glass_counts(user, region=None, since=None):
    """Emergency openings per township of the archives opened, for supervisors."""
    db = get_db()
    region = region or user.region
    if user.role != SUPERVISOR or not user.covers(region):
        raise _denied(db, user, "break_glass.counts", None, Forbidden(
            f"Break-glass counts are for supervisors of region {region}."))
    match = {"township": prefix_range(region)}
    if since:
        match["opened_at"] = {"$gte": datetime(since.year, since.month, since.day, tzinfo=UTC)}
    # One accumulator per $group: FerretDB returns 0 for a second one.
    openings = _count_by_township(db, match)
    unreviewed = _count_by_township(db, {**match, "status": "unreviewed"})
    names = {doc["_id"]: doc["name"]
             for doc in db.regions.find({"_id": {"$in": sorted(openings)}}, {"name": 1})}
    return {
        "region": region, "since": since,
        "townships": [{"township": code, "name": names.get(code), "openings": count,
                       "unreviewed": unreviewed.get(code, 0)}
                      for code, count in sorted(openings.items())],
    }


def _count_by_township(db, match):
    pipeline = [{"$match": match}, {"$group": {"_id": "$township", "n": {"$sum": 1}}}]
    return {row["_id"]: row["n"] for row in db[BREAK_GLASS].aggregate(pipeline)}


def present_break_glass(doc):
    return _unsealed(doc, "reason", "note")


# --- Shared steps ----------------------------------------------------------------------

def _sealed(doc, doc_id, names, prefix=""):
    """`doc` with its fields `names` sealed for their place `prefix + name` in document
    `doc_id`: key rotation re-seals a value for the place where it finds it."""
    ring = keyring()
    return {key: ring.seal(value, doc_id, prefix + key) if key in names else value
            for key, value in doc.items()}


def _opened(doc, doc_id, names, prefix=""):
    ring = keyring()
    return {key: ring.unseal(value, doc_id, prefix + key) if key in names else value
            for key, value in doc.items()}


def _unsealed(doc, *names):
    # The response schemas pick the fields a client sees; here only the id and the
    # decrypted values change.
    return {**_opened(doc, doc["_id"], names), "id": doc["_id"]}


def _page(collection, query, newest_by, page, per_page, present):
    per_page = per_page or current_app.config["PAGE_SIZE"]
    docs = get_db()[collection].find(query).sort([(newest_by, -1), ("_id", -1)])
    items = [present(doc) for doc in docs.skip((page - 1) * per_page).limit(per_page)]
    total = get_db()[collection].count_documents(query)
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def _require_archive(db, archive_id):
    if db.archives.find_one({"_id": archive_id}, {"_id": 1}) is None:
        raise NotFound(f"No archive {archive_id}.")


def _load(db, collection, doc_id):
    doc = db[collection].find_one({"_id": doc_id})
    if doc is None:
        what = "access request" if collection == REQUESTS else "break-glass opening"
        raise NotFound(f"No {what} {doc_id}.")
    return _roll_forward(db, doc)


def _transition(db, user, action, collection, doc, to, changes, secrets=None, consent=None):
    """Move `doc` from its status to `to`; the one caller whose claim lands wins.

    `secrets` are plaintext fields to set sealed, `consent` a plaintext consent-log entry
    the transition appends (its `_id` is the event's). The event keeps both sealed for
    itself, so that a roll-forward can still write them after a crash.
    """
    event_id = f"{doc['_id']}:{doc['status']}"
    event = {
        "_id": event_id, "collection": collection, "target": doc["_id"],
        "from": doc["status"], "to": to, "by": user.username, "at": now(),
        "changes": {**changes, "status": to},
        "secrets": _sealed(secrets or {}, event_id, secrets or (), "secrets."),
    }
    if consent:
        event["consent"] = _sealed(consent, event_id, CONSENT_NAMES, "consent.")
    try:
        db.access_events.insert_one(event)
    except DuplicateKeyError:
        raise _denied(db, user, action, doc["archive_id"], Conflict(
            "Someone else changed this at the same moment; reload it. Nothing was changed."),
            doc) from None
    return {**doc, **_apply(db, event)}


def _apply(db, event):
    """Write what a claimed transition changes; safe to repeat. Returns the changes."""
    event_id, target = event["_id"], event["target"]
    if "consent" in event:
        entry = {"_id": event_id, **_opened(event["consent"], event_id, CONSENT_NAMES, "consent.")}
        # Already there when a crash interrupted the transition after this insert.
        with suppress(DuplicateKeyError):
            db.consents.insert_one(_sealed(entry, event_id, CONSENT_NAMES))
    secrets = _opened(event["secrets"], event_id, event["secrets"], "secrets.")
    changes = {**event["changes"], **_sealed(secrets, target, secrets)}
    db[event["collection"]].update_one({"_id": target}, {"$set": changes})
    return changes


def _roll_forward(db, doc):
    while event := db.access_events.find_one({"_id": f"{doc['_id']}:{doc['status']}"}):
        doc = {**doc, **_apply(db, event)}
    return doc


def _audit(db, user, action, archive_id, *, outcome="ok", grant=None, purpose=None, detail=None):
    audit.record(db, user, action, outcome=outcome, archive_id=archive_id,
                 region=archive_id[:12] if archive_id else user.region,
                 grant=grant, purpose=purpose, detail=detail)


def _denied(db, user, action, archive_id, error, doc=None):
    """Audit a refusal and hand back the error to raise; the reason is our own text."""
    _audit(db, user, action, archive_id, outcome="denied",
           grant=doc["_id"] if doc else None, purpose=doc.get("purpose") if doc else None,
           detail={"reason": error.detail})
    return error
