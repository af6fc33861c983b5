"""Moving one archive's custody: the write a transfer and a merger both make.

The archive's custody fields change as the next version of the archive: its version
claim (archives/locks.py) serialises the move with every other change of the archive, so
neither overwrites the other on a server whose updates are read-modify-write. Then what
carries the archive's custody follows it: all versions of its records, its family-doctor
contracts (what a transfer or merger does to them beyond that: contracts/follow.py), the
lock on its ID card, access requests still open (pending, awaiting consent, active: the
township managing the archive now decides, records consent and revokes) and open urgent
cases (the township managing the archive now refers the patient). Break-glass openings
stay with the township whose archive was opened, which reviews them.

Every step sets the target values, so repeating a move after a crash changes nothing
twice; a record or request written while the archive moved follows it by itself
(archives.service.follow_custody).
"""

from healthrec.archives import locks
from healthrec.archives.rules import RELEASING_REASONS
from healthrec.db import get_db
from healthrec.errors import Conflict, PreconditionFailed

OPEN_REQUESTS = ("pending", "awaiting_consent", "active")
FIELDS = ("village", "township", "county")
# A move retries when another change of the archive (an edit, a review) takes the version
# it was about to write; each retry reads the archive again.
ATTEMPTS = 5


class Overtaken(Conflict):
    """The archive left the village the move expected before the move could be applied."""


def custody(doc):
    return {name: doc[name] for name in FIELDS}


def holds_identity(doc):
    return bool(doc.get("id_card_bi")) and (doc["status"] == "open"
                                            or doc["closed"]["reason"] not in RELEASING_REASONS)


def move(archive_id, from_village, to, by):
    """Give archive `archive_id` the custody `to` ({village, township, county}) if it is
    still managed by village `from_village` (or has `to` already: a repeat). Returns the
    archive's custody before the move; raises Overtaken when it is in neither."""
    db = get_db()
    for _attempt in range(ATTEMPTS):
        doc = db.archives.find_one({"_id": archive_id})
        before = custody(doc)
        if before == to:
            break
        if doc["village"] != from_village:
            raise Overtaken(f"Archive {archive_id} is managed by village {doc['village']} now, not by "
                            f"{from_village}; nothing was moved.")
        try:
            locks.commit(doc, by, None, dict(to), ["custody"])
            break
        except PreconditionFailed:
            continue
    else:
        raise Conflict(f"Archive {archive_id} kept changing while its custody was being moved; try again.")
    _follow(db, doc, to, before)
    return before


def _follow(db, doc, to, before):
    archive_id = doc["_id"]
    elsewhere = {"archive_id": archive_id, "$or": [{"village": {"$ne": to["village"]}},
                                                   {"township": {"$ne": to["township"]}}]}
    db.records.update_many(elsewhere, {"$set": to})
    db.contracts.update_many(elsewhere, {"$set": to})
    if holds_identity(doc) and before["village"] != to["village"]:
        locks.move_identity(doc["id_card_bi"], to["village"])
    db.access_requests.update_many({"archive_id": archive_id, "status": {"$in": list(OPEN_REQUESTS)}},
                                   {"$set": {"village": to["village"], "township": to["township"]}})
    db.urgent.update_many({"archive_id": archive_id, "status": "open"},
                          {"$set": {"village": to["village"], "township": to["township"]}})
