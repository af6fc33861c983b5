"""Service records: dated entries appended to a resident's archive (checkups, encounters,
key-population follow-ups, referrals, consultations, hospital stays).

One document per version of a record, in `records`. A record is never edited in place: an
amendment or a referral's receipt inserts the next version, whose `_id` is
"<record id>.<version>", so two changes made from the same version cannot both land (the
second insert meets the first's `_id`). The new version is the commit point; marking the
older ones not current follows, and is redone by the next change if a request dies
between the two steps.

Idempotency keys are claimed by inserting `{_id: "<archive>:<user>:<key>"}` holding the
body's hash and the record ids chosen for it; a repeat finds the claim and inserts (or
finds) the same `<record id>.1` documents, so concurrent repeats make one set of records.

Scope comes from the archives' decision (`archives.service.archive_for`), every read and
write is audited there with its purpose and grant; audit entries never hold plaintext.
"""

import calendar
import hashlib
import json
import re
from datetime import date

from bson import ObjectId
from flask import current_app
from marshmallow import ValidationError
from pymongo.errors import BulkWriteError, DuplicateKeyError

from healthrec import audit
from healthrec.archives import rules as archive_rules
from healthrec.archives import service as archives
from healthrec.archives.scope import READ, WRITE, authorize
from healthrec.auth import roles
from healthrec.crypto import keyring
from healthrec.db import get_db, now
from healthrec.errors import Conflict, Forbidden, Invalid, NotFound
from healthrec.ids import ArchiveCodeError, prefix_range
from healthrec.records import kinds
from healthrec.regions import service as regions
from schemas.records import today, validate_record

# Hypertension and diabetes patients are followed up at least every three months.
FOLLOWUP_MONTHS = 3
CHRONIC = ("hypertension", "diabetes")
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
DUPLICATE_KEY = 11000


def _invalid(messages, prefix=""):
    errors = {f"{prefix}{field}": msgs for field, msgs in messages.items()}
    return Invalid("Some fields are invalid: " + ", ".join(sorted(errors)), errors)


# --- Writing -------------------------------------------------------------------------

def create_record(user, archive_id, content, idempotency_key=None):
    """Append a record (`content` as `validate_record` returns it) to an archive.

    Returns (record, created): created is False when an Idempotency-Key repeat gives back
    the record its first use made.
    """
    records, created = create_records(user, archive_id, [content], idempotency_key)
    return records[0], created


