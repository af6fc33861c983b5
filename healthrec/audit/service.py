"""The audit trail seen through scope (`policy`): entries, counts, chain verification, and
the per-archive disclosure report ("who has seen this record, when and why"). Refusals
are audited like any other use.
"""

import heapq
import json
import re

from healthrec.archives import service as archives
from healthrec.audit import chain, policy
from healthrec.audit.log import record, refusals
from healthrec.auth.roles import TOWNSHIP_STAFF
from healthrec.db import get_db
from healthrec.paging import page_of
from healthrec.regions import service as regions


def present(doc):
    entry = {key: value for key, value in doc.items() if key != "_id"}
    entry["id"] = doc["_id"]
    # Detail as it was hashed: datetimes and ObjectIds there become {"$date"}/{"$oid"}, not a 500.
    entry["detail"] = json.loads(chain.canonical(doc.get("detail")))
    return entry


def list_entries(user, archive_id=None, actor=None, outcome=None, since=None, page=1, per_page=None):
    """One page of the entries within the user's scope that match every filter, newest first."""
    merged = regions.predecessors(user.region) if user.role == TOWNSHIP_STAFF else ()
    with refusals(user, "audit.list"):
        query = policy.entries_scope(user, actor, merged)
    for field, value in (("archive_id", archive_id), ("actor", actor), ("outcome", outcome)):
        if value is not None:
            query[field] = value
    if since is not None:
        query["at"] = {"$gte": since}
    result = page_of(get_db().audit, query, [("at", -1), ("_id", -1)], page, per_page, present)
    filters = [name for name, value in (("archive_id", archive_id), ("actor", actor), ("outcome", outcome),
                                        ("since", since)) if value is not None]
    # Who saw whom is itself personal: listing an archive's trail goes in its report.
    record(user, "audit.list", archive_id=archive_id, region=None if archive_id else user.region,
           detail={"filters": filters, "total": result["total"]})
    return result


def counts(user, since=None):
    """Entries per township chain, action and outcome: what supervisors see of their region."""
    with refusals(user, "audit.counts"):
        prefix = policy.chain_prefix(user)
    match = {"chain": {"$regex": "^" + re.escape(prefix)}} if prefix else {}
    if since is not None:
        match["at"] = {"$gte": since}
    # One accumulator per $group: a second one silently counts 0 on FerretDB.
    groups = get_db().audit.aggregate([
        {"$match": match},
        {"$group": {"_id": {"chain": "$chain", "action": "$action", "outcome": "$outcome"},
                    "count": {"$sum": 1}}},
    ])
    items = sorted(({**group["_id"], "count": group["count"]} for group in groups),
                   key=lambda item: (item["chain"], item["action"], item["outcome"]))
    return {"region": prefix, "since": since, "items": items}


def verify(user):
    """Check the chains within the user's scope (see `chain.verify`)."""
    with refusals(user, "audit.verify"):
        prefix = policy.chain_prefix(user)
    return chain.verify(get_db(), prefix)


def disclosures(user, archive_id, printed=False):
    """Every audited use of an archive, oldest first, with who, when, why and the outcome,
    in whichever township's chain it was written (custody may have moved since).

    For the township health centre that manages the archive now (its custody) to hand to
    the resident; the archive itself is not read, so nothing personal is shown. A list
    that showed the resident (a search hit, a due list, a referral…) names the archive in
    its entry's `detail.shown`, and is in the report too. A step written to two chains (a
    transfer, seen by both townships) is shown once. Asking for the report, or printing it, is itself
    in the next one.
    """
    place = archives.custody(archive_id)
    where = {"archive_id": archive_id, "region": place["village"], "township": place["township"]}
    with refusals(user, "audit.disclosures", **where):
        policy.check_disclosures(user, place["township"])
    db = get_db()
    entries = [entry for entry in _naming(db, archive_id) if not (entry.get("detail") or {}).get("copy_of")]
    actors = sorted({entry["actor"] for entry in entries})
    names = {doc["_id"]: doc.get("name") for doc in db.users.find({"_id": {"$in": actors}}, {"name": 1})}
    items = [{
        "at": entry["at"], "actor": entry["actor"], "actor_name": names.get(entry["actor"]) or entry["actor"],
        "role": entry["role"], "action": entry["action"], "outcome": entry["outcome"],
        "purpose": entry.get("purpose"), "grant": entry.get("grant"),
    } for entry in entries]
    record(user, "audit.disclosures_print" if printed else "audit.disclosures", **where,
           detail={"total": len(items)})
    return {"archive_id": archive_id, **place, "items": items}


def _naming(db, archive_id):
    """The entries about archive `archive_id` (its `archive_id`) and those of lists that
    showed it (`detail.shown`), oldest first: one equality-led query each, merged."""
    order = [("at", 1), ("_id", 1)]
    about = db.audit.find({"archive_id": archive_id}).sort(order)
    lists = db.audit.find({"detail.shown": archive_id}).sort(order)
    merged, seen = [], set()
    for entry in heapq.merge(about, lists, key=lambda entry: (entry["at"], entry["_id"])):
        if entry["_id"] not in seen:
            seen.add(entry["_id"])
            merged.append(entry)
    return merged
