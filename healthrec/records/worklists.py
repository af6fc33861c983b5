"""Work lists and the indicators' record queries: what is due in a village, referrals
awaiting receipt, and which archives had a service, a checkup or chronic follow-ups in a
period."""

import calendar
from datetime import date

from healthrec.archives import rules as archive_rules
from healthrec.archives import service as archives
from healthrec.archives.policy import READ
from healthrec.audit.log import record, refusals
from healthrec.clock import today
from healthrec.db import get_db
from healthrec.ids import prefix_range
from healthrec.paging import page_of
from healthrec.records import policy

# Hypertension and diabetes patients are followed up at least every three months.
FOLLOWUP_MONTHS = 3


def _add_months(day, months):
    """The same day `months` later (earlier when negative), or that month's last day."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def followups_due(user, village, as_of=None):
    """The village doctor's to-do list: open archives whose hypertension or diabetes
    follow-up is more than three months old (or never made), and residents of 65 and over
    without a checkup this calendar year."""
    access = archives.authorized(user, READ, village, "followups.due")
    as_of = as_of or today()
    year_start = date(as_of.year, 1, 1)
    db = get_db()
    last: dict[tuple[str, str], date] = {}  # (archive id, population or "checkup") -> latest day
    seen = db.records.find({"village": village, "current": True, "kind": {"$in": ["followup", "checkup"]}},
                           {"archive_id": 1, "kind": 1, "population": 1, "date": 1})
    for doc in seen:
        key = (doc["archive_id"], doc.get("population") if doc["kind"] == "followup" else "checkup")
        day = date.fromisoformat(doc["date"])
        last[key] = max(last.get(key, day), day)
    items: list[dict] = []
    for doc in db.archives.find({"village": village, "status": "open"}, dict.fromkeys(archives.SUMMARY, 1)):
        reasons = []  # (reason, last day, due since)
        for population in archive_rules.CHRONIC:
            if population in doc.get("key_populations", []):
                seen_on = last.get((doc["_id"], population))
                due = seen_on and _add_months(seen_on, FOLLOWUP_MONTHS)
                if due is None or due <= as_of:
                    reasons.append((population, seen_on, due))
        if archive_rules.age_on(date.fromisoformat(doc["birth_date"]), as_of) >= archive_rules.ELDERLY_AGE:
            checked_on = last.get((doc["_id"], "checkup"))
            if checked_on is None or checked_on < year_start:
                reasons.append(("elderly_checkup", checked_on, year_start))
        if reasons:
            name = archives.summary(doc)["name"]
            items.extend({"archive_id": doc["_id"], "name": name, "reason": reason, "last_date": seen_on,
                          "due_since": due} for reason, seen_on, due in reasons)
    # Never seen first, then the longest overdue.
    items.sort(key=lambda item: (item["last_date"] is not None, item["last_date"] or as_of, item["archive_id"]))
    record(user, "followups.due", region=village, purpose=access.purpose, grant=access.grant,
           detail={"total": len(items), "shown": sorted({item["archive_id"] for item in items})})
    return {"village": village, "as_of": as_of, "items": items}


def incoming_referrals(user, status="sent", page=1, per_page=None):
    """Referrals to institutions within the user's region: the receiving side's list.
    Only routing fields are shown; the clinical content is read through the archive."""
    with refusals(user, "referral.incoming"):
        policy.check_incoming(user)
    query = {"to_region": prefix_range(user.region), "status": status, "current": True}
    fields = ("archive_id", "record_id", "version", "date", "direction", "from_institution", "to_institution",
              "to_region", "status", "author", "received_by", "received_at")
    result = page_of(get_db().records, query, [("date", -1), ("_id", -1)], page, per_page,
                     lambda doc: {**doc, "id": doc["record_id"]}, dict.fromkeys(fields, 1))
    record(user, "referral.incoming", region=user.region, purpose="referral receipt",
           detail={"total": result["total"], "shown": [item["id"] for item in result["items"]]})
    return result


def _of_region(region, since, until, **match):
    """Current record versions of archives in `region` dated from `since` to `until`
    (inclusive): a village by equality, a wider region by the range of its village codes."""
    where = {"village": region} if len(region) == 12 else {"village": prefix_range(region)}
    return {**where, "current": True, **match, "date": {"$gte": since.isoformat(), "$lte": until.isoformat()}}


def _archive_ids(match):
    # A $group rather than `distinct`: its answer is a cursor, not one document that a
    # county's archive ids could push past the 16 MB limit.
    rows = get_db().records.aggregate([{"$match": match}, {"$group": {"_id": "$archive_id", "n": {"$sum": 1}}}])
    return {row["_id"] for row in rows}


def archives_with_service_since(region, since, until=None):
    """Ids of the archives under `region` (a village, or any prefix) with a service record
    dated from `since` to `until` (inclusive; default today): the usage rate's "has a
    conforming service record within the last year". Read from the records themselves, so
    no denormalised flag can miss a concurrent write."""
    return _archive_ids(_of_region(region, since, until or today()))


def archives_with_checkup(region, since, until):
    """Ids of the archives under `region` with a health checkup dated from `since` to `until`."""
    return _archive_ids(_of_region(region, since, until, kind="checkup"))


def chronic_followups(region, since, until):
    """{(archive id, population): [(date, method, control), ...]}: the hypertension and
    diabetes follow-ups of archives under `region` dated from `since` to `until`, one entry
    per distinct day, method and result (two identical forms of one visit are one follow-up)."""
    match = _of_region(region, since, until, kind="followup", population={"$in": list(archive_rules.CHRONIC)})
    key = {"archive": "$archive_id", "population": "$population", "date": "$date", "method": "$method",
           "control": "$control"}
    found: dict[tuple[str, str], list[tuple[str, str | None, str | None]]] = {}
    for row in get_db().records.aggregate([{"$match": match}, {"$group": {"_id": key, "n": {"$sum": 1}}}]):
        group = row["_id"]
        found.setdefault((group["archive"], group["population"]), []).append(
            (group["date"], group.get("method"), group.get("control")))
    return found
