"""Key management: which keys this database needs, re-sealing values under the active
key (rotation), and how many values each key seals.

The `keyring` collection remembers, for every key id ever active, a canary sealed under
that key, and the index key's HMAC of the same fixed text. At start-up every canary must
open with the configured ring, so a missing or wrong key stops the service with a message
naming it, instead of failing on the first archive read. The collection holds no key
material. Once no value is left under an old key, that key is marked retired: the ring may
then drop it.
"""

from collections import Counter
from contextlib import suppress
from itertools import islice

from pymongo.errors import DuplicateKeyError, PyMongoError

from healthrec.audit.log import record, refusals
from healthrec.crypto import KeyRingError, is_sealed, keyring
from healthrec.db import get_db
from healthrec.keys import policy

# Every collection holding sealed values, each at the document and path it was sealed for:
# rotation re-seals these. The counts look at every collection, so sealed values anywhere
# else show up in `flask keys status` as not rotated and keep their key from retiring.
ENCRYPTED_COLLECTIONS = ("archives", "records", "access_requests", "access_events", "break_glass", "consents",
                         "contracts", "contract_events", "transfers", "custody_claims", "urgent",
                         "sample_results")

CANARY = "healthrec key check"
INDEX_KEY = "index_key"
ROTATION = "rotation"


class DatabaseUnavailable(RuntimeError):
    """The database did not answer, so the keys could not be checked; a later start may work."""


def check_at_start(db, ring):
    """Refuse to start when `ring` cannot open what this database was sealed with.

    Then remembers the active key and the index key, the first time they are used. Raises
    KeyRingError naming each missing or wrong key, having written nothing, and
    DatabaseUnavailable when the database does not answer: the service never runs unchecked.
    """
    try:
        problems = key_problems(db, ring)
        if ring is not None and not problems:
            remember(db, ring)
            # Another process may have remembered a different key under the same id first.
            problems = key_problems(db, ring)
    except PyMongoError as error:
        reason = str(error).split(" (configured timeouts")[0]  # pymongo appends its whole topology
        raise DatabaseUnavailable(f"cannot check the encryption keys: the database does not answer ({reason}); "
                                  "check MONGO_URI and that the database server is running") from None
    if problems:
        raise KeyRingError("; ".join(problems))


def remember(db, ring):
    doc_id = "key:" + ring.active
    canaries = (
        {"_id": doc_id, "kind": "key", "key": ring.active, "retired": False,
         "canary": ring.seal(CANARY, doc_id, "canary")},
        {"_id": INDEX_KEY, "kind": "index", "canary": ring.blind_index(CANARY)},
    )
    for canary in canaries:
        # Insert-only: a canary already there is never overwritten, key_problems checks it.
        with suppress(DuplicateKeyError):
            db.keyring.insert_one(canary)
    # An old key made active again seals new values, so it is needed again.
    db.keyring.update_one({"_id": doc_id, "retired": True}, {"$set": {"retired": False}})


def key_problems(db, ring):
    """What keeps `ring` from opening this database, one sentence per key."""
    known = list(db.keyring.find({"kind": {"$in": ["key", "index"]}}).sort([("kind", -1), ("_id", 1)]))
    if ring is None:
        if not known:
            return []
        needed = [f"key {doc['key']!r}" for doc in known if doc["kind"] == "key" and not doc["retired"]]
        return ["this database holds encrypted data but no encryption keys are configured: set "
                f"HEALTHREC_KEYS or HEALTHREC_KEY_FILE to the key ring holding {' and '.join(needed)} "
                "and its index_key"]
    problems = []
    for doc in known:
        if doc["kind"] == "index":
            if ring.blind_index(CANARY) != doc["canary"]:
                problems.append("the index_key in the key ring is not the one this database's ID-card look-ups "
                                "were built with; restore the original index_key from your key backup")
        elif doc["key"] not in ring.keys:
            if not doc["retired"]:
                problems.append(f"key {doc['key']!r} is missing from the key ring but this database holds values "
                                "sealed under it; add it back to HEALTHREC_KEYS or HEALTHREC_KEY_FILE from your "
                                "key backup")
        elif not opens(ring, doc):
            problems.append(f"key {doc['key']!r} in the key ring is not the key {doc['key']!r} this database was "
                            "sealed with; restore the right one from your key backup")
    return problems


def opens(ring, canary):
    try:
        return ring.unseal(canary["canary"], canary["_id"], "canary") == CANARY
    except KeyRingError:
        return False


def sealed_values(value, path=None):
    """(dotted path, sealed value) for every sealed value in a document, at any depth."""
    if is_sealed(value):
        yield path, value
        return
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = list(enumerate(value))
    else:
        return
    for name, item in items:
        yield from sealed_values(item, f"{path}.{name}" if path else str(name))


