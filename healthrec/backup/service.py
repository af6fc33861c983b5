"""Backups of the database: a dump to a folder, and its restore into an empty database.

A dump is a folder with one gzip file of BSON documents per collection (the layout of
`mongodump --gzip`'s `.bson.gz` files) and `manifest.json`, written last, which names each
file with its document count and SHA-256 and the encryption keys the data is sealed
under. Documents are copied as the server holds them (raw BSON), so nothing is decoded,
re-encoded or unsealed on the way; the key ring never goes into a dump.

It works the same on MongoDB and FerretDB: plain finds and inserts, no snapshot reads.
Collections are read one after the other while the service may be writing, so a write
made during the dump may be in it or not; the audit trail is read last and completed so
that every chain in the dump is whole up to its newest entry read (docs/operating.md).
"""

import gzip
import hashlib
import json
import os
import re
from pathlib import Path

from bson import decode_file_iter
from bson.codec_options import CodecOptions
from bson.raw_bson import RawBSONDocument

from healthrec.audit import chain as chains
from healthrec.audit.log import record
from healthrec.clock import now
from healthrec.db import ensure_indexes
from healthrec.keys import service as keys

FORMAT = 1
MANIFEST = "manifest.json"
BATCH = 1000
RAW = CodecOptions(document_class=RawBSONDocument, tz_aware=True)
# Remembered by every process at start-up (keys.service.remember), so a database a
# restore may go into already has them: they are replaced by the dump's.
CANARIES = "keyring"
ENTRY_ID = re.compile(rf"(.+):(\d{{{chains.SEQ_DIGITS}}})")


class BackupError(Exception):
    """A dump or restore that cannot go ahead; nothing was written, unless it says so."""


def dump(db, folder):
    """Write every collection of `db` into the new or empty `folder`; the manifest."""
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: dump into a new folder")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Recorded first, so that the dump holds its own entry.
    record(None, "backup.dump", detail={"folder": folder.name})
    collections = {}
    for name in sorted(db.list_collection_names()):
        if name.startswith("system.") or name in ("audit", "audit_heads"):
            continue
        with File(folder, name) as file:
            for doc in db.get_collection(name, codec_options=RAW).find():
                file.add(doc)
        collections[name] = file.entry
    collections |= dump_audit(db, folder)
    manifest = {"format": FORMAT, "database": db.name, "made_at": now().isoformat(), "keys": sealed_under(db),
                "collections": collections}
    write_private(folder / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False).encode())
    return manifest


def dump_audit(db, folder):
    """The audit trail, read last, and its heads, each chain whole from its first entry
    to the newest one read or named by its head.

    Entries are read in `_id` order, which is each chain's order. One appended while the
    reading was past its place, just before a later one that was read, would leave a gap
    that `audit verify` reports as a removed entry; the heads, read after the entries (a
    head read before them could name an entry appended in between), may name entries
    appended since. An entry is only ever appended after the one before it exists
    (audit/chain.py), so every such entry is in the database by now: they are read by
    `_id` and added. Entries missing from the database itself stay missing.
    """
    entries = db.get_collection("audit", codec_options=RAW)
    newest: dict[str, int] = {}
    missing: list[str] = []

    def skipped(chain, upto):
        missing.extend(chains.entry_id(chain, seq) for seq in range(newest.get(chain, 0) + 1, upto))

    with File(folder, "audit") as audit:
        for doc in entries.find().sort("_id", 1):
            place = ENTRY_ID.fullmatch(doc["_id"]) if isinstance(doc["_id"], str) else None
            if place:
                chain, seq = place.group(1), int(place.group(2))
                skipped(chain, seq)
                newest[chain] = max(seq, newest.get(chain, 0))
            audit.add(doc)
        heads = list(db.get_collection("audit_heads", codec_options=RAW).find())
        for head in heads:
            if isinstance(head.get("seq"), int):
                skipped(head["_id"], head["seq"] + 1)
        for start in range(0, len(missing), BATCH):
            for doc in entries.find({"_id": {"$in": missing[start:start + BATCH]}}):
                audit.add(doc)
    with File(folder, "audit_heads") as head_file:
        for head in heads:
            head_file.add(head)
    return {"audit": audit.entry, "audit_heads": head_file.entry}


