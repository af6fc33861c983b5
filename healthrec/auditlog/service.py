"""Who may see which audit entries, chain verification within a scope, and the
per-archive disclosure report ("who has seen this record, when and why").

Scope follows the chains (one per township, see healthrec.audit): township staff see
their township's chain, supervisors the trail of their own actions and counts for their
region, administrators everything. Village doctors see none of it. Refusals are audited.
"""

import json
import re

from flask import current_app

from healthrec import audit
from healthrec.auth import roles
from healthrec.db import get_db
from healthrec.errors import Forbidden

NOT_FOR_VILLAGE_DOCTORS = ("The audit trail is kept by the township health centre; ask its staff for "
                           "a disclosure report of an archive.")


def _refuse(user, action, reason, archive_id=None):
    audit.record(get_db(), user, action, outcome="denied", archive_id=archive_id, region=user.region,
                 detail={"reason": reason})
    return Forbidden(reason)


def _chains(user, action):
    """The prefix of the chain names `user` may count and verify; None means all of them."""
    if user.role == roles.ADMIN:
        return None
    if user.role in (roles.TOWNSHIP_STAFF, roles.SUPERVISOR):
        return user.region
    raise _refuse(user, action, NOT_FOR_VILLAGE_DOCTORS)


def present(doc):
    entry = {key: value for key, value in doc.items() if key != "_id"}
    entry["id"] = doc["_id"]
    # Detail as it was hashed: datetimes and ObjectIds there become {"$date"}/{"$oid"}, not a 500.
    entry["detail"] = json.loads(audit.canonical(doc.get("detail")))
    return entry


def list_entries(user, archive_id=None, actor=None, outcome=None, since=None, page=1, per_page=None):
    """One page of the entries within the user's scope that match every filter, newest first."""
    if user.role == roles.ADMIN:
        query = {}
    elif user.role == roles.TOWNSHIP_STAFF:
        query = {"chain": user.region}
    elif user.role == roles.SUPERVISOR:
        if actor not in (None, user.username):
            raise _refuse(user, "audit.list", "Supervisors see the trail of their own actions; for "
                                              "their region they see counts (GET /api/v1/audit/counts).")
        query = {"actor": user.username}
    else:
        raise _refuse(user, "audit.list", NOT_FOR_VILLAGE_DOCTORS)
    for field, value in (("archive_id", archive_id), ("actor", actor), ("outcome", outcome)):
        if value is not None:
            query[field] = value
    if since is not None:
        query["at"] = {"$gte": since}
    per_page = per_page or current_app.config["PAGE_SIZE"]
    db = get_db()
    total = db.audit.count_documents(query)
    docs = db.audit.find(query).sort([("at", -1), ("_id", -1)]).skip((page - 1) * per_page).limit(per_page)
    return {"items": [present(doc) for doc in docs], "total": total, "page": page, "per_page": per_page}


def counts(user, since=None):
    """Entries per township chain, action and outcome: what supervisors see of their region."""
    prefix = _chains(user, "audit.counts")
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
    """Check the chains within the user's scope (see healthrec.audit.verify)."""
    return audit.verify(get_db(), _chains(user, "audit.verify"))


def disclosures(user, archive_id):
    """Every audited use of an archive, oldest first, with who, when, why and the outcome.

    For the township health centre that manages the archive (its code's first 9 digits)
    to hand to the resident; the archive itself is not read, so nothing personal is shown.
    """
    township = archive_id[:9]
    if not (user.role == roles.ADMIN or (user.role == roles.TOWNSHIP_STAFF and user.region == township)):
        raise _refuse(user, "audit.disclosures", f"The disclosure report of an archive is made by the "
                                                 f"health centre of township {township}.", archive_id)
    db = get_db()
    entries = list(db.audit.find({"archive_id": archive_id}).sort([("at", 1), ("_id", 1)]))
    actors = sorted({entry["actor"] for entry in entries})
    names = {doc["_id"]: doc.get("name") for doc in db.users.find({"_id": {"$in": actors}}, {"name": 1})}
    items = [{
        "at": entry["at"], "actor": entry["actor"], "actor_name": names.get(entry["actor"]) or entry["actor"],
        "role": entry["role"], "action": entry["action"], "outcome": entry["outcome"],
        "purpose": entry.get("purpose"), "grant": entry.get("grant"),
    } for entry in entries]
    return {"archive_id": archive_id, "items": items}
