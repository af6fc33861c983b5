"""Versions of teams and contracts, each claimed by insert (docs/concurrency.md).

Every write to a team or contract is an event in `contract_events` whose `_id` is
"<document id>:<version>": version 1 creates the document, each later one changes it.
Two writers claiming the same version collide on that `_id` and exactly one wins, on
MongoDB and FerretDB alike. The event carries all its write needs — the changes, values
to seal (sealed for the event's own place until applied) and the consent-log entry it
appends, whose `_id` is the event's — so applying it is idempotent, and loading a
document applies an event that a request which died after its claim left unapplied.
"""

from contextlib import suppress

from pymongo.errors import DuplicateKeyError

from healthrec.access.transitions import CONSENT_NAMES, opened, sealed
from healthrec.audit import pending
from healthrec.clock import now
from healthrec.db import get_db

EVENTS = "contract_events"
TEAMS, CONTRACTS = "teams", "contracts"


class Taken(Exception):
    """Another writer claimed this version first; the document is loaded as it is now."""

    def __init__(self, current):
        super().__init__(current["_id"])
        self.current = current


def claim(by, collection, doc_id, version, changes, secrets=None, consent=None, audit=None):
    """Write version `version` of document `doc_id` as user `by` (a username, or "system"
    for a change custody makes): with version 1, `changes` is the whole new document.
    `secrets` are plaintext fields to set sealed; `consent` a plaintext consent-log entry
    to append; `audit` the change's audit entry (`pending.intent`), which the event
    carries until it is appended. Returns the document as it is now; raises Taken."""
    db = get_db()
    event_id = f"{doc_id}:{version}"
    event = {"_id": event_id, "collection": collection, "target": doc_id, "version": version,
             "by": by, "at": now(), "changes": changes,
             "secrets": sealed(secrets or {}, event_id, secrets or (), "secrets.")}
    if consent:
        event["consent"] = sealed(consent, event_id, CONSENT_NAMES, "consent.")
    try:
        db[EVENTS].insert_one({**event, pending.MARK: audit} if audit else event)
    except DuplicateKeyError:
        raise Taken(load(collection, doc_id)) from None
    if audit:
        pending.settle(EVENTS, [event_id], audit, first=True)
    return load(collection, doc_id)


def _apply(db, event):
    """Write what a claimed event changes; safe to repeat. Returns the fields it set."""
    event_id, target = event["_id"], event["target"]
    if "consent" in event:
        entry = {"_id": event_id, **opened(event["consent"], event_id, CONSENT_NAMES, "consent.")}
        with suppress(DuplicateKeyError):  # there already when a request died after this
            db.consents.insert_one(sealed(entry, event_id, CONSENT_NAMES))
    secrets = opened(event["secrets"], event_id, event["secrets"], "secrets.")
    changes = {**event["changes"], **sealed(secrets, target, secrets), "version": event["version"]}
    collection = db[event["collection"]]
    if event["version"] == 1:
        with suppress(DuplicateKeyError):
            collection.insert_one({"_id": target, **changes})
    else:
        collection.update_one({"_id": target}, {"$set": changes})
    return changes


def load(collection, doc_id):
    """The document as its last claimed event left it, or None."""
    db = get_db()
    doc = db[collection].find_one({"_id": doc_id})
    if doc is None:
        created = db[EVENTS].find_one({"_id": f"{doc_id}:1"})
        if created is None:
            return None
        doc = {"_id": doc_id, **_apply(db, created)}
    while event := db[EVENTS].find_one({"_id": f"{doc_id}:{doc['version'] + 1}"}):
        doc = {**doc, **_apply(db, event)}
    return doc
