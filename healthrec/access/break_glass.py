"""Break-glass: a clinician opens an archive outside their scope in an emergency, with a
reason, for BREAK_GLASS_HOURS; the archive's township reviews every opening afterwards,
and supervisors see how many there were."""

from datetime import UTC, datetime, timedelta

from bson import ObjectId
from flask import current_app

from healthrec import idempotency
from healthrec.access import policy
from healthrec.access.grants import BREAK_GLASS_PURPOSE, active_grant
from healthrec.access.transitions import BREAK_GLASS, load, transition, unsealed
from healthrec.archives.custody import custody_query
from healthrec.archives.service import custody
from healthrec.audit import pending
from healthrec.audit.log import refusals
from healthrec.auth.roles import TOWNSHIP_STAFF
from healthrec.clock import now
from healthrec.crypto import keyring
from healthrec.db import get_db
from healthrec.errors import Conflict
from healthrec.paging import page_of


def open_archive(user, archive_id, reason, idempotency_key=None):
    """Open an archive outside one's scope in an emergency, for BREAK_GLASS_HOURS;
    (opening, created): created is False when an Idempotency-Key repeat answers the
    opening its first use made."""
    action = "break_glass.open"
    with refusals(user, action, archive_id=archive_id):
        policy.check_clinician(user)
    place = custody(archive_id)
    village = place["village"]
    where = {"archive_id": archive_id, "region": village, "township": place["township"]}
    with refusals(user, action, **where):
        policy.check_outside_scope(user, place)
    # Before the check for an opening in force, which the first use of the key made.
    claim = idempotency.claim(user, idempotency_key, action, [archive_id, reason], ref=str(ObjectId()))
    made = idempotency.made_before(claim, BREAK_GLASS)
    if made:
        return present(made), False
    try:
        with refusals(user, action, **where):
            if active_grant(user, archive_id):
                raise Conflict("You may already read this archive under an active grant or emergency opening.")
    except Conflict:
        idempotency.release(claim)
        raise
    at = now()
    opening_id = claim.ref if claim else str(ObjectId())
    doc = {
        "_id": opening_id, "archive_id": archive_id, **place,
        "opened_by": user.username, "role": user.role,
        "reason": keyring().seal(reason, opening_id, "reason"),
        "opened_at": at,
        "valid_until": at + timedelta(hours=current_app.config["BREAK_GLASS_HOURS"]),
        "status": "unreviewed",
    }
    mark = pending.intent(user, action, intent_id=claim and claim.id, **where, grant=opening_id,
                          purpose=BREAK_GLASS_PURPOSE)
    return present(pending.insert(BREAK_GLASS, doc, mark)), True


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
    return page_of(get_db()[BREAK_GLASS], query, [("opened_at", -1), ("_id", -1)], page, per_page, present)


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