class File:
    """`<name>.bson.gz` in a dump, written once, readable by its owner only; `entry` is
    its line in the manifest once closed."""

    def __init__(self, folder, name):
        self.path = folder / f"{name}.bson.gz"
        self.count = 0
        self.entry: dict = {}

    def __enter__(self):
        self.raw = os.fdopen(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
        self.out = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, mtime=0)
        return self

    def add(self, doc):
        self.out.write(doc.raw)
        self.count += 1

    def __exit__(self, *exc):
        self.out.close()
        self.raw.close()
        self.entry = {"file": self.path.name, "documents": self.count, "sha256": sha256(self.path)}


def write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def sealed_under(db):
    """The ids of the keys the database still holds values under (not retired)."""
    return sorted(doc["key"] for doc in db.keyring.find({"kind": "key"}) if not doc.get("retired"))


def read_manifest(folder):
    """The manifest of a complete dump whose files are all there and unchanged."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BackupError(f"{folder} has no {MANIFEST}: not a dump, or one that did not finish") from None
    except ValueError as error:
        raise BackupError(f"{folder / MANIFEST} is damaged ({error})") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{folder / MANIFEST}: format {manifest.get('format')!r}, expected {FORMAT}")
    for name, entry in manifest["collections"].items():
        path = folder / entry["file"]
        if not path.is_file():
            raise BackupError(f"{path} is missing (collection {name})")
        if sha256(path) != entry["sha256"]:
            raise BackupError(f"{path} does not match its checksum in the manifest: the copy is damaged")
    return manifest


def restore(db, folder, ring):
    """Load the dump in `folder` into the empty database `db`; the manifest.

    Checked before anything else is written: the files against the manifest, the database
    empty, and the key ring against the dump's key canaries (restored first, and dropped
    again when the ring cannot open them).
    """
    folder = Path(folder)
    manifest = read_manifest(folder)
    existing = db.list_collection_names()
    filled = sorted(name for name in existing
                    if name != CANARIES and not name.startswith("system.") and db[name].estimated_document_count())
    if filled:
        raise BackupError(f"database {db.name} is not empty ({', '.join(filled)}): restore into an empty database "
                          "(drop it, or set HEALTHREC_DB_NAME to a new name)")
    collections = manifest["collections"]
    db[CANARIES].drop()
    if CANARIES in collections:
        load(db, folder, CANARIES, collections[CANARIES])
    problems = keys.key_problems(db, ring)
    if problems:
        db[CANARIES].drop()
        raise BackupError("the key ring cannot open this dump's data, nothing was restored: " + "; ".join(problems))
    for name, entry in collections.items():
        if name != CANARIES:
            if not entry["documents"] and name not in existing:
                db.create_collection(name)
            load(db, folder, name, entry)
    ensure_indexes(db)
    counts = {name: db[name].count_documents({}) for name in collections}
    wrong = [f"{name} {counts[name]} of {entry['documents']}" for name, entry in collections.items()
             if counts[name] != entry["documents"]]
    if wrong:
        raise BackupError("the restored counts differ from the dump's: " + ", ".join(wrong))
    record(None, "backup.restore", detail={"folder": folder.name, "made_at": manifest["made_at"]})
    return manifest


def load(db, folder, name, entry):
    collection = db.get_collection(name, codec_options=RAW)
    with gzip.open(folder / entry["file"], "rb") as file:
        batch = []
        for doc in decode_file_iter(file, codec_options=RAW):
            batch.append(doc)
            if len(batch) == BATCH:
                collection.insert_many(batch)
                batch = []
        if batch:
            collection.insert_many(batch)
