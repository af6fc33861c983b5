"""Verification samples (plan §五.三): an assessor draws a uniform random sample of the
archived archives of a region; its checkers check each drawn archive (qualified, and true
by phone, logic or a home visit) before its last day, and the results feed the qualified
and authenticity rates.

While a sample is open its checkers may read exactly the drawn archives: the access
grants look-up (`access.grants`) finds the sample at each read, and every such read is
audited with the sample id. The sample's end (its last day passing, or closing it) ends
that access at the next read.

The draw is reproducible: the sample keeps its seed and the frame it was drawn from (how
many archives, and a SHA-256 over their codes in ascending order, one per line); the
drawn archives are `random.Random(seed).sample(codes, size)`. Each result is claimed by
inserting `<sample id>:<archive id>`, so an archive has one result per sample however
many checkers answer at once (docs/concurrency.md).
"""

import hashlib
import random
import secrets
from collections import Counter, defaultdict
from datetime import date, timedelta

from bson import ObjectId
from flask import current_app
from pymongo.errors import DuplicateKeyError

from healthrec import idempotency
from healthrec.access.grants import SAMPLE_PURPOSE, SAMPLES, sample_status
from healthrec.access.transitions import roll_forward, transition
from healthrec.archives.custody import custody_query
from healthrec.archives.service import custody
from healthrec.audit import pending
from healthrec.audit.log import record, refusals
from healthrec.clock import now, today
from healthrec.crypto import keyring
from healthrec.db import get_db
from healthrec.errors import Conflict, Invalid, NotFound
from healthrec.metrics import policy
from healthrec.metrics.rates import rate
from healthrec.paging import page_of

RESULTS = "sample_results"
SEED_LIMIT = 2**53  # seeds stay exact as JSON numbers in any client


def _invalid(field, message):
    return Invalid(message, {field: [message]})


def draw(user, region, size, seed=None, checkers=None, due=None, idempotency_key=None):
    """A new open sample of `size` archives archived in `region` now, checked by
    `checkers` (usernames; default the user) until the day `due` (default and at most
    HEALTHREC_ACCESS_MAX_DAYS days away); (sample, created): created is False when an
    Idempotency-Key repeat answers the sample its first use drew."""
    action = "sample.create"
    with refusals(user, action, region=region):
        policy.check_draw(user, region)
    longest = current_app.config["ACCESS_MAX_DAYS"]
    due = due or today() + timedelta(days=longest)
    if not today() <= due <= today() + timedelta(days=longest):
        raise _invalid("due", f"Give a last day from today to {(today() + timedelta(days=longest)).isoformat()} "
                              f"(at most {longest} days away).")
    checkers = checkers or [user.username]
    _check_checkers(checkers, region)  # errors name the places the client sent them at
    checkers = sorted(set(checkers))
    codes = [doc["_id"] for doc in get_db().archives.find({**custody_query(region), "status": "open"},
                                                          {"_id": 1}).sort("_id", 1)]
    if size > len(codes):
        raise _invalid("size", f"Region {region} has {len(codes)} archived archives; ask for at most that many.")
    claim = idempotency.claim(user, idempotency_key, action, [region, size, seed, checkers, due],
                              ref=str(ObjectId()))
    made = idempotency.made_before(claim, SAMPLES)
    if made:
        return present(made, list(get_db()[RESULTS].find({"sample": made["_id"]}).sort("_id", 1))), False
    seed = secrets.randbelow(SEED_LIMIT) if seed is None else seed
    sample_id = claim.ref if claim else str(ObjectId())
    doc = {
        "_id": sample_id, "region": region, "size": size, "seed": seed,
        "frame": {"count": len(codes), "sha256": frame_digest(codes)},
        "archives": sorted(random.Random(seed).sample(codes, size)),
        "checkers": checkers, "due": due.isoformat(), "status": "open",
        "created_by": user.username, "created_at": now(),
    }
    mark = pending.intent(user, action, intent_id=claim and claim.id, region=region, purpose=SAMPLE_PURPOSE,
                          grant=sample_id, detail={"size": size, "seed": seed, "shown": doc["archives"],
                                                   "checkers": checkers, "due": doc["due"]})
    return present(pending.insert(SAMPLES, doc, mark), []), True


