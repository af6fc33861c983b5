"""Mergers: a township health centre closes or merges, and the archives it kept pass to
another township — the county health bureau's archive office (give it a township-level
region of its own) or an institution the bureau names (plan item 8).

`start` plans a move of villages to another township, or the merger of a whole township
into another; `run` carries it out and `check` proves it complete. A run:

1. locks the villages (regions.claim_villages): until it ends no archive is created in
   them, none is transferred into or out of them, and no family-doctor contract of them
   is signed or renewed; it waits until every service process has seen the locks
   (`regions.settle`: they keep regions and locks for HEALTHREC_REGIONS_CACHE_SECONDS)
   before moving anything, and again before unlocking, until every process has the
   villages' new township;
2. records the plan in `custody_moves` once, with a census of each village's archives
   and their custodians, and counts of their contracts per custodian and, for a merger,
   of both townships' teams; its `_id` comes from the villages, the receiving township
   and the effective day, so running the same command again resumes it;
3. makes the receiving township the villages' parent from the effective day;
4. moves every archive still with another custodian: a claim "<move>:<archive>" in
   `custody_claims`, the move itself (`moves`: its records and contracts go with it), one
   audit entry in the receiving township's chain. A run that dies halfway finds its
   claims, the archives already moved and the entries already written, and does none of
   it twice;
5. for a merger, hands the old township's family-doctor teams to the receiving one
   (contracts/follow.py), retires the old township (its successor: the receiving one)
   and gives its staff accounts the receiving township as their scope;
6. unlocks the villages, writes one summary entry into each township's chain, and checks
   completeness: every archive of the census is with the new custodian, none is left
   with an old one, and the counts per custodian before and after agree; no contract of
   the villages and, for a merger, no team is left with another township. A difference
   fails loudly.
"""

import hashlib
from collections import Counter
from datetime import date

from pymongo.errors import DuplicateKeyError

from healthrec.audit.log import record
from healthrec.auth import service as auth
from healthrec.clock import now, today
from healthrec.contracts import follow as contracts
from healthrec.custody import moves
from healthrec.db import get_db
from healthrec.errors import Invalid, NotFound
from healthrec.ids import prefix_range
from healthrec.regions import service as regions

SYSTEM = "system"


def move_id(villages, to_township, effective, merged=None):
    """The same villages, receiving township and day always give the same id: running a
    move again resumes it."""
    if merged:
        return f"merge-{merged}-{to_township}-{effective.isoformat()}"
    digest = hashlib.sha256(",".join(sorted(villages)).encode()).hexdigest()[:8]
    return f"move-{to_township}-{effective.isoformat()}-{digest}"


def _invalid(errors):
    return Invalid("The move cannot start: " + "; ".join(
        f"{field}: {messages[0]}" for field, messages in sorted(errors.items())), errors)


def start(villages, to_township, effective, reason=None, merged=None):
    """Plan the move of `villages` (or, with `merged`, of every village of that township)
    to `to_township` from day `effective` on; the plan, new or the one to resume."""
    db = get_db()
    plan = db.custody_moves.find_one({"_id": move_id(villages, to_township, effective, merged)})
    if plan:
        return plan
    errors = {}
    if effective > today():
        errors["effective"] = ["Run a move on or after its effective day."]
    try:
        regions.current(to_township, "to", "township")
    except Invalid as error:
        errors.update(error.extra["errors"])
    if merged:
        if merged == to_township:
            errors["township"] = ["A township cannot be merged into itself."]
        else:
            try:
                regions.current(merged, "township", "township")
            except Invalid as error:
                errors.update(error.extra["errors"])
        villages = [region["code"] for region in regions.children(merged)]
    else:
        villages = sorted(set(villages))
        problems = []
        for village in villages:
            try:
                doc = regions.current(village, "villages")
            except Invalid as error:
                problems.append(error.detail)
                continue
            if doc["parent"] == to_township:
                problems.append(f"Village {village} belongs to {to_township} already.")
        if problems or not villages:
            errors["villages"] = problems or ["Name at least one village to move."]
    if errors:
        raise _invalid(errors)
    plan_id = move_id(villages, to_township, effective, merged)
    regions.claim_villages(plan_id, villages)
    plan = {
        "_id": plan_id, "villages": villages, "to": to_township, "to_county": regions.custody_of(to_township)["county"],
        "merged": merged, "effective": effective.isoformat(), "reason": reason, "started_at": now(),
        "status": "running", "census": _census(db, villages), "contracts_before": _contracts(db, villages),
    }
    plan["totals_before"] = _totals(db, plan)
    plan["teams_before"] = _teams(db, plan)
    try:
        db.custody_moves.insert_one(plan)
    except DuplicateKeyError:
        plan = db.custody_moves.find_one({"_id": plan_id})  # another run of the same move was quicker
    return plan


