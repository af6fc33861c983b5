"""Alerts for the people who must know at once: there is no mail, so an alert is a
document the clinician's township health centre and the county's supervisors see on their
start page and at GET /api/v1/break-glass/alerts, with an audit entry of its own.

One kind so far: a clinician who has used all but one of the day's emergency openings
(BREAK_GLASS_PER_DAY), or the only one.
"""

from datetime import date

from pymongo.errors import DuplicateKeyError

from healthrec.access import policy
from healthrec.archives.custody import custody_query
from healthrec.audit.log import record, refusals
from healthrec.auth.roles import TOWNSHIP_STAFF
from healthrec.clock import now
from healthrec.db import get_db
from healthrec.paging import page_of
from healthrec.regions import service as regions

LIMIT_NEAR = "break_glass_limit_near"


def break_glass_limit_near(user, day, openings, limit):
    """Tell `user`'s township and county that they made `openings` of their `limit`
    emergency openings on `day`; once a day per clinician (the `_id` is the claim)."""
    place = regions.custody_of(user.region)
    doc = {"_id": f"{LIMIT_NEAR}:{user.username}:{day.isoformat()}", "kind": LIMIT_NEAR,
           "clinician": user.username, "role": user.role, "region": user.region,
           "township": place["township"], "county": place["county"], "day": day.isoformat(),
           "openings": openings, "limit": limit, "at": now()}
    try:
        get_db().alerts.insert_one(doc)
    except DuplicateKeyError:
        return
    record(user, "alert.break_glass_limit_near", region=user.region, township=place["township"],
           detail={"alert": doc["_id"], "openings": openings, "limit": limit})


def list_alerts(user, page=1, per_page=None):
    """Township staff: alerts about their township's clinicians; supervisors: their region's."""
    with refusals(user, "alert.list"):
        policy.check_alerts(user)
    query = {"township": user.region} if user.role == TOWNSHIP_STAFF else custody_query(user.region)
    return page_of(get_db().alerts, query, [("at", -1), ("_id", -1)], page, per_page, present)


def present(doc):
    return {**{key: value for key, value in doc.items() if key != "_id"}, "id": doc["_id"],
            "day": date.fromisoformat(doc["day"])}
