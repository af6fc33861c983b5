"""The consent log: append-only, per archive. Enrolment consent (to keeping the archive)
and access consent (to one request) alike; a withdrawal is a new entry, never an edit.

Access consents are appended by the request's transition (see `transitions`), enrolment
consents here, by the archives service at creation and by staff later.
"""

from bson import ObjectId

from healthrec.access.transitions import CONSENT_NAMES, sealed, unsealed
from healthrec.audit.log import record
from healthrec.clock import now
from healthrec.db import get_db


def entry(user, archive_id, decision, giver, **about):
    """A consent-log entry in plaintext, without its `_id`."""
    doc = {
        "archive_id": archive_id, **about, "decision": decision,
        "recorded_by": user.username, "recorded_role": user.role, "at": now(),
    }
    doc.update((name, value) for name, value in giver.items() if value)
    return doc


def append_enrolment(user, archive_id, village, decision, **giver):
    """Append the resident's consent to (or refusal or withdrawal of) keeping their archive
    of `village`, recorded by `user`; the caller has checked that they may."""
    doc = {"_id": str(ObjectId()), **entry(user, archive_id, decision, giver, kind="enrolment")}
    get_db().consents.insert_one(sealed(doc, doc["_id"], CONSENT_NAMES))
    record(user, f"consent.enrolment_{decision}", archive_id=archive_id, region=village)
    return {**doc, "id": doc["_id"]}


def present(doc):
    """A stored entry, its names decrypted."""
    return unsealed(doc, *CONSENT_NAMES)