def _census(db, villages):
    """{village: {archive id: custodian township}} of every archive of `villages` now."""
    return {village: {doc["_id"]: doc["township"] for doc in db.archives.find({"village": village}, {"township": 1})}
            for village in villages}


def custodians(plan):
    """The townships involved: the receiving one, every custodian of the census, the merged one."""
    held = {township for archives in plan["census"].values() for township in archives.values()}
    return sorted(held | {plan["to"]} | ({plan["merged"]} if plan["merged"] else set()))


def _totals(db, plan):
    return {township: db.archives.count_documents({"township": township}) for township in custodians(plan)}


def _contracts(db, villages):
    """{custodian township: count} of the family-doctor contracts of `villages`."""
    held: Counter[str] = Counter()
    for village in villages:
        for row in db.contracts.aggregate([{"$match": {"village": village}},
                                           {"$group": {"_id": "$township", "n": {"$sum": 1}}}]):
            held[row["_id"]] += row["n"]
    return dict(held)


def _teams(db, plan):
    """{township: count} of the family-doctor teams of the two townships of a merger; a
    move of single villages leaves the teams where they are."""
    if not plan["merged"]:
        return {}
    return {township: db.teams.count_documents({"township": township}) for township in (plan["merged"], plan["to"])}


def load(plan_id):
    plan = get_db().custody_moves.find_one({"_id": plan_id})
    if plan is None:
        raise NotFound(f"No move {plan_id}; `flask custody list` shows them.")
    return plan


def run(plan, progress=lambda village, moved: None):
    """Carry out (or resume) `plan`; its completeness report (see `check`)."""
    db = get_db()
    to = {"township": plan["to"], "county": plan["to_county"]}
    effective = date.fromisoformat(plan["effective"])
    if plan["status"] == "running":
        regions.claim_villages(plan["_id"], plan["villages"])
        regions.settle()  # every process sees the locks: none creates an archive there any more
        _finish_claims(db, plan, to)  # what a run that died between a move and its entry left
        for village in plan["villages"]:
            regions.reparent(village, plan["to"], effective)
            left = list(db.archives.find({"village": village, "township": {"$ne": plan["to"]}}, {"township": 1}))
            for doc in left:
                _move_one(db, plan, doc, village, {"village": village, **to})
            # Each contract moved with its archive; this also catches one whose signing,
            # claimed before the villages were locked, was applied after its archive moved.
            db.contracts.update_many({"village": village, "township": {"$ne": plan["to"]}}, {"$set": to})
            progress(village, len(left))
        if plan["merged"]:
            contracts.move_teams(plan["merged"], plan["to"], plan["_id"])
            regions.retire(plan["merged"], plan["to"], effective)
            auth.move_users(plan["merged"], plan["to"], plan["_id"])
        regions.settle()  # every process has the new township before archives are created again
        regions.release_villages(plan["_id"], plan["villages"])
        _summarise(db, plan)
    return check(plan)


def _move_one(db, plan, doc, village, to):
    claim = {"_id": f"{plan['_id']}:{doc['_id']}", "move": plan["_id"], "archive_id": doc["_id"],
             "village": village, "from": doc["township"], "at": now(), "audited": False}
    try:
        db.custody_claims.insert_one(claim)
        fresh = True
    except DuplicateKeyError:
        claim, fresh = db.custody_claims.find_one({"_id": claim["_id"]}), False
    _carry_out(db, plan, claim, to, fresh)


def _finish_claims(db, plan, to):
    for claim in db.custody_claims.find({"_id": prefix_range(plan["_id"] + ":"), "audited": False}):
        _carry_out(db, plan, claim, {"village": claim["village"], **to}, fresh=False)


def _carry_out(db, plan, claim, to, fresh):
    try:
        moves.move(claim["archive_id"], claim["village"], to, SYSTEM)
    except moves.Overtaken:
        # It left the village after it was counted (the check names it); it was not moved.
        db.custody_claims.delete_one({"_id": claim["_id"]})
        return
    _audit_once(db, plan, claim, to, fresh)


