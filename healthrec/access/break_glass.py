"""Break-glass: a clinician opens an archive outside their scope in an emergency, with a
reason, for BREAK_GLASS_HOURS; the archive's township reviews every opening afterwards,
and supervisors see how many there were.

Openings are limited: an archive of the clinician's own county only, and at most
BREAK_GLASS_PER_DAY a day each. An archive of another county is answered exactly as one
that does not exist, so that trying codes tells nobody which residents have archives.
"""

from datetime import UTC, datetime, time, timedelta

from bson import ObjectId
from flask import current_app
from pymongo.errors import DuplicateKeyError

from healthrec import idempotency
from healthrec.access import alerts, policy
from healthrec.access.grants import BREAK_GLASS_PURPOSE, active_grant
from healthrec.access.transitions import BREAK_GLASS, load, transition, unsealed
from healthrec.archives.custody import custody_query
from healthrec.archives.service import custody
from healthrec.audit import pending
from healthrec.audit.log import deny, record, refusals
from healthrec.auth.roles import TOWNSHIP_STAFF
from healthrec.clock import CHINA, now, today
from healthrec.crypto import keyring
from healthrec.db import get_db
from healthrec.errors import Conflict, NotFound, TooManyRequests
from healthrec.paging import page_of

OPEN = "break_glass.open"


def open_archive(user, archive_id, reason, idempotency_key=None):
    """Open an archive of one's county outside one's scope in an emergency, for
    BREAK_GLASS_HOURS; (opening, created): created is False when an Idempotency-Key
    repeat answers the opening its first use made."""
    with refusals(user, OPEN, archive_id=archive_id):
        policy.check_clinician(user)
    place = _within_reach(user, archive_id)
    where = {"archive_id": archive_id, "region": place["village"], "township": place["township"]}
    with refusals(user, OPEN, **where):
        policy.check_outside_scope(user, place)
    # Before the check for an opening in force, which the first use of the key made.
    claim = idempotency.claim(user, idempotency_key, OPEN, [archive_id, reason], ref=str(ObjectId()))
    made = idempotency.made_before(claim, BREAK_GLASS)
    if made:
        return present(made), False
    day = today()
    opening_id = claim.ref if claim else str(ObjectId())
    try:
        with refusals(user, OPEN, **where):
            if active_grant(user, archive_id):
                raise Conflict("You may already read this archive under an active grant or emergency opening.")
        number = _claim_place(user, day, opening_id, where)
    except (Conflict, TooManyRequests):
        idempotency.release(claim)
        raise
    at = now()
    doc = {
        "_id": opening_id, "archive_id": archive_id, **place,
        "opened_by": user.username, "role": user.role,
        "reason": keyring().seal(reason, opening_id, "reason"),
        "opened_at": at,
        "valid_until": at + timedelta(hours=current_app.config["BREAK_GLASS_HOURS"]),
        "status": "unreviewed",
    }
    mark = pending.intent(user, OPEN, intent_id=claim and claim.id, **where, grant=opening_id,
                          purpose=BREAK_GLASS_PURPOSE, detail={"today": number})
    stored = pending.insert(BREAK_GLASS, doc, mark)
    limit = current_app.config["BREAK_GLASS_PER_DAY"]
    if number >= limit - 1:  # once a day: the alert's own claim
        alerts.break_glass_limit_near(user, day, number, limit)
    return present(stored), True


def _within_reach(user, archive_id):
    """The custody of an archive of the user's own county; NotFound, the same answer,
    for one of another county and for one that does not exist."""
    county = user.region[:6]
    hidden = NotFound(f"No archive {archive_id} that you can open in an emergency: break-glass opens archives "
                      f"of your own county ({county}). Check the number; for an archive elsewhere, file an "
                      "access request with the township health centre that manages it.")
    try:
        place = custody(archive_id)
    except NotFound:
        record(user, OPEN, outcome="not_found", archive_id=archive_id, region=user.region)
        raise hidden from None
    if place["county"] != county:
        raise deny(user, OPEN, hidden, archive_id=archive_id, region=place["village"], township=place["township"])
    return place


