"""The state engine of access requests and break-glass openings, and the sealing of their
fields.

FerretDB v1 runs an update as read-then-write, so two conditional updates
`{_id, status: "pending"}` racing each other can both match (four writers at once: more
than one winner in about a quarter of the rounds). Each transition is therefore claimed
by inserting an event whose `_id` is "<document id>:<state it leaves>" (docs/concurrency.md).
No state machine here returns to a state, so each state is left at most once, and the
unique `_id` lets exactly one writer win on MongoDB and FerretDB alike. The event carries
every write of the transition; applying it is idempotent, and loading a document applies
an event that a crash left unapplied.
"""

from contextlib import suppress

from pymongo.errors import DuplicateKeyError

from healthrec.audit import pending
from healthrec.clock import now
from healthrec.crypto import keyring
from healthrec.db import get_db
from healthrec.errors import Conflict, NotFound

REQUESTS, BREAK_GLASS = "access_requests", "break_glass"
EVENTS = "access_events"
CONSENT_NAMES = ("guardian_name", "witness")  # they identify people: sealed
WHAT = {REQUESTS: "access request", BREAK_GLASS: "break-glass opening"}


def sealed(doc, doc_id, names, prefix=""):
    """`doc` with its fields `names` sealed for their place `prefix + name` in document
    `doc_id`: key rotation re-seals a value for the place where it finds it."""
    ring = keyring()
    return {key: ring.seal(value, doc_id, prefix + key) if key in names else value
            for key, value in doc.items()}


def opened(doc, doc_id, names, prefix=""):
    ring = keyring()
    return {key: ring.unseal(value, doc_id, prefix + key) if key in names else value
            for key, value in doc.items()}


def unsealed(doc, *names):
    """`doc` with `names` decrypted and its `_id` as `id`; the response schemas pick the
    fields a client sees."""
    return {**opened(doc, doc["_id"], names), "id": doc["_id"]}


def load(collection, doc_id):
    """The document as its last claimed transition left it."""
    db = get_db()
    doc = db[collection].find_one({"_id": doc_id})
    if doc is None:
        raise NotFound(f"No {WHAT[collection]} {doc_id}.")
    return roll_forward(db, doc)


def transition(user, collection, doc, to, changes, audit, secrets=None, consent=None):
    """Move `doc` from its status to `to`; the one caller whose claim lands wins, the
    others get Conflict.

    `audit` is the step's audit entry (`pending.intent`): the event carries it until it is
    appended. `secrets` are plaintext fields to set sealed, `consent` a plaintext
    consent-log entry the transition appends (its `_id` is the event's). The event keeps
    both sealed for itself, so that a roll-forward can still write them after a crash.
    """
    db = get_db()
    event_id = f"{doc['_id']}:{doc['status']}"
    event = {
        "_id": event_id, "collection": collection, "target": doc["_id"],
        "from": doc["status"], "to": to, "by": user.username, "at": now(),
        "changes": {**changes, "status": to},
        "secrets": sealed(secrets or {}, event_id, secrets or (), "secrets."),
    }
    if consent:
        event["consent"] = sealed(consent, event_id, CONSENT_NAMES, "consent.")
    try:
        db.access_events.insert_one({**event, pending.MARK: audit})
    except DuplicateKeyError:
        raise Conflict("Someone else changed this at the same moment; reload it. Nothing was changed.") from None
    pending.settle(EVENTS, [event_id], audit, first=True)
    return {**doc, **_apply(db, event)}


def _apply(db, event):
    """Write what a claimed transition changes; safe to repeat. Returns the changes."""
    event_id, target = event["_id"], event["target"]
    if "consent" in event:
        entry = {"_id": event_id, **opened(event["consent"], event_id, CONSENT_NAMES, "consent.")}
        # Already there when a crash interrupted the transition after this insert.
        with suppress(DuplicateKeyError):
            db.consents.insert_one(sealed(entry, event_id, CONSENT_NAMES))
    secrets = opened(event["secrets"], event_id, event["secrets"], "secrets.")
    changes = {**event["changes"], **sealed(secrets, target, secrets)}
    db[event["collection"]].update_one({"_id": target}, {"$set": changes})
    return changes


def roll_forward(db, doc):
    while event := db.access_events.find_one({"_id": f"{doc['_id']}:{doc['status']}"}):
        doc = {**doc, **_apply(db, event)}
    return doc