def create_records(user, archive_id, contents, idempotency_key=None):
    """Append the records of one visit (a checkup with its follow-ups, say) together: one
    scope check, one insert and one audit entry naming them all. (records, created)."""
    access = archives.archive_for(user, archive_id, WRITE, "record.create")
    for content in contents:
        if content["kind"] == "referral":
            _check_receiving_region(content["to_region"])
    contents = [{**content, "status": "sent"} if content["kind"] == "referral" else content
                for content in contents]
    record_ids, created = [str(ObjectId()) for _ in contents], True
    if idempotency_key is not None:
        record_ids, created = _claim_key(user, archive_id, idempotency_key, contents, record_ids)
    at = now()
    docs = [{"_id": f"{record_id}.1", "record_id": record_id, "version": 1, "current": True,
             "archive_id": archive_id, "village": access.village, "author": user.username,
             "created_at": at, **content} for record_id, content in zip(record_ids, contents, strict=True)]
    ring, db = keyring(), get_db()
    try:
        db.records.insert_many([kinds.seal(ring, doc) for doc in docs], ordered=False)
    except BulkWriteError as error:
        if any(e["code"] != DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise
        # A concurrent repeat of the same key wrote them first: the records are those.
        ids = [doc["_id"] for doc in docs]
        stored = {doc["_id"]: doc for doc in db.records.find({"archive_id": archive_id, "_id": {"$in": ids}})}
        docs = [kinds.unseal(ring, stored[doc["_id"]]) for doc in docs]
    access.audit("record.create", detail={"records": record_ids, "kinds": [doc["kind"] for doc in docs],
                                          "repeat": not created})
    return [present(doc) for doc in docs], created


def prune_idempotency_keys(before):
    """Forget keys first used before `before`; a resubmit older than that makes a new record."""
    return get_db().idempotency_keys.delete_many({"at": {"$lt": before}}).deleted_count


def _claim_key(user, archive_id, key, contents, record_ids):
    """(record ids, True) for a new key, (the first use's record ids, False) for a repeat."""
    if not IDEMPOTENCY_KEY.match(key):
        message = "Must be 1 to 128 visible ASCII characters, e.g. a UUID."
        raise Invalid(f"Idempotency-Key: {message}", {"Idempotency-Key": [message]})
    digest = hashlib.sha256(json.dumps(contents, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    claim = {"_id": f"{archive_id}:{user.username}:{key}", "digest": digest, "record_ids": record_ids,
             "at": now()}
    db = get_db()
    try:
        db.idempotency_keys.insert_one(claim)
        return record_ids, True
    except DuplicateKeyError:
        claim = db.idempotency_keys.find_one({"_id": claim["_id"]})
    if claim["digest"] != digest:
        message = ("This key was already used for a different record; send a new key for a new "
                   "record, or the first body unchanged to get its record back.")
        raise Invalid(f"Idempotency-Key: {message}", {"Idempotency-Key": [message]})
    return claim["record_ids"], False


def _check_receiving_region(code):
    try:
        regions.get_region(code)
    except NotFound:
        message = f"There is no region {code}; give the region code of the receiving institution."
        raise Invalid(message, {"to_region": [message]}) from None


def amend_record(user, archive_id, record_id, changes, reason):
    """A new version of the record with `changes` merged in; the old one stays as history."""
    access = archives.archive_for(user, archive_id, WRITE, "record.amend")
    latest = _latest(archive_id, record_id)
    old = kinds.unseal(keyring(), latest)
    content = kinds.editable(_content(old))
    merged = kinds.merge(content, changes)
    for fixed in ("kind", "population"):
        if merged.get(fixed) != content.get(fixed):
            message = f"A record's {fixed} cannot change; add a new record of the right {fixed} instead."
            raise Invalid(message, {f"changes.{fixed}": [message]})
    try:
        new = validate_record(merged)
    except ValidationError as error:
        raise _invalid(error.messages, "changes.") from None
    if new == validate_record(content):
        message = "These changes leave the record as it is; nothing was amended."
        raise Invalid(message, {"changes": [message]})
    doc = _new_version(access, old, {**new, **kinds.state(old)},
                       {"type": "amend", "by": user.username, "at": now(), "reason": reason})
    access.audit("record.amend", detail={"record": record_id, "version": doc["version"]})
    return present(doc)


def receive_referral(user, archive_id, record_id):
    """The receiving side confirms a referral arrived: its status goes sent -> received."""
    try:
        village = archives.layout().village_of(archive_id)
    except ArchiveCodeError as error:
        raise Invalid(str(error), {"id": [str(error)]}) from None
    latest = get_db().records.find_one({"record_id": record_id, "archive_id": archive_id},
                                       sort=[("version", -1)])
    if latest is None or latest["kind"] != "referral":
        audit.record(get_db(), user, "referral.receive", outcome="not_found", archive_id=archive_id, region=village)
        raise NotFound(f"Archive {archive_id} has no referral {record_id}.")
    problem = _receipt_problem(user, latest)
    if problem:
        audit.record(get_db(), user, "referral.receive", outcome="denied", archive_id=archive_id,
                     region=latest["village"], detail={"record": record_id})
        raise Forbidden(problem)
    if latest["status"] != "sent":
        raise Conflict(f"Referral {record_id} was already received by {latest['received_by']} "
                       f"at {latest['received_at']}.")
    at = now()
    old = kinds.unseal(keyring(), latest)
    receiver = _Receiver(user, latest)
    doc = _new_version(receiver, old, {**_content(old), "status": "received", "received_by": user.username,
                                       "received_at": at.isoformat()},
                       {"type": "receipt", "by": user.username, "at": at})
    receiver.audit("referral.receive", detail={"record": record_id, "version": doc["version"]})
    return {"id": record_id, "version": doc["version"], "status": doc["status"],
            "received_by": doc["received_by"], "received_at": doc["received_at"]}


def _receipt_problem(user, referral):
    """Why `user` may not confirm this referral's receipt, or None.

    The receiving side is staff whose region holds the receiving region: the township
    health centre for a referral up to the township, the village doctor (or the township
    over them) for one down to a village. A hospital outside the system (a county code)
    returns its receipt slip (回执) on paper; the township staff over the resident enters it.
    """
    to_region = referral["to_region"]
    if user.role not in (roles.VILLAGE_DOCTOR, roles.TOWNSHIP_STAFF):
        return "Only village doctors and township health centre staff confirm referrals."
    if user.username == referral["author"]:
        return "The receiving side confirms a referral, not the doctor who sent it."
    if user.covers(to_region):
        return None
    if len(to_region) == 6 and user.role == roles.TOWNSHIP_STAFF and user.covers(referral["village"]):
        return None
    return (f"The referral goes to region {to_region}; only staff there confirm it "
            f"(your region is {user.region}).")


class _Receiver:
    """A receipt's audit context: the receiver acts on the referral, not the whole archive
    (the receiving institution may lie outside the resident's village)."""

    purpose = "referral receipt"
    grant = None

    def __init__(self, user, referral):
        self.user = user
        self.archive_id = referral["archive_id"]
        self.village = referral["village"]

    def audit(self, action, outcome="ok", detail=None):
        audit.record(get_db(), self.user, action, outcome=outcome, archive_id=self.archive_id,
                     region=self.village, purpose=self.purpose, detail=detail)


def _new_version(access, old, content, change):
    """Insert the version after `old` (plaintext) with `content`; Conflict when another
    change of the same version got there first."""
    record_id, version = old["record_id"], old["version"] + 1
    doc = {**{name: old[name] for name in ("record_id", "archive_id", "village", "author", "created_at")},
           "_id": f"{record_id}.{version}", "version": version, "previous": old["version"], "current": True,
           "change": change, **content}
    ring = keyring()
    stored = kinds.seal(ring, doc)
    if change.get("reason"):
        stored["change"] = {**change, "reason": ring.seal(change["reason"], doc["_id"], "change.reason")}
    db = get_db()
    try:
        db.records.insert_one(stored)
    except DuplicateKeyError:
        _retire_older(db, old["archive_id"], record_id, version)
        access.audit(f"record.{change['type']}", outcome="conflict", detail={"record": record_id})
        raise Conflict(f"Record {record_id} was changed by someone else meanwhile (it is now version "
                       f"{version}); read it again and repeat your change if it is still needed.",
                       current_version=version) from None
    _retire_older(db, old["archive_id"], record_id, version)
    return doc


def _retire_older(db, archive_id, record_id, version):
    db.records.update_many({"archive_id": archive_id, "record_id": record_id, "version": {"$lt": version},
                            "current": True},
                           {"$set": {"current": False}})


# --- Reading -------------------------------------------------------------------------

def _content(doc):
    return {name: value for name, value in doc.items() if name not in kinds.META}


def present(doc):
    """A record (plaintext) as the API answers it: its form plus who, when and which version."""
    out = {"id": doc["record_id"], "version": doc["version"], "current": doc["current"],
           "archive_id": doc["archive_id"], "village": doc["village"], "author": doc["author"],
           "created_at": doc["created_at"].isoformat(), **_content(doc)}
    if "change" in doc:
        out["change"] = {**doc["change"], "at": doc["change"]["at"].isoformat()}
    return out


def _unseal_doc(ring, doc):
    doc = kinds.unseal(ring, doc)
    if isinstance(doc.get("change", {}).get("reason"), dict):
        doc["change"] = {**doc["change"], "reason": ring.unseal(doc["change"]["reason"], doc["_id"], "change.reason")}
    return doc


def _latest(archive_id, record_id):
    doc = get_db().records.find_one({"record_id": record_id, "archive_id": archive_id}, sort=[("version", -1)])
    if doc is None:
        raise NotFound(f"Archive {archive_id} has no record {record_id}.")
    return doc


def timeline(user, archive_id, kind=None, population=None, since=None, history=False, page=1, per_page=None):
    """One page of an archive's records, newest first; only current versions unless `history`."""
    access = archives.archive_for(user, archive_id, READ, "record.list")
    query = {"archive_id": archive_id}
    if not history:
        query["current"] = True
    if kind:
        query["kind"] = kind
    if population:
        query["population"] = population
    if since:
        query["date"] = {"$gte": since.isoformat()}
    per_page = per_page or current_app.config["PAGE_SIZE"]
    db, ring = get_db(), keyring()
    total = db.records.count_documents(query)
    # Within a day, the `_id` (an ObjectId, then the version) keeps the order of writing.
    docs = db.records.find(query).sort([("date", -1), ("_id", -1)]).skip((page - 1) * per_page).limit(per_page)
    items = [present(_unseal_doc(ring, doc)) for doc in docs]
    filters = [name for name, value in (("kind", kind), ("population", population), ("since", since),
                                        ("history", history)) if value]
    access.audit("record.list", detail={"filters": filters, "total": total,
                                        "shown": [f"{item['id']}.{item['version']}" for item in items]})
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def get_record(user, archive_id, record_id):
    """The current version of a record, with every earlier version under `history`."""
    access = archives.archive_for(user, archive_id, READ, "record.read")
    ring = keyring()
    docs = list(get_db().records.find({"record_id": record_id, "archive_id": archive_id}).sort("version", -1))
    if not docs:
        access.audit("record.read", outcome="not_found", detail={"record": record_id})
        raise NotFound(f"Archive {archive_id} has no record {record_id}.")
    versions = [present(_unseal_doc(ring, doc)) for doc in docs]
    access.audit("record.read", detail={"record": record_id, "versions": len(versions)})
    return {**versions[0], "history": versions[1:]}


# --- Work lists and indicators -------------------------------------------------------

def _add_months(day, months):
    """The same day `months` later (earlier when negative), or that month's last day."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _region_access(user, region, action):
    """The archives' scope decision for a whole village, with the denial audited."""
    try:
        return authorize(user, READ, region)
    except Forbidden:
        audit.record(get_db(), user, action, outcome="denied", region=region)
        raise


def followups_due(user, village, as_of=None):
    """The village doctor's to-do list: open archives whose hypertension or diabetes
    follow-up is more than three months old (or never made), and residents of 65 and over
    without a checkup this calendar year."""
    access = _region_access(user, village, "followups.due")
    as_of = as_of or today()
    year_start = date(as_of.year, 1, 1)
    db = get_db()
    last = {}  # (archive id, population or "checkup") -> day of the latest one
    seen = db.records.find({"village": village, "current": True, "kind": {"$in": ["followup", "checkup"]}},
                           {"archive_id": 1, "kind": 1, "population": 1, "date": 1})
    for doc in seen:
        key = (doc["archive_id"], doc.get("population") if doc["kind"] == "followup" else "checkup")
        day = date.fromisoformat(doc["date"])
        last[key] = max(last.get(key, day), day)
    items = []
    for doc in db.archives.find({"_id": prefix_range(village), "status": "open"}, dict.fromkeys(archives.SUMMARY, 1)):
        reasons = []  # (reason, last day, due since)
        for population in CHRONIC:
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
    audit.record(db, user, "followups.due", region=village, purpose=access.purpose, grant=access.grant,
                 detail={"total": len(items), "shown": sorted({item["archive_id"] for item in items})})
    return {"village": village, "as_of": as_of, "items": items}


def incoming_referrals(user, status="sent", page=1, per_page=None):
    """Referrals to institutions within the user's region: the receiving side's list.
    Only routing fields are shown; the clinical content is read through the archive."""
    if user.role not in (roles.VILLAGE_DOCTOR, roles.TOWNSHIP_STAFF):
        audit.record(get_db(), user, "referral.incoming", outcome="denied", region=user.region)
        raise Forbidden("Only village doctors and township health centre staff receive referrals.")
    query = {"to_region": prefix_range(user.region), "status": status, "current": True}
    per_page = per_page or current_app.config["PAGE_SIZE"]
    db = get_db()
    fields = ("archive_id", "record_id", "version", "date", "direction", "from_institution", "to_institution",
              "to_region", "status", "author", "received_by", "received_at")
    total = db.records.count_documents(query)
    docs = db.records.find(query, dict.fromkeys(fields, 1)).sort([("date", -1), ("_id", -1)]) \
        .skip((page - 1) * per_page).limit(per_page)
    items = [{"id": doc.pop("record_id"), **{k: v for k, v in doc.items() if k != "_id"}} for doc in docs]
    audit.record(db, user, "referral.incoming", region=user.region, purpose="referral receipt",
                 detail={"total": total, "shown": [item["id"] for item in items]})
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def archives_with_service_since(region, since, until=None):
    """Ids of the archives under `region` (a village, or any prefix) with a service record
    dated from `since` to `until` (inclusive; default today): the usage rate's "has a
    conforming service record within the last year". Read from the records themselves, so
    no denormalised flag can miss a concurrent write."""
    query = {"village": prefix_range(region), "current": True, "date": {"$gte": since.isoformat()}}
    if until:
        query["date"]["$lte"] = until.isoformat()
    return set(get_db().records.distinct("archive_id", query))
