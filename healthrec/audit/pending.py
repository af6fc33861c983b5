"""Writes that carry their own audit entry, so none lands unaudited.

Without transactions a write and its audit entry are two inserts, and the database may
fail between them. So the entry goes into the written document first, as its
`pending_audit` mark (`intent`); the write lands with it; the entry is appended to its
chain with the mark's id as its `intent`; then the mark is cleared (`settle`). A request
cut off after the write leaves a marked document, and `repair` (`flask archives
reconcile`) or the repeat of the request with its Idempotency-Key appends the entry it
carries, once: an entry already appended is found by its intent first.
"""

from datetime import timedelta

from bson import ObjectId

from healthrec import hints
from healthrec.audit import chain
from healthrec.audit.log import entry_fields, township_of
from healthrec.clock import now
from healthrec.db import get_db

# A mark this old belongs to a request that was cut off: a repeat of it may settle it.
ABANDONED = timedelta(minutes=1)
# The collections whose writes carry their audit entry.
MARKED = ("archives", "records")
MARK = "pending_audit"


def intent(actor, action, *, intent_id=None, archive_id=None, region=None, township=None, **fields):
    """The `pending_audit` mark of a write about to be made: the entry `log.record` would
    append afterwards, with its chain and an id (`intent_id`, e.g. the request's
    Idempotency-Key claim, or a new one)."""
    entry = entry_fields(actor, action, archive_id=archive_id, region=region, **fields)
    return {"id": intent_id or str(ObjectId()), "at": entry["at"],
            "chain": township or township_of(get_db(), archive_id, region), "entry": entry}


def settle(collection, ids, mark, first=False):
    """Append the entry that the documents `ids` of `collection` carry as `mark`, unless it
    is there already (`first`: the writing request itself, which nobody can have beaten to
    it, does not look), and clear the mark. Returns True when this call appended it."""
    db = get_db()
    appended = first or db.audit.find_one({"intent": mark["id"]}, {"_id": 1}) is None
    if appended:
        chain.append(db, {**mark["entry"], "intent": mark["id"]}, mark["chain"], hints.of("audit_tails"))
    db[collection].update_many({"_id": {"$in": list(ids)}, f"{MARK}.id": mark["id"]}, {"$unset": {MARK: ""}})
    return appended


def abandoned(mark):
    return mark["at"] < now() - ABANDONED


def repair(grace):
    """Settle every mark older than `grace` (younger ones may belong to requests still
    running): (writes settled, entries appended), per collection. A mark whose entry is
    there already (its request was cut off just before clearing it) is only cleared."""
    db = get_db()
    settled, appended = {}, {}
    for collection in MARKED:
        marks: dict[str, tuple[dict, list]] = {}
        for doc in db[collection].find({f"{MARK}.at": {"$lt": now() - grace}}, {"_id": 1, MARK: 1}):
            marks.setdefault(doc[MARK]["id"], (doc[MARK], []))[1].append(doc["_id"])
        settled[collection] = len(marks)
        appended[collection] = sum(settle(collection, ids, mark) for mark, ids in marks.values())
    return settled, appended
