"""`flask keys reseal`: seal what an earlier version of the service stored in clear.

The doctor's key-population flags were plain on archives, on the contracts that copy them
and in the contract events that wrote those; institutions, departments and doctors of a
record were plain in the forms that seal them now. Each is sealed for the place it is
found, as the service seals it today; an archive also gets its flag tokens. A value
already sealed is left alone, so the step can run again, and stops nothing: run it once
after upgrading, before the service starts.
"""

from collections import Counter

from healthrec.archives.service import population_tokens
from healthrec.audit.log import record
from healthrec.contracts.changes import CONTRACTS, EVENTS
from healthrec.crypto import is_sealed
from healthrec.records import kinds

FLAGS = "key_populations"


def reseal(db, ring, batch_size=100):
    """Seal every plain value the service seals now; {collection: documents changed}."""
    changed: Counter[str] = Counter()

    def every(collection, projection=None):
        return db[collection].find({}, projection).sort("_id", 1).batch_size(batch_size)

    for doc in every("archives", {FLAGS: 1}):
        flags = doc.get(FLAGS)
        if flags is None or is_sealed(flags):
            continue
        # Matched on the plain value read: a change written meanwhile sealed it already.
        changed["archives"] += db.archives.update_one({"_id": doc["_id"], FLAGS: flags}, {"$set": {
            FLAGS: ring.seal(flags, doc["_id"], FLAGS), "key_population_bi": population_tokens(doc["_id"], flags),
        }}).modified_count
    for doc in every(CONTRACTS, {FLAGS: 1}):
        flags = doc.get(FLAGS)
        if flags is not None and not is_sealed(flags):
            changed[CONTRACTS] += db[CONTRACTS].update_one(
                {"_id": doc["_id"], FLAGS: flags},
                {"$set": {FLAGS: ring.seal(flags, doc["_id"], FLAGS)}}).modified_count
    for doc in every(EVENTS, {f"changes.{FLAGS}": 1}):
        flags = doc.get("changes", {}).get(FLAGS)
        if flags is not None:
            # An event carries what it seals in `secrets`, sealed for the event itself.
            changed[EVENTS] += db[EVENTS].update_one(
                {"_id": doc["_id"], f"changes.{FLAGS}": flags},
                {"$set": {f"secrets.{FLAGS}": ring.seal(flags, doc["_id"], f"secrets.{FLAGS}")},
                 "$unset": {f"changes.{FLAGS}": ""}}).modified_count
    for doc in every("records"):
        sealed = kinds.seal(ring, doc)
        fresh = {name: value for name, value in sealed.items() if value != doc.get(name)}
        if fresh:
            # A record's version is never rewritten but for a referral's receipt, which
            # sets other fields.
            changed["records"] += db.records.update_one({"_id": doc["_id"]}, {"$set": fresh}).modified_count
    result = dict(changed)
    record(None, "keys.reseal", detail={"changed": result})
    return result
