"""Writing service records: dated entries appended to a resident's archive (checkups,
encounters, key-population follow-ups, referrals, consultations, hospital stays).

One document per version of a record, in `records`. A record is never edited in place: an
amendment or a referral's receipt inserts the next version, whose `_id` is
"<record id>.<version>", so two changes made from the same version cannot both land (the
second insert meets the first's `_id`). The new version is the commit point; marking the
older ones not current follows, and is redone by the next change if a request dies
between the two steps.

An Idempotency-Key's claim (`healthrec.idempotency`) holds the record ids chosen for it; a
repeat inserts (or finds) the same `<record id>.1` documents, so concurrent repeats make
one set of records (docs/concurrency.md).

Scope comes from the archives' decision (`archives.service.archive_for`); every write is
audited with its purpose and grant, new records through the entry they carry until it is
appended (`audit.pending`); audit entries never hold plaintext.
"""

from bson import ObjectId
from flask import current_app
from marshmallow import ValidationError
from pymongo.errors import BulkWriteError, DuplicateKeyError

from healthrec import idempotency
from healthrec.archives import service as archives
from healthrec.archives.policy import WRITE
from healthrec.audit import pending
from healthrec.audit.log import record, refusals
from healthrec.clock import now
from healthrec.crypto import keyring
from healthrec.db import get_db
from healthrec.errors import Conflict, Invalid, NotFound, PreconditionFailed, PreconditionRequired
from healthrec.records import kinds, person, policy, urgent
from healthrec.records.reads import born_on, content_of, latest, present
from healthrec.regions import service as regions
from healthrec.regions.codes import LEVELS
from schemas.records.registry import validate_record

DUPLICATE_KEY = 11000


def _invalid(messages, prefix=""):
    errors = {f"{prefix}{field}": msgs for field, msgs in messages.items()}
    return Invalid("Some fields are invalid: " + ", ".join(sorted(errors)), errors)


def create_record(user, archive_id, content, idempotency_key=None):
    """Append a record (`content` as `validate_record` returns it) to an archive.

    Returns (record, created): created is False when an Idempotency-Key repeat gives back
    the record its first use made.
    """
    records, created = create_records(user, archive_id, [content], idempotency_key, batch=False)
    return records[0], created


def _check_fit(archive, contents, prefixes):
    """Invalid when a record does not fit the resident (sex, age, birth date) or its
    classification contradicts its measurements; errors under each record's prefix."""
    errors = {}
    for content, prefix in zip(contents, prefixes, strict=True):
        for field, messages in person.mismatches(content, archive["sex"], born_on(archive),
                                                 current_app.config["CHILD_MAX_AGE"]).items():
            errors[f"{prefix}{field}"] = messages
    if errors:
        raise Invalid("The record does not fit the resident or contradicts itself: "
                      + "; ".join(f"{field}: {messages[0]}" for field, messages in sorted(errors.items())), errors)


def create_records(user, archive_id, contents, idempotency_key=None, batch=True):
    """Append the records of one visit (a checkup with its follow-ups, say) together: one
    scope check, one insert and one audit entry naming them all. (records, created).
    Errors of a batch are keyed records.<n>.<field>."""
    # A closed archive still takes paper forms dated before its closing, marked late.
    access = archives.archive_for(user, archive_id, WRITE, "record.create",
                                  dated=max(content["date"] for content in contents))
    _check_fit(access.archive, contents, [f"records.{n}." if batch else "" for n in range(len(contents))])
    for content in contents:
        if content["kind"] == "referral":
            _check_receiving_region(content["to_region"])
    contents = [{**content, "status": "sent"} if content["kind"] == "referral" else content
                for content in contents]
    record_ids = [str(ObjectId()) for _ in contents]
    claim = idempotency.claim(user, idempotency_key, f"record.create {archive_id}", contents, ref=record_ids)
    record_ids = claim.ref if claim else record_ids
    created = not (claim and claim.repeat)
    mark = pending.intent(user, "record.create", intent_id=claim and claim.id, archive_id=archive_id,
                          region=access.village, township=access.archive["township"], purpose=access.purpose,
                          grant=access.grant, detail={"records": record_ids, "kinds": [c["kind"] for c in contents]})
    docs = new_documents(user, archive_id, access.custody, contents, record_ids, now(), access.late)
    ring, db = keyring(), get_db()
    ids = [doc["_id"] for doc in docs]
    try:
        db.records.insert_many([{**kinds.seal(ring, doc), pending.MARK: mark} for doc in docs], ordered=False)
    except BulkWriteError as error:
        if any(e["code"] != DUPLICATE_KEY for e in error.details["writeErrors"]):
            raise
        # A repeat of the same key: the records are those its first use wrote.
        stored = {doc["_id"]: doc for doc in db.records.find({"archive_id": archive_id, "_id": {"$in": ids}})}
        docs = [kinds.unseal(ring, stored[doc["_id"]]) for doc in docs]
        mark = next((doc[pending.MARK] for doc in docs if pending.MARK in doc), None)
    else:
        pending.settle("records", ids, mark, first=True)
        mark = None
    if mark and pending.abandoned(mark):
        # The first use was cut off after writing them: its entry is added now.
        pending.settle("records", ids, mark)
    custody = archives.follow_custody("records", archive_id, ids, access.custody)
    docs = [{**doc, **custody} for doc in docs]
    urgent.record_created(access, docs)
    born = born_on(access.archive)
    return [present(doc, born) for doc in docs], created


def new_documents(user, archive_id, custody, contents, record_ids, at, late=False):
    """The first versions of new records (plaintext) of an archive held in `custody` (its
    custody fields); `late`: paper forms entered after the archive was closed."""
    return [{"_id": f"{record_id}.1", "record_id": record_id, "version": 1, "current": True,
             "archive_id": archive_id, **custody, "recorded_in": custody["village"], **({"late": True} if late else {}),
             "author": user.username, "created_at": at, **_routing(content), **content}
            for record_id, content in zip(record_ids, contents, strict=True)]