def _audit_once(db, plan, claim, to, fresh):
    """One entry per archive moved, in the receiving township's chain, even across runs: a
    claim this run made has none yet; one found from an earlier run is looked up."""
    if claim["audited"]:
        return
    if fresh or db.audit.find_one({"archive_id": claim["archive_id"], "action": "custody.move",
                                   "detail.move": plan["_id"]}, {"_id": 1}) is None:
        record(None, "custody.move", archive_id=claim["archive_id"], region=claim["village"], township=to["township"],
               detail={"move": plan["_id"], "from": claim["from"], "to": to["township"]})
    db.custody_claims.update_one({"_id": claim["_id"]}, {"$set": {"audited": True}})


def _summarise(db, plan):
    """One summary entry in the chain of each township involved, once."""
    moved = db.custody_claims.count_documents({"_id": prefix_range(plan["_id"] + ":")})
    for township in custodians(plan):
        if db.audit.find_one({"chain": township, "action": "custody.summary", "detail.move": plan["_id"]}) is None:
            record(None, "custody.summary", region=township, township=township,
                   detail={"move": plan["_id"], "villages": plan["villages"], "to": plan["to"],
                           "merged": plan["merged"], "effective": plan["effective"], "moved": moved})


def check(plan):
    """Completeness: every archive of the census is with the receiving township, none of the
    villages' archives is left with another, and the counts per custodian agree. Records
    the result in the plan; `ok` False names each difference."""
    db = get_db()
    problems = []
    before: Counter[str] = Counter()
    after: Counter[str] = Counter()
    arrived = 0
    for village in plan["villages"]:
        census = plan["census"].get(village, {})
        now_held = {doc["_id"]: doc["township"] for doc in db.archives.find({"village": village}, {"township": 1})}
        before.update(census.values())
        after.update(now_held.values())
        gone = sorted(set(census) - set(now_held))
        stuck = sorted(archive_id for archive_id, township in now_held.items() if township != plan["to"])
        arrived += len(set(now_held) - set(census))
        if gone:
            problems.append(f"village {village}: {len(gone)} archive(s) counted before are no longer in it: "
                            + ", ".join(gone))
        if stuck:
            problems.append(f"village {village}: {len(stuck)} archive(s) still with another township: "
                            + ", ".join(stuck))
    if sum(before.values()) + arrived != after[plan["to"]]:
        problems.append(f"{sum(before.values())} archives counted before (+{arrived} made during the move) but "
                        f"{after[plan['to']]} with {plan['to']} now")
    contracts_after = _contracts(db, plan["villages"])
    contracts_before = sum(plan["contracts_before"].values())
    behind = sorted(doc["_id"] for village in plan["villages"]
                    for doc in db.contracts.find({"village": village, "township": {"$ne": plan["to"]}}, {"_id": 1}))
    if behind:
        problems.append(f"{len(behind)} contract(s) still with another township: " + ", ".join(behind))
    if contracts_after.get(plan["to"], 0) < contracts_before:  # contracts are only ever added
        problems.append(f"{contracts_before} contracts counted before but {contracts_after.get(plan['to'], 0)} "
                        f"with {plan['to']} now")
    teams_after = _teams(db, plan)
    if teams_after.get(plan["merged"]):
        problems.append(f"{teams_after[plan['merged']]} family-doctor team(s) still with {plan['merged']}")
    report = {
        "move": plan["_id"], "villages": plan["villages"], "to": plan["to"], "merged": plan["merged"],
        "effective": plan["effective"], "ok": not problems, "problems": problems, "made_during": arrived,
        "custodians": {township: {"before": before[township], "after": after[township]}
                       for township in custodians(plan)},
        "totals": {township: {"before": plan["totals_before"].get(township, 0), "after": count}
                   for township, count in _totals(db, plan).items()},
        "contracts": {township: {"before": plan["contracts_before"].get(township, 0),
                                 "after": contracts_after.get(township, 0)}
                      for township in sorted({*custodians(plan), *plan["contracts_before"], *contracts_after})},
        "teams": {township: {"before": plan["teams_before"][township], "after": count}
                  for township, count in teams_after.items()},
    }
    status = "done" if report["ok"] else "check_failed"
    db.custody_moves.update_one({"_id": plan["_id"]}, {"$set": {"status": status, "checked_at": now(),
                                                                "problems": problems}})
    return report


def plans():
    return list(get_db().custody_moves.find({}, {"census": 0}).sort("started_at", -1))
