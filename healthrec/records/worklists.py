"""Work lists and the indicators' record queries: what is due in a village
(healthrec/records/schedule.py says when), referrals awaiting receipt, and which archives
had a service, a checkup or chronic follow-ups in a period."""

from datetime import date, timedelta

from flask import current_app

from healthrec.archives import rules as archive_rules
from healthrec.archives import service as archives
from healthrec.archives.custody import custody_query
from healthrec.archives.policy import READ
from healthrec.audit.log import record, refusals
from healthrec.clock import today
from healthrec.crypto import keyring
from healthrec.db import get_db
from healthrec.paging import page_of
from healthrec.records import alerts, kinds, policy, schedule, urgent

# What the schedule reads of a record; the sealed ones (a severe mental disorder's
# classification, a tuberculosis patient's month of treatment) are unsealed for it.
SCHEDULED = ("archive_id", "kind", "population", "date", "method", "control", "visit", "gestational_week",
             "last_menstrual_period", "delivery_date", "classification", "death", "treatment_month", "stopped")
DAYS = ("date", "last_menstrual_period", "delivery_date")
# A village's records or archives arrive in one batch rather than the driver's 101 and more.
WHOLE = 100_000


def _records_by_archive(village):
    ring = keyring()
    found: dict[str, list[dict]] = {}
    docs = get_db().records.find({"village": village, "current": True, "kind": {"$in": ["followup", "checkup"]}},
                                 dict.fromkeys(SCHEDULED, 1)).batch_size(WHOLE)
    for doc in docs:
        doc = kinds.unseal(ring, doc)
        for name in DAYS:
            if doc.get(name):
                doc[name] = date.fromisoformat(doc[name])
        found.setdefault(doc["archive_id"], []).append(doc)
    return found


def followups_due(user, village, within=0, as_of=None):
    """The village doctor's to-do list: for each open archive of the village, what the
    specification wants done on or before `as_of` + `within` days, with why and since
    when; residents with a danger value not yet referred first."""
    access = archives.authorized(user, READ, archives.region_custody(village), "followups.due")
    as_of = as_of or today()
    horizon = as_of + timedelta(days=within)
    child_max_age = current_app.config["CHILD_MAX_AGE"]
    records = _records_by_archive(village)
    items = urgent.as_items(urgent.open_cases(village))
    open_archives = get_db().archives.find({"village": village, "status": "open"}, dict.fromkeys(archives.SUMMARY, 1))
    for doc in open_archives.batch_size(WHOLE):
        row = archives.readable_summary(user, doc)
        # A damaged archive still shows what its birth date makes due, under its id.
        flags = set() if row.get("unreadable") else set(row["key_populations"])
        due = [item for item in schedule.next_due(date.fromisoformat(doc["birth_date"]), flags,
                                                  records.get(doc["_id"], []), as_of, child_max_age)
               if item["due_on"] <= horizon]
        if due:
            name = row.get("name")
            # due_since, the field before due_on: none for a patient never seen.
            items.extend({**item, "archive_id": doc["_id"], "name": name,
                          "due_since": item["due_on"] if item["since"] else None} for item in due)
    # The urgent first, then those never seen, then the longest due.
    items.sort(key=lambda item: (item["reason"] != alerts.URGENT, item["last_date"] is not None,
                                 item["due_on"], item["archive_id"]))
    record(user, "followups.due", region=village, purpose=access.purpose, grant=access.grant,
           detail={"total": len(items), "within": within, "shown": sorted({item["archive_id"] for item in items})})
    return {"village": village, "as_of": as_of, "within": within, "items": items}


def incoming_referrals(user, status="sent", page=1, per_page=None):
    """Referrals to institutions within the user's region: the receiving side's list.
    Only routing fields are shown; the clinical content is read through the archive."""
    with refusals(user, "referral.incoming"):
        policy.check_incoming(user)
    # A clinician's region is a village or a township: referrals to it, or to its villages.
    where = {"to_region": user.region} if len(user.region) == 12 else {"to_township": user.region}
    query = {**where, "status": status, "current": True}
    fields = ("kind", "archive_id", "record_id", "version", "date", "direction", "from_institution",
              "to_institution", "to_department", "to_doctor", "to_region", "status", "author", "received_by",
              "received_at")
    ring = keyring()
    result = page_of(get_db().records, query, [("date", -1), ("_id", -1)], page, per_page,
                     lambda doc: {**kinds.unseal(ring, doc), "id": doc["record_id"]}, dict.fromkeys(fields, 1))
    record(user, "referral.incoming", region=user.region, purpose="referral receipt",
           detail={"total": result["total"], "records": [item["id"] for item in result["items"]],
                   "shown": sorted({item["archive_id"] for item in result["items"]})})
    return result


def _of_region(region, since, until, **match):
    """Current record versions of the archives managed within `region` dated from `since`
    to `until` (inclusive); records carry their archive's custody and move with it."""
    return {**custody_query(region), "current": True, **match,
            "date": {"$gte": since.isoformat(), "$lte": until.isoformat()}}


def _archive_ids(match):
    # A $group rather than `distinct`: its answer is a cursor, not one document that a
    # county's archive ids could push past the 16 MB limit.
    rows = get_db().records.aggregate([{"$match": match}, {"$group": {"_id": "$archive_id", "n": {"$sum": 1}}}])
    return {row["_id"] for row in rows}


def archives_with_service_since(region, since, until=None):
    """Ids of the archives managed within `region` with a service record dated from `since`
    to `until` (inclusive; default today): the usage rate's "has a conforming service record
    within the last year". Read from the records themselves, so no denormalised flag can
    miss a concurrent write."""
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
