"""The audit trail's hash chains: appending an entry and verifying the chains.

Entries form hash chains, one per township plus a "system" chain; an entry about an
archive goes to the chain of the township that manages it when it is written. Each entry stores the
hash of the entry before it and its own SHA-256 over a canonical encoding of all its
fields, so an edited, inserted, removed or reordered entry breaks the chain. An entry's
`_id` is "<chain>:<sequence number>": the unique `_id` is what serialises concurrent
writers, without transactions or counters (docs/concurrency.md).

A chain head document (`audit_heads`) records a recent sequence number and hash: it is
moved forward once every HEAD_EVERY entries, so removing entries from the end of a chain
back past it is noticed too. Someone able to write to the database can still rewrite the
head along with the entries, or re-hash a chain from an edited entry on; only the chain
ends recorded outside the database (`flask audit heads`, then `flask audit verify
--anchors`) catch that, and they catch the removal of the very last entries as well.

Appending costs one round trip in the common case: each process remembers the newest
entry it knows of each chain (`healthrec.hints`) and inserts after it; an insert that
collides is the signal that another writer (often another service process) got there
first, and the writer then reads the real end of the chain (`tail`).
"""

import hashlib
import json
import random
import re
import time
from contextlib import suppress
from datetime import UTC, datetime

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

SYSTEM = "system"
GENESIS = "0" * 64  # the "previous hash" of every chain's first entry
SEQ_DIGITS = 10  # fixed width, so that sorting `_id`s sorts each chain by sequence
# After its n-th collision (from the second on: the first usually only means that another
# process wrote meanwhile) a writer waits a random time up to BACKOFF_SECONDS * 2**n (n at
# most 5: 64 ms). With 8 writers on one chain (scripts/bench_audit.py) that cuts the
# retries and multiplies the throughput.
BACKOFF_SECONDS = 0.002
# Entries are grouped in blocks of this many places ("<chain>:<seq // HEAD_EVERY>", each
# entry's `block`), so the end of a chain is found with one equality on a stored field;
# the head document moves forward at the first place of each block.
HEAD_EVERY = 16


def chain_of(region, archive_id=None):
    """The chain of an entry as far as codes alone tell: the township a region's code
    names, else the one the archive's code names, else "system". `log.record` asks the
    database first (the township managing the archive now), and falls back to this."""
    for code in (region, archive_id):
        if code and len(code) >= 9 and code[:9].isascii() and code[:9].isdigit():
            return code[:9]
    return SYSTEM


def entry_id(chain, seq):
    return f"{chain}:{seq:0{SEQ_DIGITS}d}"