def _routing(content):
    """The township a referral goes to, stored for the receiving side's list to lead with
    an equality (`worklists.incoming_referrals`)."""
    to_region = content.get("to_region", "") if content["kind"] == "referral" else ""
    return {"to_township": to_region[:9]} if len(to_region) >= 9 else {}


def _check_receiving_region(code, field="to_region"):
    """A referral goes to a region as it stands today: known, neither retired nor yet to come."""
    try:
        regions.get_region(code)
    except NotFound:
        message = f"There is no region {code}; give the region code of the receiving institution."
        raise Invalid(message, {field: [message]}) from None
    regions.current(code, field, LEVELS[len(code)])


def amend_record(user, archive_id, record_id, changes, reason, expected_version):
    """A new version of the record with `changes` merged in; the old one stays as history.

    `expected_version` is the version the change was made on (If-Match): an amendment of
    an older one would silently undo what was amended since. The whole record is then
    checked again, as a new one is.
    """
    access = archives.archive_for(user, archive_id, WRITE, "record.amend")
    if expected_version is None:
        raise PreconditionRequired("Send If-Match with the ETag of your last GET of this record, so that "
                                   "nobody else's correction made meanwhile is undone.")
    stored = latest(archive_id, record_id)
    if stored["version"] != expected_version:
        raise PreconditionFailed(f"Record {record_id} has changed since you read it (it is now version "
                                 f"{stored['version']}). GET it again, redo your change on the new version and "
                                 "send its ETag in If-Match.", current_version=stored["version"])
    old = kinds.unseal(keyring(), stored)
    content = kinds.editable(content_of(old))
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
    _check_fit(access.archive, [new], ["changes."])
    if new["kind"] == "referral":
        _check_receiving_region(new["to_region"], "changes.to_region")
    doc = _new_version(access, old, {**new, **kinds.state(old)},
                       {"type": "amend", "by": user.username, "at": now(), "reason": reason},
                       access.intent("record.amend", detail={"record": record_id, "version": old["version"] + 1}))
    urgent.record_amended(access, doc)
    return present(doc, born_on(access.archive))


def receive_referral(user, archive_id, record_id):
    """The receiving side confirms a referral arrived: its status goes sent -> received."""
    place = archives.custody(archive_id)
    referral = get_db().records.find_one({"record_id": record_id, "archive_id": archive_id},
                                         sort=[("version", -1)])
    if referral is None or referral["kind"] != "referral":
        record(user, "referral.receive", outcome="not_found", archive_id=archive_id, region=place["village"],
               township=place["township"])
        raise NotFound(f"Archive {archive_id} has no referral {record_id}.")
    with refusals(user, "referral.receive", archive_id=archive_id, region=place["village"],
                  township=place["township"]):
        policy.check_receiver(user, referral, place)
    if referral["status"] != "sent":
        raise Conflict(f"Referral {record_id} was already received by {referral['received_by']} "
                       f"at {referral['received_at']}.")
    at = now()
    old = kinds.unseal(keyring(), referral)
    receiver = _Receiver(user, referral)
    doc = _new_version(receiver, old, {**content_of(old), "status": "received", "received_by": user.username,
                                       "received_at": at.isoformat()},
                       {"type": "receipt", "by": user.username, "at": at},
                       receiver.intent("referral.receive", detail={"record": record_id, "version": old["version"] + 1}))
    return {"id": record_id, "version": doc["version"], "status": doc["status"],
            "received_by": doc["received_by"], "received_at": doc["received_at"]}


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
        record(self.user, action, outcome=outcome, archive_id=self.archive_id, region=self.village,
               purpose=self.purpose, detail=detail)

    def intent(self, action, detail=None):
        return pending.intent(self.user, action, archive_id=self.archive_id, region=self.village,
                              purpose=self.purpose, detail=detail)


def _new_version(access, old, content, change, audit):
    """Insert the version after `old` (plaintext) with `content`, carrying its audit entry
    `audit` until it is appended; Conflict when another change of the same version got
    there first."""
    record_id, version = old["record_id"], old["version"] + 1
    doc = {**{name: old[name] for name in ("record_id", "archive_id", "village", "township", "county", "recorded_in",
                                           "late", "author", "created_at") if name in old},
           "_id": f"{record_id}.{version}", "version": version, "previous": old["version"], "current": True,
           "change": change, **_routing(content), **content}
    ring = keyring()
    stored = kinds.seal(ring, doc)
    if change.get("reason"):
        stored["change"] = {**change, "reason": ring.seal(change["reason"], doc["_id"], "change.reason")}
    db = get_db()
    try:
        db.records.insert_one({**stored, pending.MARK: audit})
    except DuplicateKeyError:
        _retire_older(db, old["archive_id"], record_id, version)
        access.audit(f"record.{change['type']}", outcome="conflict", detail={"record": record_id})
        raise Conflict(f"Record {record_id} was changed by someone else meanwhile (it is now version "
                       f"{version}); read it again and repeat your change if it is still needed.",
                       current_version=version) from None
    pending.settle("records", [doc["_id"]], audit, first=True)
    _retire_older(db, old["archive_id"], record_id, version)
    held = {name: doc[name] for name in archives.CUSTODY if name in doc}
    return {**doc, **archives.follow_custody("records", old["archive_id"], [doc["_id"]], held)}


def _retire_older(db, archive_id, record_id, version):
    db.records.update_many({"archive_id": archive_id, "record_id": record_id, "version": {"$lt": version},
                            "current": True},
                           {"$set": {"current": False}})


