"""The MongoDB connection (one client per process) and every index the services need.

Production is MongoDB 7+; development and tests run FerretDB v1. Code here and in the
services stays inside the subset both servers run the same way (docs/database.md).
"""

import threading

from pymongo import ASCENDING, DESCENDING, DeleteOne, MongoClient

_clients: dict[str, MongoClient] = {}
_lock = threading.Lock()

# Every index MongoDB needs, declared once: {collection: [(keys, options), ...]}.
# FerretDB only enforces the unique ones, but tests check each query shape has one here.
INDEXES: dict[str, list[tuple[list[tuple[str, int]], dict]]] = {
    # Users by region: a merger hands a retired township's staff to its successor.
    "users": [([("region", ASCENDING), ("_id", ASCENDING)], {})],
    # A user's tokens (revoked together); expired ones (`flask prune`).
    "tokens": [([("username", ASCENDING)], {}), ([("expires_at", ASCENDING)], {})],
    "login_failures": [
        ([("at", ASCENDING)], {}),
        ([("username", ASCENDING), ("at", DESCENDING)], {}),
        ([("ip", ASCENDING), ("at", DESCENDING)], {}),
    ],
    # Regions: a township's villages; the townships merged into one (their audit history).
    "regions": [([("parent", ASCENDING), ("_id", ASCENDING)], {}), ([("successor", ASCENDING)], {})],
    "region_locks": [],
    # Access: a reader's grants on an archive; requests by requester, township or village
    # and openings by township (review queue, counts), county (counts) or clinician, newest
    # first.
    "access_requests": [
        ([("archive_id", ASCENDING), ("requester", ASCENDING)], {}),
        ([("requester", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("township", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("village", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("pending_audit.at", ASCENDING)], {}),
    ],
    # Writes (and claimed events) still carrying their audit entry, by age: what
    # `flask archives reconcile` settles (audit/pending.py).
    "access_events": [([("pending_audit.at", ASCENDING)], {})],
    "consents": [([("archive_id", ASCENDING), ("at", ASCENDING)], {}), ([("pending_audit.at", ASCENDING)], {})],
    "break_glass": [
        ([("archive_id", ASCENDING), ("opened_by", ASCENDING)], {}),
        ([("county", ASCENDING), ("opened_at", DESCENDING)], {}),
        ([("opened_by", ASCENDING), ("opened_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("township", ASCENDING), ("opened_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("township", ASCENDING), ("status", ASCENDING), ("opened_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("pending_audit.at", ASCENDING)], {}),
    ],
    # Alerts newest first, by the clinician's township (its staff) or county (supervisors).
    "alerts": [
        ([("township", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("county", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], {}),
    ],
    # Audit: entries newest first by township chain (staff, counts), by actor (supervisors),
    # by archive and by the archives a list showed (disclosure report) and overall (admin);
    # a chain's end by its newest block (appending); verify walks the `_id` order.
    "audit": [
        ([("block", ASCENDING)], {}),
        ([("chain", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("actor", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("archive_id", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("detail.shown", ASCENDING), ("at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("at", DESCENDING), ("_id", DESCENDING)], {}),
        # A write's entry by the intent it carried (audit.pending).
        ([("intent", ASCENDING)], {}),
    ],
    "audit_heads": [],
    # Archives: lists lead with their custody level (village, township or county), then
    # the code; look-ups by ID card or name lead with the blind index.
    "archives": [
        ([("village", ASCENDING), ("_id", ASCENDING)], {}),
        ([("township", ASCENDING), ("_id", ASCENDING)], {}),
        ([("county", ASCENDING), ("_id", ASCENDING)], {}),
        ([("id_card_bi", ASCENDING), ("_id", ASCENDING)], {}),
        ([("name_bi", ASCENDING), ("_id", ASCENDING)], {}),
        ([("status", ASCENDING), ("_id", ASCENDING)], {}),
        ([("review.verdict", ASCENDING), ("_id", ASCENDING)], {}),
        # Indicators: the archives of a region established by a day.
        ([("village", ASCENDING), ("established_on", ASCENDING)], {}),
        ([("township", ASCENDING), ("established_on", ASCENDING)], {}),
        ([("county", ASCENDING), ("established_on", ASCENDING)], {}),
        # Writes still carrying their audit entry: by the Idempotency-Key they were made
        # under, and by age (reconcile).
        ([("pending_audit.id", ASCENDING)], {}),
        ([("pending_audit.at", ASCENDING)], {}),
    ],
    "archive_serials": [],
    "identities": [([("at", ASCENDING)], {})],
    "archive_versions": [([("at", ASCENDING)], {})],
    # Records: an archive's timeline (newest first; superseded versions are few, so the
    # `current` filter rides along), a record's versions, the records in a period of a
    # custody village, township or county (usage rate, due list by kind), and referrals
    # awaiting receipt in a region.
    "records": [
        ([("archive_id", ASCENDING), ("date", DESCENDING), ("_id", DESCENDING)], {}),
        ([("record_id", ASCENDING), ("version", DESCENDING)], {}),
        ([("village", ASCENDING), ("date", DESCENDING)], {}),
        ([("township", ASCENDING), ("date", DESCENDING)], {}),
        ([("county", ASCENDING), ("date", DESCENDING)], {}),
        ([("village", ASCENDING), ("kind", ASCENDING), ("date", DESCENDING)], {}),
        ([("to_region", ASCENDING), ("status", ASCENDING), ("date", DESCENDING), ("_id", DESCENDING)], {}),
        ([("to_township", ASCENDING), ("status", ASCENDING), ("date", DESCENDING), ("_id", DESCENDING)], {}),
        ([("pending_audit.at", ASCENDING)], {}),
    ],
    # Family-doctor teams of a township; an archive's contracts (the newest is the current
    # one); contracts in force on a day by custody level or team (renewal lists, contracted
    # share per village).
    "teams": [([("township", ASCENDING), ("_id", ASCENDING)], {})],
    "contracts": [
        ([("archive_id", ASCENDING), ("_id", ASCENDING)], {}),
        ([("village", ASCENDING), ("ends_on", ASCENDING), ("_id", ASCENDING)], {}),
        ([("township", ASCENDING), ("ends_on", ASCENDING), ("_id", ASCENDING)], {}),
        ([("county", ASCENDING), ("ends_on", ASCENDING), ("_id", ASCENDING)], {}),
        ([("team", ASCENDING), ("ends_on", ASCENDING), ("_id", ASCENDING)], {}),
    ],
    "contract_events": [([("pending_audit.at", ASCENDING)], {})],
    # Urgent cases: open ones of a township or village, oldest first; an archive's open ones
    # when a referral resolves them.
    "urgent": [
        ([("township", ASCENDING), ("status", ASCENDING), ("date", ASCENDING), ("_id", ASCENDING)], {}),
        ([("village", ASCENDING), ("status", ASCENDING), ("date", ASCENDING), ("_id", ASCENDING)], {}),
        ([("archive_id", ASCENDING), ("status", ASCENDING), ("date", ASCENDING)], {}),
    ],
    # Verification samples: the grant look-up by drawn archive, a user's samples newest
    # first; results by sample, and by custody level and day for the indicators.
    "samples": [
        ([("archives", ASCENDING)], {}),
        ([("checkers", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("created_by", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("pending_audit.at", ASCENDING)], {}),
    ],
    "sample_results": [
        ([("sample", ASCENDING), ("_id", ASCENDING)], {}),
        ([("village", ASCENDING), ("checked_on", ASCENDING)], {}),
        ([("township", ASCENDING), ("checked_on", ASCENDING)], {}),
        ([("county", ASCENDING), ("checked_on", ASCENDING)], {}),
        ([("pending_audit.at", ASCENDING)], {}),
    ],
    # Pruning old keys and failed logins (`flask prune`) goes by time alone.
    "idempotency_keys": [([("at", ASCENDING)], {})],
    # Custody: an archive's transfers; each township's (and village's) incoming and
    # outgoing ones, newest first; merger runs newest first. Claims are read by `_id` alone.
    "transfers": [
        ([("archive_id", ASCENDING), ("attempt", DESCENDING)], {}),
        ([("to_township", ASCENDING), ("requested_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("from_township", ASCENDING), ("requested_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("to_village", ASCENDING), ("requested_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("from_village", ASCENDING), ("requested_at", DESCENDING), ("_id", DESCENDING)], {}),
        ([("pending_audit.at", ASCENDING)], {}),
    ],
    "custody_claims": [([("pending_audit.at", ASCENDING)], {})],
    "custody_moves": [([("started_at", DESCENDING)], {})],
}


def client_for(uri):
    """The process's MongoClient for a URI; created on first use, after any fork."""
    with _lock:
        client = _clients.get(uri)
        if client is None:
            # Short server selection: /readyz and callers learn quickly that it is down.
            # A write is acknowledged once a majority of the replica set has it, so a
            # failover never rolls back what a client was told was saved (a standalone
            # server, FerretDB included, takes "majority" as its own acknowledgement).
            # After a failover pymongo retries a single-document write once, and the server
            # knows a retry of a write it applied. Multi-document updates are not retried:
            # the request fails (503) and is repeated, and they are `$set`s that land the
            # same way twice (docs/operating.md).
            client = MongoClient(uri, serverSelectionTimeoutMS=3000, tz_aware=True, w="majority",
                                 retryWrites=True)
            _clients[uri] = client
        return client


def close_clients():
    """Close every client this process opened (tests and scripts, when they finish)."""
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


def database(settings):
    return client_for(settings["MONGO_URI"])[settings["DB_NAME"]]


def ensure_indexes(db):
    """Every declared collection with its indexes (the dev database's tuning needs each
    collection's table to exist)."""
    existing = set(db.list_collection_names())
    for collection, indexes in INDEXES.items():
        if collection not in existing and not indexes:
            db.create_collection(collection)
        for keys, options in indexes:
            db[collection].create_index(keys, **options)


def delete_in_batches(collection, query, batch=1000):
    """Delete what `query` matches, `batch` documents per round trip; how many went.

    FerretDB deletes the documents a filter matched by listing their ids in one SQL
    statement, which SQLite refuses beyond about 32 000 of them ("too many SQL
    variables"), so a large delete_many fails there. Each batch is one `delete` command of
    deletes by `_id`, which both backends hand to their unique `_id` index.
    """
    deleted = 0
    while ids := [doc["_id"] for doc in collection.find(query, {"_id": 1}).limit(batch)]:
        deleted += collection.bulk_write([DeleteOne({"_id": _id}) for _id in ids], ordered=False).deleted_count
    return deleted


def ping(db):
    db.client.admin.command("ping")


def get_db():
    """The database of the current app (services run inside an app context)."""
    from flask import current_app

    db = current_app.extensions["healthrec.db"]
    check = current_app.extensions.pop("healthrec.unchecked", None)
    if check:
        check(db, current_app.extensions["healthrec.keys"])
    return db