def _tagged(value):
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC)
        # BSON keeps milliseconds; a naive datetime is stored as UTC.
        return {"$date": value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"}
    if isinstance(value, ObjectId):
        return {"$oid": str(value)}
    raise TypeError(f"an audit entry cannot hold a {type(value).__name__}")


def _check_keys(value):
    # "$" keys are reserved for the tags above; refusing them keeps the encoding one-to-one.
    if isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("$"):
                raise ValueError(f"an audit entry cannot hold the key {key!r}")
            _check_keys(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_keys(item)


def canonical(doc):
    """Deterministic bytes for a document as it reads back from the database: sorted keys,
    no spaces, UTF-8, datetimes at millisecond precision and ObjectIds tagged."""
    _check_keys(doc)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_tagged).encode()


def digest(entry):
    """The SHA-256 of every field but the hash itself (the previous hash included)."""
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def block_of(chain, seq):
    return f"{chain}:{seq // HEAD_EVERY}"


def seal(fields, chain, seq, prev):
    """The entry that takes place `seq` of `chain` after an entry whose hash is `prev`."""
    entry = {"_id": entry_id(chain, seq), "chain": chain, "seq": seq, "block": block_of(chain, seq), "prev": prev,
             **fields}
    entry["hash"] = digest(entry)
    return entry


def _start(db, chain):
    """(seq, hash) of the chain head document, made first for a new chain."""
    head = db.audit_heads.find_one({"_id": chain})
    if head is None:
        head = {"_id": chain, "seq": 0, "hash": GENESIS}
        # Created before the first entry, so a chain with entries but no head is tampering.
        # If another writer started the chain first, appending catches up with it.
        with suppress(DuplicateKeyError):
            db.audit_heads.insert_one(head)
    return head["seq"], head["hash"]


def tail(db, chain, seq):
    """The newest entry of `chain` from place `seq` on, as {seq, hash}; None when there is
    none. Reads the block of `seq` and each following one that is full: one query for a
    chain that grew by less than a block since `seq`."""
    newest = None
    while docs := list(db.audit.find({"block": block_of(chain, seq)}, {"seq": 1, "hash": 1})):
        newest = max(docs, key=lambda doc: doc["seq"])
        if newest["seq"] % HEAD_EVERY != HEAD_EVERY - 1:
            break
        seq = newest["seq"] + 1
    return newest


def append(db, fields, chain, tails):
    """Insert `fields` as the next entry of `chain`; `tails` are the process's hints of
    (seq, hash) per chain (`healthrec.hints.Hints`).

    The place after the newest entry the process knows of is tried first. Another writer
    may have taken it: then the insert fails on the unique `_id`, the writer reads the real
    end of the chain and tries the place after it, until one is free (from the second
    collision on, after a random wait: writers that all retried at once would all collide
    again). Places are only ever taken after the one before exists, so a chain has no gaps.
    """
    seq, prev = tails.get(db, chain) or _start(db, chain)
    seq += 1
    collisions = 0
    while True:
        entry = seal(fields, chain, seq, prev)
        try:
            db.audit.insert_one(entry)
            break
        except DuplicateKeyError:
            collisions += 1
            if collisions > 1:
                time.sleep(random.uniform(0, BACKOFF_SECONDS * 2 ** min(collisions, 5)))
            newest = tail(db, chain, seq)
            if newest is None:  # an entry written before entries had blocks
                newest = db.audit.find_one({"_id": entry["_id"]}, {"seq": 1, "hash": 1})
            seq, prev = newest["seq"] + 1, newest["hash"]
    tails.advance(db, chain, (seq, entry["hash"]))
    if seq % HEAD_EVERY == 0:
        # Only ever forward. Without atomic updates (FerretDB) a racing writer may leave the
        # head behind; it then still names a real entry.
        db.audit_heads.update_one({"_id": chain, "seq": {"$lt": seq}},
                                  {"$set": {"seq": seq, "hash": entry["hash"]}})
    return entry


class _ChainCheck:
    """Walks one chain's entries in `_id` order and keeps the first break it finds.

    `checkpoints` are (seq, hash, what recorded it): the chain head and any anchors kept
    outside the database. The chain must reach each one with that hash.
    """

    def __init__(self, name):
        self.name = name
        self.checkpoints = {}
        self.has_head = False
        self.entries = 0
        self.seq = 0
        self.hash = GENESIS
        self.bad = None

    def _break(self, seq, problem, detail, found=None):
        # An _id that is not ours (an ObjectId, say) is named by its text.
        name = entry_id(self.name, seq) if found is None else str(found)
        self.bad = {"chain": self.name, "seq": seq, "id": name, "problem": problem, "detail": detail}

    def feed(self, doc):
        self.entries += 1
        if self.bad:
            return
        if self.name is None:
            self._break(None, "unexpected", "The document belongs to no chain: it was put in.", doc["_id"])
            return
        seq = self.seq + 1
        expected = entry_id(self.name, seq)
        if doc["_id"] != expected:
            later = _seq_of(self.name, doc["_id"])
            if later and later > seq:
                self._break(seq, "missing", f"Entry {seq} is missing (removed); the chain goes on with "
                                            f"{doc['_id']}.")
            else:
                self._break(seq, "unexpected", f"{doc['_id']} stands where entry {expected} should: it was "
                                               "put in.", doc["_id"])
            return
        if doc.get("seq") != seq:
            self._break(seq, "moved", f"It says it is entry {doc.get('seq')}: entries were reordered.")
            return
        try:
            intact = doc.get("hash") == digest(doc)
        except (TypeError, ValueError):
            intact = False
        if not intact:
            self._break(seq, "edited", "Its content does not match its hash: it was changed.")
            return
        if doc.get("prev") != self.hash:
            self._break(seq, "relinked", f"It was chained to a different entry {seq - 1}: that entry was "
                                         "replaced, or this one was, with hashes recomputed.")
            return
        for digest_, source in self.checkpoints.get(seq, ()):
            if digest_ != doc["hash"]:
                self._break(seq, "replaced", f"Its hash differs from the one the {source} recorded: it "
                                             "or an entry before it was replaced, with hashes recomputed.")
                return
        self.seq, self.hash = seq, doc["hash"]

    def finish(self):
        if self.bad or self.name is None:
            return
        beyond = [seq for seq in self.checkpoints if seq > self.seq]
        if beyond:
            last = max(beyond)
            self._break(self.seq + 1, "truncated", f"The chain ends at entry {self.seq}, but the "
                                                   f"{self.checkpoints[last][0][1]} records entry {last}: "
                                                   f"entries {self.seq + 1} to {last} were removed.")
        elif not self.has_head:
            self._break(self.seq, "head_missing", "The chain head record is missing or damaged: removing the last "
                                                  "entries would go unnoticed.")

    def report(self):
        return {"chain": self.name, "entries": self.entries, "ok": self.bad is None,
                "first_bad": self.bad}


def _seq_of(chain, value):
    """The sequence number in a well-formed `_id` of `chain`, else None."""
    match = isinstance(value, str) and re.fullmatch(re.escape(chain) + rf":(\d{{{SEQ_DIGITS}}})", value)
    return int(match.group(1)) if match else None


def heads(db, prefix=None):
    """The head document (a recent sequence number and hash) of each chain, by chain name."""
    query = {"_id": {"$regex": "^" + re.escape(prefix)}} if prefix else {}
    return {doc["_id"]: doc for doc in db.audit_heads.find(query)}


def ends(db):
    """The newest entry {seq, hash} of each chain, by chain name: to keep outside the
    database as anchors. Starts from each head document, which is at most a block behind."""
    found = {}
    for name, head in heads(db).items():
        newest = tail(db, name, head["seq"]) if isinstance(head.get("seq"), int) else None
        found[name] = newest if newest and newest["seq"] >= head["seq"] else head
    return found


def verify(db, prefix=None, anchors=()):
    """Check every chain whose name starts with `prefix` (all entries when None).

    `anchors` are (chain, seq, hash) recorded earlier outside the database. Returns
    {ok, entries, chains: [per chain], first_bad} where first_bad names the chain, the
    entry and the problem: edited, moved, relinked, replaced, missing, unexpected,
    truncated or head_missing.
    """
    checks = {}

    def check(name):
        if name not in checks:
            checks[name] = _ChainCheck(name)
        return checks[name]

    # Heads first: a head read after the entries could name an entry appended meanwhile.
    for name, head in heads(db, prefix).items():
        if isinstance(head.get("seq"), int):  # a damaged head counts as a missing one
            check(name).has_head = True
            check(name).checkpoints.setdefault(head["seq"], []).append((head.get("hash"), "head"))
    for chain, seq, digest_ in anchors:
        if not prefix or chain.startswith(prefix):
            check(chain).checkpoints.setdefault(seq, []).append((digest_, "anchor"))
    query = {"chain": {"$regex": "^" + re.escape(prefix)}} if prefix else {}
    for doc in db.audit.find(query).sort("_id", 1):
        check(doc.get("chain") if isinstance(doc.get("chain"), str) else None).feed(doc)
    chains = []
    for name in sorted(checks, key=lambda n: (n is None, n or "")):
        checks[name].finish()
        chains.append(checks[name].report())
    broken = [chain["first_bad"] for chain in chains if chain["first_bad"]]
    return {"ok": not broken, "entries": sum(chain["entries"] for chain in chains),
            "chains": chains, "first_bad": broken[0] if broken else None}
