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
from pymongo.errors import DuplicateKeyError

from healthrec import hints
from healthrec.audit import chain
from healthrec.audit.log import entry_fields, township_of
from healthrec.clock import now
from healthrec.db import get_db

# A mark this old belongs to a request that was cut off: a repeat of it may settle it.
ABANDONED = timedelta(minutes=1)
# The collections whose writes carry their audit entry: the documents themselves, and
# the claimed events of transitions, team and contract versions and transfer decisions.
MARKED = ("archives", "records", "access_requests", "break_glass", "consents", "samples", "sample_results",
          "transfers", "access_events", "contract_events", "custody_claims")
MARK = "pending_audit"


def intent(actor, action, *, intent_id=None, archive_id=None, region=None, township=None, copies=(), **fields):
    """The `pending_audit` mark of a write about to be made: the entry `log.record` would
    append afterwards, with its chain and an id (`intent_id`, e.g. the request's
    Idempotency-Key claim, or a new one). `copies`: (township, region) of each other chain
    that gets a copy naming the entry (`detail.copy_of`), as a transfer's two townships."""
    entry = entry_fields(actor, action, archive_id=archive_id, region=region, **fields)
    mark = {"id": intent_id or str(ObjectId()), "at": entry["at"],
            "chain": township or township_of(get_db(), archive_id, region), "entry": entry}
    if copies:
        mark["copies"] = [{"chain": chain_, "region": region_} for chain_, region_ in copies]
    return mark


def settle(collection, ids, mark, first=False):
    """Append the entry (and copies) that the documents `ids` of `collection` carry as
    `mark`, each unless it is there already (`first`: the writing request itself, which
    nobody can have beaten to it, does not look), and clear the mark. Returns True when
    this call appended the entry."""
    db = get_db()
    tails = hints.of("audit_tails")
    found = None if first else db.audit.find_one({"intent": mark["id"]}, {"_id": 1})
    entry = found or chain.append(db, {**mark["entry"], "intent": mark["id"]}, mark["chain"], tails)
    for n, copy in enumerate(mark.get("copies", ()), 1):
        intent_id = f"{mark['id']}.{n}"
        if first or db.audit.find_one({"intent": intent_id}, {"_id": 1}) is None:
            detail = {**(mark["entry"]["detail"] or {}), "copy_of": entry["_id"]}
            chain.append(db, {**mark["entry"], "region": copy["region"], "detail": detail, "intent": intent_id},
                         copy["chain"], tails)
    db[collection].update_many({"_id": {"$in": list(ids)}, f"{MARK}.id": mark["id"]}, {"$unset": {MARK: ""}})
    return found is None


def insert(collection, doc, mark):
    """Insert `doc` into `collection` carrying `mark`, append the entry and clear the mark:
    the document as stored. When a document of its id is there already, an earlier use of
    the same Idempotency-Key wrote it (ids chosen beforehand are the key's): that one is
    answered, and its entry is left to its own request, or to whoever finds it abandoned."""
    db = get_db()
    try:
        db[collection].insert_one({**doc, MARK: mark})
    except DuplicateKeyError:
        stored = db[collection].find_one({"_id": doc["_id"]})
        stored.pop(MARK, None)
        return stored
    settle(collection, [doc["_id"]], mark, first=True)
    return doc


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
