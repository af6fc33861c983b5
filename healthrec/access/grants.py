"""What allows a read outside one's own scope, at the moment of the read: an active,
consented access request, an emergency (break-glass) opening that has not run out, or an
open verification sample that names the reader as a checker and the archive as drawn.

The archives' scope decision asks here; expiry, revocation and withdrawal take effect at
the next read, with nothing to write down when a grant runs out.
"""

from collections import namedtuple
from datetime import date

from healthrec.access.transitions import BREAK_GLASS, REQUESTS, roll_forward
from healthrec.clock import day_ends, now, today
from healthrec.db import get_db

BREAK_GLASS_PURPOSE = "emergency (break-glass)"
# Verification samples (metrics.samples): assessment is an internal use (考核), so a checker
# reads the drawn archives without per-archive consent, each read audited with the sample.
SAMPLES = "samples"
SAMPLE_PURPOSE = "考核 (verification sample)"

# What a read outside one's scope is allowed under: an access request, an opening or a
# sample, and when that ends.
Grant = namedtuple("Grant", "id purpose until")


def effective_status(doc, at):
    # An active grant past valid_until is expired; nothing needs to write that down.
    if doc["status"] == "active" and doc["valid_until"] <= at:
        return "expired"
    return doc["status"]


def sample_status(doc, day):
    # An open sample whose last day has passed has ended; nothing needs to write that down.
    if doc["status"] == "open" and doc["due"] < day.isoformat():
        return "expired"
    return doc["status"]


def active_grant(user, archive_id):
    """The grant under which `user` may read `archive_id` now, or None.

    An active, consented request of theirs comes first; then an emergency opening of
    theirs that has not run out; then an open sample they check that drew the archive.
    """
    db, at = get_db(), now()
    for doc in db[REQUESTS].find({"archive_id": archive_id, "requester": user.username, "status": "active"}):
        doc = roll_forward(db, doc)
        if effective_status(doc, at) == "active":
            return Grant(doc["_id"], doc["purpose"], doc["valid_until"])
    opening = db[BREAK_GLASS].find_one({"archive_id": archive_id, "opened_by": user.username,
                                        "valid_until": {"$gt": at}})
    if opening:
        return Grant(opening["_id"], BREAK_GLASS_PURPOSE, opening["valid_until"])
    day = today()
    for doc in db[SAMPLES].find({"archives": archive_id, "checkers": user.username, "status": "open"}):
        doc = roll_forward(db, doc)
        if sample_status(doc, day) == "open":
            return Grant(doc["_id"], SAMPLE_PURPOSE, day_ends(date.fromisoformat(doc["due"])))
    return None
