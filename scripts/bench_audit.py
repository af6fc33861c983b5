#!/usr/bin/env python
"""Audit log figures: append throughput with 8 concurrent writers on one chain and on 8
chains (entries/s, insert retries per entry) next to raw pymongo inserts of the same
documents, and the time `verify` takes over 100 000 entries.

    .venv/bin/python scripts/bench_audit.py [--per-writer 200] [--verify-entries 100000]

Uses the server named by MONGO_URI, else starts a throw-away dev database (FerretDB under
/dev/shm) with scripts/devdb and stops it at the end. Works in its own database, dropped
afterwards.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from bson import ObjectId
from pymongo import MongoClient, monitoring

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from healthrec.audit import chain as audit  # noqa: E402 - after the path is set
from healthrec.clock import now  # noqa: E402
from healthrec.db import ensure_indexes  # noqa: E402
from healthrec.hints import Hints  # noqa: E402

WRITERS = 8
TOWNSHIPS = [f"411423{n:03d}" for n in range(101, 101 + WRITERS)]


class Duplicates(monitoring.CommandListener):
    """Counts inserts into the audit collection refused for a taken `_id` (the retries)."""

    def __init__(self):
        self.count = 0
        self.lock = threading.Lock()

    def started(self, event):
        pass

    def succeeded(self, event):
        if event.command_name == "insert":
            refused = sum(1 for error in event.reply.get("writeErrors", []) if error.get("code") == 11000)
            if refused:
                with self.lock:
                    self.count += refused

    def failed(self, event):
        pass


def start_devdb():
    """(uri, stop) of a fresh dev database, or of MONGO_URI when set."""
    if os.environ.get("MONGO_URI"):
        return os.environ["MONGO_URI"], lambda: None
    folder = tempfile.mkdtemp(prefix="healthrec-bench-", dir="/dev/shm")
    env = dict(os.environ, HEALTHREC_DEVDB_DIR=folder,
               HEALTHREC_DEVDB_PORT=os.environ.get("HEALTHREC_DEVDB_PORT", "27127"))
    devdb = str(ROOT / "scripts/devdb")
    out = subprocess.run([devdb, "start"], env=env, capture_output=True, text=True, check=True).stdout

    def stop():
        subprocess.run([devdb, "stop"], env=env, check=True)
        shutil.rmtree(folder)

    return out.strip().splitlines()[-1].split("=", 1)[1], stop


def fields(n):
    """The fields of one entry as record() builds them: an archive read by township staff."""
    return {"at": now(), "actor": "staff", "role": "township_staff", "ip": "10.0.0.7", "action": "archive.read",
            "outcome": "ok", "archive_id": f"411423101101{n % 10000:04d}", "region": "411423101101",
            "purpose": "jurisdiction", "grant": None, "detail": {"filters": ["village"], "total": n}}


def run_writers(work):
    """Run work(writer) in 8 threads started together; the seconds it took."""
    barrier = threading.Barrier(WRITERS + 1)

    def body(writer):
        barrier.wait()
        work(writer)

    threads = [threading.Thread(target=body, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def raw_inserts(db, per_writer):
    def work(writer):
        for n in range(per_writer):
            db.raw.insert_one({"_id": ObjectId(), **fields(n)})
    return run_writers(work)


def audit_appends(db, per_writer, chains):
    def work(writer):
        township = chains[writer % len(chains)]
        tails = Hints()  # each writer stands for a service process of its own
        for n in range(per_writer):
            entry = {**fields(n), "archive_id": f"{township}101{n % 10000:04d}", "region": f"{township}101"}
            audit.append(db, entry, township, tails)
    return run_writers(work)


def verify_time(db, entries):
    """Seconds `verify` takes over `entries` entries spread over 8 chains."""
    db.audit.drop()
    db.audit_heads.drop()
    per_chain = entries // WRITERS
    for chain in TOWNSHIPS:
        prev, batch = audit.GENESIS, []
        for seq in range(1, per_chain + 1):
            entry = audit.seal(fields(seq), chain, seq, prev)
            prev = entry["hash"]
            batch.append(entry)
            if len(batch) == 5000:
                db.audit.insert_many(batch, ordered=False)
                batch = []
        if batch:
            db.audit.insert_many(batch, ordered=False)
        db.audit_heads.insert_one({"_id": chain, "seq": per_chain, "hash": prev})
    started = time.perf_counter()
    report = audit.verify(db)
    took = time.perf_counter() - started
    assert report["ok"] and report["entries"] == per_chain * WRITERS, report["first_bad"]
    return report["entries"], took


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-writer", type=int, default=200, help="entries each of the 8 writers appends")
    parser.add_argument("--verify-entries", type=int, default=100_000, help="entries for the verify timing")
    args = parser.parse_args()

    uri, stop = start_devdb()
    duplicates = Duplicates()
    client: MongoClient = MongoClient(uri, tz_aware=True, event_listeners=[duplicates])
    db = client["bench_audit_" + uuid.uuid4().hex[:8]]
    try:
        ensure_indexes(db)
        total = WRITERS * args.per_writer
        print(f"server {client.server_info().get('version')} at {uri}; {WRITERS} writers x {args.per_writer}")

        seconds = raw_inserts(db, args.per_writer)
        print(f"raw insert_one, 8 writers:       {total / seconds:8.0f} entries/s")
        for label, chains in (("audit append, one chain:", TOWNSHIPS[:1]), ("audit append, 8 chains:", TOWNSHIPS)):
            duplicates.count = 0
            seconds = audit_appends(db, args.per_writer, chains)
            print(f"{label:<32} {total / seconds:8.0f} entries/s, {duplicates.count / total:.2f} retries per entry")
        report = audit.verify(db)
        print(f"chains after the runs: {'intact' if report['ok'] else report['first_bad']}, "
              f"{report['entries']} entries")

        entries, seconds = verify_time(db, args.verify_entries)
        print(f"verify, {entries} entries in 8 chains: {seconds:.1f} s ({entries / seconds:.0f} entries/s)")
    finally:
        client.drop_database(db.name)
        client.close()
        stop()


if __name__ == "__main__":
    main()
