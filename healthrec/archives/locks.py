"""Uniqueness locks: the steps of an archive write that must not happen twice, each taken
by inserting a document whose `_id` is the thing locked (docs/concurrency.md).

FerretDB has no transactions, and a filtered update there is read-then-write: two
writers filtering on the same `version` both succeed. An insert of a taken `_id` fails on
both servers, so it serialises writers instead:

- the archive code: the archive itself is inserted under the next serial of its village
  (or, brought in from paper, under the number it has);
- the person: `identities` holds the ID card's blind index before its archive is written;
- each version of an archive: `archive_versions` holds "<archive id>:<version>" before
  the archive is updated to that version.

A request that dies between taking a lock and its write leaves the lock behind. The next
request that meets one older than STALE_LOCK removes it, and so does `reconcile`.
"""

from datetime import timedelta

from pymongo.errors import DuplicateKeyError

from healthrec import hints
from healthrec.archives.rules import RELEASING_REASONS
from healthrec.audit import pending
from healthrec.audit.log import record
from healthrec.clock import now
from healthrec.db import get_db
from healthrec.errors import Conflict, PreconditionFailed

# A lock this old whose write never followed was left by a request that died.
STALE_LOCK = timedelta(minutes=5)
HOLDS_IDENTITY = {"closed.reason": {"$nin": list(RELEASING_REASONS)}}
BUSY = "Another registration with this ID card is under way; try again in a minute."


# --- Archive codes ---------------------------------------------------------------------

# The shared hint of a village's last serial is raised once every this many serials: a
# process that starts numbering a village walks at most about this far from it.
HINT_EVERY = 16
# A process reads the shared hint again after this long, so numbering continues after
# archives brought in meanwhile by another process (`flask archives import`).
HINT_SECONDS = timedelta(seconds=60)


def _highest_serial(db, layout, village):
    """The highest serial among the archives the village manages: where numbering resumes
    when the hint is lost. Archives numbered there but managed elsewhere now are met by the
    inserts instead."""
    ids = (doc["_id"] for doc in db.archives.find({"village": village}, {"_id": 1}))
    return max((layout.parse(code)[1] for code in ids if code.startswith(village)), default=0)


def insert_numbered(layout, village, build):
    """Insert `build(code)` under the next free code of `village`; the document.

    A code taken meanwhile fails the insert and the next one is tried, so concurrent
    creators get distinct codes without gaps. Where to start is only a hint: the process's
    own last serial of the village (`healthrec.hints`, with when it last read the shared
    one), and at least once every HINT_SECONDS the shared `archive_serials`, which is
    raised every HINT_EVERY serials (its update is not atomic on FerretDB and may lag
    behind).
    """
    db, serials, at = get_db(), hints.of("archive_serials"), now()
    last, read_at = serials.get(db, village) or (0, None)
    shared = None
    if read_at is None or read_at <= at - HINT_SECONDS:
        shared = db.archive_serials.find_one({"_id": village})
        last = max(last, shared["last"] if shared else _highest_serial(db, layout, village))
        read_at = at
    serial = last + 1
    while True:
        if serial > layout.max_serial:
            raise Conflict(
                f"Village {village} has used all {layout.max_serial} archive serials, so no new "
                "archive can be numbered there. Ask the county health bureau to register another "
                "village code (segment 901-999) for this village's new residents.")
        doc = build(layout.format(village, serial))
        try:
            db.archives.insert_one(doc)
            break
        except DuplicateKeyError:
            serial += 1
    serials.advance(db, village, (serial, read_at))
    if serial % HINT_EVERY == 0 or (read_at == at and shared is None):
        _raise_hint(db, village, serial)
    return doc


def insert_at(layout, code, build):
    """Insert `build(code)` under `code`, a number the archive already has (a paper
    archive's); the document. Numbering in its village continues after it.

    Raises Conflict when another archive has the number.
    """
    db = get_db()
    village, serial = layout.parse(code)
    doc = build(code)
    try:
        db.archives.insert_one(doc)
    except DuplicateKeyError:
        raise Conflict(f"Archive number {code} belongs to another archive already.") from None
    _raise_hint(db, village, serial)
    hints.of("archive_serials").advance(db, village, (serial, now()))
    return doc


def _raise_hint(db, village, serial):
    """Move the village's serial hint up to `serial`, never down."""
    if db.archive_serials.update_one({"_id": village}, {"$max": {"last": serial}}).matched_count:
        return
    try:
        db.archive_serials.insert_one({"_id": village, "last": serial})
    except DuplicateKeyError:  # another writer made the hint meanwhile
        db.archive_serials.update_one({"_id": village}, {"$max": {"last": serial}})


# --- One archive per person ------------------------------------------------------------

def identity_holder(bi):
    """The archive holding the ID card with blind index `bi`, if any, with its custody.

    Asked by the card alone: the lock's village is the archive's custody village, which a
    transfer moves after the archive itself, so for a moment it may name the old one.
    """
    return get_db().archives.find_one({"id_card_bi": bi, **HOLDS_IDENTITY}, {"village": 1, "township": 1, "county": 1})