def _claim_place(user, day, opening_id, where):
    """The number of this opening among the user's openings of `day`, claimed by insert
    (no counter: docs/concurrency.md), so two openings at once cannot both pass the limit;
    TooManyRequests beyond BREAK_GLASS_PER_DAY."""
    limit = current_app.config["BREAK_GLASS_PER_DAY"]
    start = datetime.combine(day, time(), CHINA)
    db = get_db()
    # A hint where to start: a place claimed by a request that then failed stays taken.
    opened = db[BREAK_GLASS].count_documents({"opened_by": user.username, "opened_at": {"$gte": start}})
    for number in range(opened + 1, limit + 1):
        try:
            db.access_events.insert_one({"_id": f"break-glass:{user.username}:{day.isoformat()}:{number}",
                                         "opening": opening_id, "at": now()})
            return number
        except DuplicateKeyError:
            continue
    tomorrow = datetime.combine(day + timedelta(days=1), time(), CHINA)
    error = TooManyRequests(
        f"You have made {limit} emergency openings today, the most a clinician may make in a day; your "
        "township health centre and the county's supervisors have been told. Ask the township health centre "
        "that manages the archive for what you need, or file an access request; openings are possible again "
        "tomorrow.", retry_after=max((tomorrow - now()).total_seconds(), 1))
    raise deny(user, OPEN, error, **where)


def acknowledge(user, opening_id, note=None):
    """Township staff review an emergency opening of one of their archives."""
    doc = load(BREAK_GLASS, opening_id)
    action = "break_glass.acknowledge"
    where = {"archive_id": doc["archive_id"], "region": doc["village"], "township": doc["township"],
             "grant": opening_id, "purpose": BREAK_GLASS_PURPOSE}
    with refusals(user, action, **where):
        policy.check_acknowledge(user, doc)
        if doc["status"] != "unreviewed":
            raise Conflict(f"{doc['acknowledged_by']} has already acknowledged this opening; nothing was changed.")
        doc = transition(user, BREAK_GLASS, doc, "acknowledged",
                         {"acknowledged_by": user.username, "acknowledged_at": now()},
                         pending.intent(user, action, **where), secrets={"note": note} if note else None)
    return present(doc)


def list_openings(user, status=None, page=1, per_page=None):
    """Township staff: their township's openings (the review queue); others: their own."""
    mine = {"township": user.region} if user.role == TOWNSHIP_STAFF else {"opened_by": user.username}
    query = {**mine, "status": status} if status else mine
    result = page_of(get_db()[BREAK_GLASS], query, [("opened_at", -1), ("_id", -1)], page, per_page, present)
    # The reasons say what happened to the residents: the archives shown go in their reports.
    record(user, "break_glass.list", region=user.region,
           detail={"filters": ["status"] if status else [], "total": result["total"],
                   "shown": sorted({item["archive_id"] for item in result["items"]})})
    return result


def counts(user, region=None, since=None):
    """Emergency openings per township of the archives opened, for supervisors."""
    region = region or user.region
    with refusals(user, "break_glass.counts"):
        policy.check_counts(user, region)
    match = custody_query(region)
    if since:
        match["opened_at"] = {"$gte": datetime(since.year, since.month, since.day, tzinfo=UTC)}
    # One accumulator per $group: FerretDB returns 0 for a second one.
    openings = _count_by_township(match)
    unreviewed = _count_by_township({**match, "status": "unreviewed"})
    names = {doc["_id"]: doc["name"]
             for doc in get_db().regions.find({"_id": {"$in": sorted(openings)}}, {"name": 1})}
    return {
        "region": region, "since": since,
        "townships": [{"township": code, "name": names.get(code), "openings": count,
                       "unreviewed": unreviewed.get(code, 0)}
                      for code, count in sorted(openings.items())],
    }


def _count_by_township(match):
    pipeline = [{"$match": match}, {"$group": {"_id": "$township", "n": {"$sum": 1}}}]
    return {row["_id"]: row["n"] for row in get_db()[BREAK_GLASS].aggregate(pipeline)}


def present(doc):
    return unsealed(doc, "reason", "note")