def counts(db):
    """{collection: Counter(key id: sealed values)}: every encrypted collection, and any
    other collection (but the canaries') that holds sealed values."""
    per_collection = {}
    for name in sorted(set(ENCRYPTED_COLLECTIONS) | set(db.list_collection_names()) - {"keyring"}):
        per_key = Counter(sealed["k"] for doc in db[name].find() for _path, sealed in sealed_values(doc))
        if per_key or name in ENCRYPTED_COLLECTIONS:
            per_collection[name] = per_key
    return per_collection


def under_old_keys(per_collection, active):
    """{collection: values under keys other than `active`}, for collections with any."""
    left = {name: sum(n for key_id, n in per_key.items() if key_id != active)
            for name, per_key in per_collection.items()}
    return {name: n for name, n in left.items() if n}


def resume_point(db, active):
    """{collection: last _id done} of an interrupted rotation to `active`, else {}."""
    progress = db.keyring.find_one({"_id": ROTATION})
    return progress["after"] if progress and progress["key"] == active else {}


def not_done(name, after):
    # Each collection keeps one _id type, so "greater than the last one done" is the rest.
    return {"_id": {"$gt": after[name]}} if name in after else {}


def pending(db, active):
    """How many documents a rotation to `active` still has to check."""
    after = resume_point(db, active)
    return sum(db[name].count_documents(not_done(name, after)) for name in ENCRYPTED_COLLECTIONS)


def rotate(db, ring, batch_size=100, limit=None, progress=None):
    """Re-seal every value under an old key with the active key, in batches of documents.

    The last _id of each batch is saved, so a run that is interrupted, or stopped after
    `limit` documents, resumes where it stopped. Every process of the service must hold
    the new ring first: one still sealing under an old key leaves values behind, which the
    final count reports (`left`, per collection). Old keys are retired only when no value
    in any collection is left under them.
    """
    after = resume_point(db, ring.active)
    db.keyring.replace_one({"_id": ROTATION}, {"kind": "rotation", "key": ring.active, "after": after}, upsert=True)
    checked = resealed = 0
    complete = True

    def room():
        return batch_size if limit is None else min(batch_size, limit - checked)

    for name in ENCRYPTED_COLLECTIONS:
        with db[name].find(not_done(name, after)).sort("_id", 1).batch_size(batch_size) as cursor:
            while batch := list(islice(cursor, room())):
                resealed += sum(reseal_document(db, ring, name, doc) for doc in batch)
                checked += len(batch)
                db.keyring.update_one({"_id": ROTATION}, {"$set": {f"after.{name}": batch[-1]["_id"]}})
                if progress:
                    progress(len(batch))
        if limit is not None and checked >= limit:
            complete = False
            break
    left = under_old_keys(counts(db), ring.active)
    if complete:
        # A later run starts a fresh pass: values sealed behind this one are found again.
        db.keyring.delete_one({"_id": ROTATION})
    if not left:
        db.keyring.update_many({"kind": "key", "key": {"$ne": ring.active}}, {"$set": {"retired": True}})
    result = {"key": ring.active, "checked": checked, "resealed": resealed, "remaining": sum(left.values()),
              "left": left, "complete": complete}
    record(None, "keys.rotate", detail=result)
    return result


def reseal_document(db, ring, collection, doc):
    """Re-seal the values of `doc` under old keys with the active key; how many it took.

    The update matches only while each of those values still has the nonce we read, so a
    write landing in between is never overwritten: the update matches nothing and we start
    again from the document as it is now (each retry follows a real write to it). On
    MongoDB match and write are one atomic step; FerretDB v1 narrows the window to its own
    read-modify-write but cannot close it.
    """
    doc_id = doc["_id"]
    while doc is not None:
        old = [(path, sealed) for path, sealed in sealed_values(doc) if sealed["k"] != ring.active]
        if not old:
            return 0
        guard = {"_id": doc_id} | {f"{path}.n": sealed["n"] for path, sealed in old}
        fresh = {path: ring.seal(ring.unseal(sealed, doc_id, path), doc_id, path) for path, sealed in old}
        if db[collection].update_one(guard, {"$set": fresh}).matched_count:
            return len(old)
        doc = db[collection].find_one({"_id": doc_id})
    return 0


def status(db, ring):
    """Sealed values per key per collection, the keys this database knows, rotation left."""
    per_collection = counts(db)
    return {
        "active": ring.active,
        "counts": per_collection,
        "remaining": sum(under_old_keys(per_collection, ring.active).values()),
        "keys": [(doc["key"], doc["retired"]) for doc in db.keyring.find({"kind": "key"}).sort("_id", 1)],
        "resume_after": resume_point(db, ring.active),
    }


def status_for(actor):
    """`status` for an administrator on a page, audited."""
    with refusals(actor, "keys.status"):
        policy.check_status(actor)
    report = status(get_db(), keyring())
    record(actor, "keys.status", detail={"remaining": report["remaining"]})
    return report
