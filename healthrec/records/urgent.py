"""The urgent list: residents with a danger value (healthrec/records/thresholds.py) whose
referral is not recorded yet, for their township and their village.

A record with a danger value opens a case in `urgent` whose `_id` is the record id, so a
resubmitted record never opens a second one (claiming by insert, docs/concurrency.md). A
referral recorded on or after the case's day resolves it: an upward referral record, or a
follow-up with its referral part filled in — the danger record itself, another form of
the same visit, or a later record. An amendment that takes the danger value away closes
the case as corrected. An open case carries its archive's custody village and township,
and follows a transfer (custody/moves.py); its detail (which may name a condition) is
sealed.
"""

from datetime import date

from pymongo.errors import DuplicateKeyError

from healthrec.archives import service as archives
from healthrec.archives.policy import READ
from healthrec.audit.log import record
from healthrec.clock import now, today
from healthrec.crypto import keyring
from healthrec.db import get_db
from healthrec.errors import Invalid
from healthrec.records import alerts

LEVELS = {9: "township", 12: "village"}


def _resolve(db, archive_id, referral):
    """Cases of the archive opened on or before `referral`'s day are referred by it."""
    db.urgent.update_many({"archive_id": archive_id, "status": "open", "date": {"$lte": referral["date"]}},
                          {"$set": {"status": "referred", "referral": referral["record_id"], "resolved_at": now()}})


def _referred_since(db, archive_id, day):
    """A referral of the archive recorded on or after `day`, or None."""
    later = db.records.find({"archive_id": archive_id, "current": True, "date": {"$gte": day}},
                            {"kind": 1, "direction": 1, "referral": 1, "record_id": 1, "date": 1})
    return next((doc for doc in later if alerts.refers(doc)), None)


def _open(db, access, doc, detail):
    case = {"_id": doc["record_id"], "archive_id": doc["archive_id"], "village": access.archive["village"],
            "township": access.archive["township"], "record_id": doc["record_id"], "kind": doc["kind"],
            "date": doc["date"], "status": "open", "opened_at": now(), "opened_by": access.user.username}
    case["detail"] = keyring().seal(detail, case["_id"], "detail")
    try:
        db.urgent.insert_one(case)
    except DuplicateKeyError:
        return  # a repeat of the same record: its case is open already
    archives.follow_custody("urgent", doc["archive_id"], [case["_id"]],
                            {name: case[name] for name in ("village", "township")})
    earlier = _referred_since(db, doc["archive_id"], doc["date"])
    if earlier:
        _resolve(db, doc["archive_id"], earlier)


def record_created(access, docs):
    """Open a case for each new record (plaintext) with a danger value; resolve the
    archive's cases with each new referral."""
    db = get_db()
    for doc in docs:
        detail = alerts.urgent_detail(doc)
        if detail:
            _open(db, access, doc, detail)
    for doc in docs:
        if alerts.refers(doc):
            _resolve(db, doc["archive_id"], doc)


def record_amended(access, doc):
    """Follow an amendment: a danger value added opens (or reopens) the record's case, one
    corrected away closes it; a referral added resolves the cases it covers."""
    db = get_db()
    detail = alerts.urgent_detail(doc)
    case = db.urgent.find_one({"_id": doc["record_id"]}, {"status": 1})
    if detail and case is None:
        _open(db, access, doc, detail)
    elif detail and case["status"] in ("open", "corrected"):
        db.urgent.update_one({"_id": doc["record_id"], "status": case["status"]}, {"$set": {
            "status": "open", "date": doc["date"], "detail": keyring().seal(detail, doc["record_id"], "detail")}})
    elif not detail and case and case["status"] == "open":
        db.urgent.update_one({"_id": doc["record_id"], "status": "open"},
                             {"$set": {"status": "corrected", "resolved_at": now()}})
    if alerts.refers(doc):
        _resolve(db, doc["archive_id"], doc)


def open_cases(region):
    """The open cases of a township or village (`region`), oldest first."""
    return list(get_db().urgent.find({LEVELS[len(region)]: region, "status": "open"}).sort([("date", 1), ("_id", 1)]))


def as_items(cases):
    """Due-list items of open cases whose archive is still open: (items, archive documents)."""
    ring, db = keyring(), get_db()
    items: list[dict] = []
    shown: dict[str, dict] = {}
    for case in cases:
        doc = shown.get(case["archive_id"]) or db.archives.find_one({"_id": case["archive_id"]},
                                                                    dict.fromkeys(archives.SUMMARY, 1))
        if doc is None or doc["status"] != "open":
            continue  # a closed archive (a death) leaves the list
        shown[case["archive_id"]] = doc
        day = date.fromisoformat(case["date"])
        items.append({"archive_id": case["archive_id"], "name": archives.summary(doc)["name"],
                      "village": case["village"], "reason": alerts.URGENT, "record_id": case["record_id"],
                      "due_on": day, "since": day, "due_since": day, "last_date": day,
                      "detail": ring.unseal(case["detail"], case["_id"], "detail")})
    return items


def urgent_list(user, region=None):
    """Residents of a township or village with a danger value not yet referred, the
    longest waiting first. Township staff see their township's, village doctors their
    village's."""
    region = region or user.region
    try:
        place = archives.region_custody(region)
    except Invalid as error:
        raise Invalid(error.detail, {"region": [error.detail]}) from None
    access = archives.authorized(user, READ, place, "followups.urgent")
    items = as_items(open_cases(region))
    record(user, "followups.urgent", region=region, purpose=access.purpose, grant=access.grant,
           detail={"total": len(items), "shown": sorted({item["archive_id"] for item in items})})
    return {"region": region, "as_of": today(), "items": items}
