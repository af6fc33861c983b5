"""The consent log: append-only, per archive. Enrolment consent (to keeping the archive)
and access consent (to one request) alike; a withdrawal is a new entry, never an edit.

Access consents are appended by the request's transition (see `transitions`), enrolment
consents here, by the archives service at creation and by staff later.
"""

from bson import ObjectId

from healthrec.access.transitions import CONSENT_NAMES, sealed, unsealed
from healthrec.audit import pending
from healthrec.clock import now


def entry(user, archive_id, decision, giver, **about):
    """A consent-log entry in plaintext, without its `_id`."""
    doc = {
        "archive_id": archive_id, **about, "decision": decision,
        "recorded_by": user.username, "recorded_role": user.role, "at": now(),
    }
    doc.update((name, value) for name, value in giver.items() if value)
    return doc


def append_enrolment(user, archive_id, village, decision, entry_id=None, intent_id=None, **giver):
    """Append the resident's consent to (or refusal or withdrawal of) keeping their archive
    of `village`, recorded by `user`; the caller has checked that they may. `entry_id` and
    `intent_id`: chosen for an Idempotency-Key, so a repeat writes the same entry."""
    doc = {"_id": entry_id or str(ObjectId()), **entry(user, archive_id, decision, giver, kind="enrolment")}
    mark = pending.intent(user, f"consent.enrolment_{decision}", intent_id=intent_id, archive_id=archive_id,
                          region=village)
    stored = pending.insert("consents", sealed(doc, doc["_id"], CONSENT_NAMES), mark)
    return present(stored)


def present(doc):
    """A stored entry, its names decrypted."""
    return unsealed(doc, *CONSENT_NAMES)
