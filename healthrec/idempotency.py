"""Idempotency-Key: a creation repeated with the same key gets what the first one made,
and nothing is written or audited twice (docs/concurrency.md).

A key is claimed by inserting {_id: "<user>:<key>"} with a hash of the action and body,
before anything is written. The claim's `ref` names what the request makes: ids the
service chooses (records, requests, openings, teams, samples) are in it from the start,
and a repeat writes or finds the same documents; an id known once the checks are done (a
contract's or transfer's number) is added just before the write; an archive's serial is
found by writing, and is added right after, while the archive still carries its audit
mark (`audit.pending`), so an archive made under a key is found through one or the other.
"""

import hashlib
import json
import re
from dataclasses import dataclass

from pymongo.errors import DuplicateKeyError

from healthrec.audit.pending import ABANDONED, MARK, abandoned, settle
from healthrec.clock import now
from healthrec.db import delete_in_batches, get_db
from healthrec.errors import Conflict, Invalid

KEY = re.compile(r"^[\x21-\x7e]{1,128}$")
UNDER_WAY = ("A request with this Idempotency-Key is still being processed, or was cut off less than a minute "
             "ago; repeat it with the same key in a minute.")


@dataclass
class Claim:
    id: str  # also the id of the write's audit intent
    ref: object  # what the first use made, once known
    repeat: bool


def _invalid(message):
    return Invalid(f"Idempotency-Key: {message}", {"Idempotency-Key": [message]})


def claim(user, key, action, body, ref=None, collection=None):
    """The claim of `key` (None without one) for `action` with `body` by `user`, taken
    once the request has been checked, just before its write.

    `ref`: the ids the request will write, chosen beforehand. Without them, `collection` is
    where a repeat looks for a document still marked with the claim's intent. Raises
    Invalid for a malformed key or one used for another request, Conflict while the
    first request with the key may still be running.
    """
    if key is None:
        return None
    if not KEY.match(key):
        raise _invalid("Must be 1 to 128 visible ASCII characters, e.g. a UUID.")
    digest = hashlib.sha256(json.dumps([action, body], sort_keys=True, ensure_ascii=False,
                                       default=str).encode()).hexdigest()
    doc = {"_id": f"{user.username}:{key}", "digest": digest, "ref": ref, "at": now()}
    db = get_db()
    for _ in range(2):
        try:
            db.idempotency_keys.insert_one(doc)
            return Claim(doc["_id"], ref, False)
        except DuplicateKeyError:
            held = db.idempotency_keys.find_one({"_id": doc["_id"]})
        if held is None:
            continue  # released meanwhile
        if held["digest"] != digest:
            raise _invalid("This key was already used for a different request; send a new key for a new "
                           "request, or the first body unchanged to get its answer again.")
        if held["ref"] is not None:
            return Claim(held["_id"], held["ref"], True)
        marked = collection and db[collection].find_one({f"{MARK}.id": held["_id"]}, {"_id": 1})
        if marked:
            return Claim(held["_id"], marked["_id"], True)
        # Nothing made under a claim this old: its request died before writing, and this
        # repeat takes the key over. Younger, the first request may still be running.
        if held["at"] > now() - ABANDONED:
            raise Conflict(UNDER_WAY)
        db.idempotency_keys.delete_one({"_id": held["_id"], "at": held["at"]})
    raise Conflict(UNDER_WAY)


def release(claim):
    """Give a new claim up: its request was refused before writing anything, and may be
    corrected and sent again with the same key."""
    if claim is not None and not claim.repeat:
        get_db().idempotency_keys.delete_one({"_id": claim.id})


def made(claim, ref):
    """Name in `claim` what its request makes, once its id is known: before the write when
    the checks tell it (a contract's or transfer's number), right after it for an archive
    (still marked, so a repeat finds it either way)."""
    if claim is not None and claim.ref is None:
        get_db().idempotency_keys.update_one({"_id": claim.id}, {"$set": {"ref": ref}})


def made_before(claim, collection):
    """What the first use of a repeated key made in `collection` (its `ref`), or None for a
    new key, or when the first use was cut off before writing it (the caller then writes it
    under the same id). When that request was cut off after the write, its audit entry is
    appended now."""
    if claim is None or not claim.repeat:
        return None
    doc = get_db()[collection].find_one({"_id": claim.ref})
    mark = doc and doc.pop(MARK, None)
    if mark and abandoned(mark):
        settle(collection, [doc["_id"]], mark)
    return doc


def prune(before):
    """Forget keys first used before `before`; a resubmit older than that is a new request."""
    return delete_in_batches(get_db().idempotency_keys, {"at": {"$lt": before}})