def frame_digest(codes):
    """SHA-256 over the frame's archive codes in ascending order, one per line."""
    return hashlib.sha256("\n".join(codes).encode()).hexdigest()


def _check_checkers(usernames, region):
    found = {doc["_id"]: doc for doc in get_db().users.find({"_id": {"$in": usernames}},
                                                          {"role": 1, "region": 1, "disabled": 1})}
    errors = {}
    for index, name in enumerate(usernames):
        doc = found.get(name)
        if doc is None or doc.get("disabled"):
            errors[f"checkers.{index}"] = [f"There is no active user {name}."]
        elif not policy.may_check(doc["role"], doc["region"], region):
            errors[f"checkers.{index}"] = [f"{name} is not a supervisor or township health centre staff member "
                                           f"of the county of region {region}; name such a user."]
    if errors:
        raise Invalid("Some checkers cannot check this sample: " + ", ".join(sorted(errors)), errors)


def load(sample_id):
    db = get_db()
    doc = db[SAMPLES].find_one({"_id": sample_id})
    if doc is None:
        raise NotFound(f"No verification sample {sample_id}.")
    return roll_forward(db, doc)


def _where(doc):
    return {"region": doc["region"], "purpose": SAMPLE_PURPOSE, "grant": doc["_id"]}


def get_sample(user, sample_id):
    """The sample with the results recorded so far."""
    doc = load(sample_id)
    with refusals(user, "sample.read", **_where(doc)):
        policy.check_view(user, doc)
    results = list(get_db()[RESULTS].find({"sample": sample_id}).sort("_id", 1))
    record(user, "sample.read", **_where(doc), detail={"results": len(results), "shown": doc["archives"]})
    return present(doc, results)


def list_samples(user, status=None, page=1, per_page=None):
    """Samples the user checks or drew, newest first, each with its progress; `status` open,
    expired or closed."""
    query: dict = {"$or": [{"checkers": user.username}, {"created_by": user.username}]}
    day = today().isoformat()
    if status == "open":
        query.update(status="open", due={"$gte": day})
    elif status == "expired":
        query.update(status="open", due={"$lt": day})
    elif status:
        query["status"] = status
    listed = page_of(get_db()[SAMPLES], query, [("created_at", -1), ("_id", -1)], page, per_page,
                     lambda doc: present(doc, None))
    for item in listed["items"]:
        # One equality-led count per sample on the page (docs/database.md), not an `$in`.
        groups = get_db()[RESULTS].aggregate([
            {"$match": {"sample": item["id"]}},
            {"$group": {"_id": {"qualified": "$qualified", "authentic": "$authentic"}, "n": {"$sum": 1}}}])
        item["progress"] = progress((row["_id"]["qualified"], row["_id"]["authentic"], row["n"]) for row in groups)
    record(user, "sample.list", region=user.region, detail={
        "total": listed["total"], "shown": sorted({code for item in listed["items"] for code in item["archives"]})})
    return listed