def card_holder(bi):
    """The id of the archive, of any village, that holds the ID card with blind index `bi`."""
    doc = get_db().archives.find_one({"id_card_bi": bi, **HOLDS_IDENTITY}, {"_id": 1})
    return doc and doc["_id"]


def _orphan_identity(lock, cutoff):
    return lock["at"] < cutoff and identity_holder(lock["_id"]) is None


def lock_identity(bi, village):
    """Claim the ID card for an archive of `village` that is about to be written.

    Returns None when locked, or the archive that already holds the card. Raises
    Conflict while another request's lock on it is still young.
    """
    db = get_db()
    for _ in range(2):
        try:
            db.identities.insert_one({"_id": bi, "village": village, "at": now()})
            return None
        except DuplicateKeyError:
            lock = db.identities.find_one({"_id": bi})
            if lock is None:
                continue  # released meanwhile
            holder = identity_holder(bi)
            if holder is not None:
                return holder
            if not _orphan_identity(lock, now() - STALE_LOCK):
                raise Conflict(BUSY) from None
            db.identities.delete_one({"_id": bi, "at": lock["at"]})
    raise Conflict(BUSY)


def release_identity(bi, village):
    get_db().identities.delete_one({"_id": bi, "village": village})


def move_identity(bi, village):
    """The lock on an ID card follows its archive (which holds the card) to `village`."""
    get_db().identities.update_one({"_id": bi}, {"$set": {"village": village}})


# --- Versions --------------------------------------------------------------------------

def _orphan_version(lock, cutoff):
    archive = get_db().archives.find_one({"_id": lock["archive_id"]}, {"version": 1})
    return lock["at"] < cutoff and archive["version"] < lock["version"]


def stale(archive_id):
    return PreconditionFailed(
        f"Archive {archive_id} has changed since you read it. GET it again, redo your change "
        "on the new version and send its ETag in If-Match.")


def commit(doc, username, expected_version, changes, fields, unset=(), audit=None):
    """Write `changes` (and remove `unset`) as the next version of the archive `doc`
    that was read at `expected_version` (None: at whatever version `doc` has); `audit`:
    the change's entry (`pending.intent`), carried by the archive until it is appended.

    Returns the document as stored now; raises PreconditionFailed when another writer
    got there first.
    """
    db = get_db()
    if expected_version is not None and expected_version != doc["version"]:
        raise stale(doc["_id"])
    version, at = doc["version"] + 1, now()
    lock = {"_id": f"{doc['_id']}:{version}", "archive_id": doc["_id"], "version": version,
             "by": username, "at": at, "fields": fields}
    for attempt in range(2):
        try:
            db.archive_versions.insert_one(lock)
            break
        except DuplicateKeyError:
            held = db.archive_versions.find_one({"_id": lock["_id"]})
            if attempt or held is None or not _orphan_version(held, at - STALE_LOCK):
                raise stale(doc["_id"]) from None
            db.archive_versions.delete_one({"_id": held["_id"], "at": held["at"]})
    if doc.get(pending.MARK):
        # The entry of the last change, cut off before it was appended: the mark is
        # about to make way for this change's.
        pending.settle("archives", [doc["_id"]], doc[pending.MARK])
    changes = {**changes, "version": version, "updated_at": at, "updated_by": username}
    update = {"$set": {**changes, pending.MARK: audit} if audit else changes}
    if unset:
        update["$unset"] = dict.fromkeys(unset, "")
    db.archives.update_one({"_id": doc["_id"]}, update)
    if audit:
        pending.settle("archives", [doc["_id"]], audit, first=True)
    kept = {key: value for key, value in doc.items() if key not in unset}
    return {**kept, **changes}


# --- Repair ----------------------------------------------------------------------------

def reconcile(grace=STALE_LOCK):
    """Remove the locks of requests that died between lock and write: ID-card locks no
    archive carries, version locks their archive never reached; and append the audit
    entries of writes cut off before them (`audit.pending`). Locks and marks younger than
    `grace` may belong to requests still running and stay.

    One pass over the archives picks the candidates; each is checked again on its own
    just before it goes, as its request may have finished meanwhile.
    """
    db = get_db()
    cutoff = now() - grace
    held = {doc["id_card_bi"] for doc in db.archives.find(
        {"id_card_bi": {"$ne": None}, **HOLDS_IDENTITY}, {"id_card_bi": 1})}
    reached = {doc["_id"]: doc["version"] for doc in db.archives.find({}, {"version": 1})}
    identities = [lock for lock in db.identities.find({"at": {"$lt": cutoff}})
                  if lock["_id"] not in held and _orphan_identity(lock, cutoff)]
    versions = [lock for lock in db.archive_versions.find({"at": {"$lt": cutoff}})
                if reached.get(lock["archive_id"], 0) < lock["version"] and _orphan_version(lock, cutoff)]
    for lock in identities:
        db.identities.delete_one({"_id": lock["_id"], "at": lock["at"]})
    for lock in versions:
        db.archive_versions.delete_one({"_id": lock["_id"], "at": lock["at"]})
    settled, appended = pending.repair(grace)
    found = {"identity_locks": len(identities), "version_locks": len(versions), "settled": settled,
             "appended": appended}
    if identities or versions or any(settled.values()):
        record(None, "archive.reconcile", detail=found)
    return found