def record_result(user, sample_id, archive_id, qualified, authentic, method, missing=(), note=None,
                  idempotency_key=None):
    """A checker's result for one drawn archive; the same result sent again answers the
    first, a different one is refused (a check is a record of what was found)."""
    doc = load(sample_id)
    action = "sample.result"
    where = {**_where(doc), "archive_id": archive_id}
    with refusals(user, action, **where):
        policy.check_result(user, doc)
        status = sample_status(doc, today())
        if status != "open":
            raise Conflict(f"The sample is {status}; results are recorded while it is open, up to its last day "
                           f"{doc['due']}.")
    if archive_id not in doc["archives"]:
        raise _invalid("archive_id", f"Archive {archive_id} was not drawn in this sample; record results for "
                                     "the drawn archives only.")
    result_id = f"{sample_id}:{archive_id}"
    found = {"qualified": qualified, "missing": sorted(set(missing)), "authentic": authentic, "method": method}
    claim = idempotency.claim(user, idempotency_key, action, [sample_id, archive_id, found, note], ref=result_id)
    made = idempotency.made_before(claim, RESULTS)
    if made:
        return present_result(made)
    result = {
        "_id": result_id, "sample": sample_id, "archive_id": archive_id, **custody(archive_id),
        **found, "checked_by": user.username, "checked_at": now(), "checked_on": today().isoformat(),
    }
    if note:
        result["note"] = keyring().seal(note, result_id, "note")
    db = get_db()
    mark = pending.intent(user, action, intent_id=claim and claim.id, **where, detail={"result": result_id})
    try:
        db[RESULTS].insert_one({**result, pending.MARK: mark})
    except DuplicateKeyError:
        stored = db[RESULTS].find_one({"_id": result_id})
        if {name: stored.get(name) for name in found} != found or _note(stored) != note:
            idempotency.release(claim)
            record(user, action, outcome="conflict", **where)
            raise Conflict(f"{stored['checked_by']} already recorded the result of archive {archive_id} on "
                           f"{stored['checked_on']}; a recorded result is kept as it is.") from None
        return present_result(stored)
    pending.settle(RESULTS, [result_id], mark, first=True)
    return present_result(result)


def close(user, sample_id):
    """End a sample before its last day: its checkers' access ends at their next read."""
    doc = load(sample_id)
    action = "sample.close"
    with refusals(user, action, **_where(doc)):
        policy.check_close(user, doc)
        status = sample_status(doc, today())
        if status != "open":
            raise Conflict(f"The sample is already {status}; nothing was changed.")
        doc = transition(user, SAMPLES, doc, "closed", {"closed_by": user.username, "closed_at": now()},
                         pending.intent(user, action, **_where(doc)))
    return present(doc, list(get_db()[RESULTS].find({"sample": sample_id}).sort("_id", 1)))


def tally(region, since, until):
    """{village: Counter(checked, qualified, authentic)} of the results checked from
    `since` to `until` (inclusive) for archives in custody under `region` when checked."""
    match = {**custody_query(region), "checked_on": {"$gte": since.isoformat(), "$lte": until.isoformat()}}
    key = {"village": "$village", "qualified": "$qualified", "authentic": "$authentic"}
    counts: dict[str, Counter] = defaultdict(Counter)
    for row in get_db()[RESULTS].aggregate([{"$match": match}, {"$group": {"_id": key, "n": {"$sum": 1}}}]):
        group = row["_id"]
        counts[group["village"]].update(checked=row["n"], qualified=row["n"] * group["qualified"],
                                        authentic=row["n"] * group["authentic"])
    return counts


def progress(groups):
    """How far a sample has come, from its results as (qualified, authentic, how many):
    checked, found qualified, found true, and the rates they give."""
    counts: Counter = Counter()
    for qualified, authentic, n in groups:
        counts.update(checked=n, qualified=n * qualified, authentic=n * authentic)
    return {"checked": counts["checked"], "qualified": counts["qualified"], "authentic": counts["authentic"],
            "qualified_rate": rate(counts["qualified"], counts["checked"]),
            "authenticity_rate": rate(counts["authentic"], counts["checked"])}


def _note(result):
    return keyring().unseal(result["note"], result["_id"], "note") if result.get("note") else None


def present_result(result):
    return {**{name: value for name, value in result.items() if name not in ("_id", "note")},
            "checked_on": date.fromisoformat(result["checked_on"]), "note": _note(result)}


def present(doc, results):
    """The sample as the API answers it; `results` None leaves them out (lists)."""
    sample = {**{name: value for name, value in doc.items() if name != "_id"}, "id": doc["_id"],
              "due": date.fromisoformat(doc["due"]), "status": sample_status(doc, today())}
    if results is not None:
        sample["results"] = [present_result(result) for result in results]
        sample["progress"] = progress((result["qualified"], result["authentic"], 1) for result in results)
    return sample
