#!/usr/bin/env python
"""Benchmark: a whole county's indicator table through the service against the same
pipelines run raw with pymongo, as the county grows.

    .venv/bin/python scripts/bench_metrics.py [--sizes 10000,30000,100000] [--records 3] [--rounds 3]

Uses the server MONGO_URI names, or starts a throw-away dev database (FerretDB on
PostgreSQL; HEALTHREC_DEVDB_BACKEND=sqlite for SQLite) in /dev/shm and stops it
afterwards. The demo county's regions are loaded, then archives (with `--records` service
records each) are inserted straight into the collections in the shape the services store
them, up to each size in turn. At each size the table is computed through
`metrics.indicators.coverage` and by running its queries raw, in alternating rounds in
the same process; the figures are medians over the rounds.
"""

import argparse
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from healthrec import create_app, crypto, demo  # noqa: E402
from healthrec.archives import service as archive_service  # noqa: E402
from healthrec.archives.custody import custody_query  # noqa: E402
from healthrec.auth.roles import SUPERVISOR  # noqa: E402
from healthrec.auth.user import User  # noqa: E402
from healthrec.clock import today  # noqa: E402
from healthrec.db import client_for, ensure_indexes, get_db  # noqa: E402
from healthrec.ids import CodeLayout, prefix_range  # noqa: E402
from healthrec.metrics import indicators  # noqa: E402
from healthrec.regions import service as regions  # noqa: E402

COUNTY = demo.COUNTY[0]
BATCH = 5000


@contextmanager
def database():
    """The URI of MONGO_URI's server, or of a dev database started for this run."""
    if os.environ.get("MONGO_URI"):
        yield os.environ["MONGO_URI"]
        return
    # In memory like the tests' database, so the figures measure the server, not the disk.
    folder = tempfile.mkdtemp(prefix="healthrec-bench-metrics-", dir="/dev/shm")  # noqa: S108
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HEALTHREC_DEVDB_PORT": str(port), "HEALTHREC_DEVDB_DIR": folder}
    devdb = [str(ROOT / "scripts/devdb")]
    out = subprocess.run(devdb + ["start"], env=env, capture_output=True, text=True, check=True).stdout
    # Interrupted or killed, the run still stops the server it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        yield out.strip().splitlines()[-1].split("=", 1)[1]
    finally:
        subprocess.run(devdb + ["stop"], env=env, check=False)
        shutil.rmtree(folder, ignore_errors=True)


class County:
    """Archives and records inserted as the services store them (the fields the
    indicators read, and the custody and dates every query leads with)."""

    def __init__(self, db, records_each, seed=2026):
        self.db, self.records_each, self.rng = db, records_each, random.Random(seed)
        self.villages = [village for _township, village, _name, _kind in demo.villages()]
        self.serials = dict.fromkeys(self.villages, 0)
        self.layout = CodeLayout(4)
        self.size = 0

    def grow_to(self, size):
        while self.size < size:
            count = min(BATCH, size - self.size)
            archives: list[dict] = []
            records: list[dict] = []
            for _ in range(count):
                archive, flags = self.archive()
                archives.append(archive)
                records.extend(self.record(archive, flags, n) for n in range(self.records_each))
            self.db.archives.insert_many(archives, ordered=False)
            self.db.records.insert_many(records, ordered=False)
            self.size += count

    def archive(self):
        rng, day = self.rng, today()
        village = rng.choice(self.villages)
        self.serials[village] += 1
        established = day - timedelta(days=rng.randint(0, 1500))
        created = datetime.combine(established, clock_time(2), tzinfo=UTC)
        archive_id = self.layout.format(village, self.serials[village])
        flags = [flag for flag, chance in (("hypertension", 0.2), ("diabetes", 0.08)) if rng.random() < chance]
        doc = {
            "_id": archive_id,
            "village": village, "township": village[:9], "county": village[:6],
            "status": "open", "version": 1, "sex": rng.choice(("male", "female")),
            "birth_date": (day - timedelta(days=rng.randint(0, 90 * 365))).isoformat(),
            "key_populations": crypto.keyring().seal(flags, archive_id, "key_populations"),
            "key_population_bi": archive_service.population_tokens(archive_id, flags),
            "completeness": {"complete": rng.random() < 0.85, "missing": []},
            "established_on": established.isoformat(), "created_at": created, "updated_at": created,
        }
        if rng.random() < 0.03:
            doc["status"] = "closed"
            doc["closed"] = {"reason": "death", "date": (day - timedelta(days=rng.randint(0, 400))).isoformat()}
        return doc, flags

    def record(self, archive, flags, n):
        rng = self.rng
        kind = rng.choice(("encounter", "checkup", "followup"))
        doc = {"_id": f"{archive['_id']}-{n}.1", "record_id": f"{archive['_id']}-{n}", "version": 1,
               "current": True, "archive_id": archive["_id"], "village": archive["village"],
               "township": archive["township"], "county": archive["county"], "kind": kind,
               "date": (today() - timedelta(days=rng.randint(0, 730))).isoformat()}
        if kind == "followup":
            doc.update(population=rng.choice(flags or ["elderly"]),
                       method=rng.choice(("clinic", "home", "phone")),
                       control=rng.choice(("satisfactory", "unsatisfactory")))
        return doc


def raw_table(db, as_of):
    """The queries `coverage` sends for the county, run raw: nothing unsealed, nothing joined."""
    day = as_of.isoformat()
    year_ago, new_year = (as_of - timedelta(days=365)).isoformat(), date(as_of.year, 1, 1).isoformat()
    records = {"county": COUNTY, "current": True}

    def ids(match):
        return list(db.records.aggregate([{"$match": match}, {"$group": {"_id": "$archive_id", "n": {"$sum": 1}}}]))

    list(db.regions.find({"_id": prefix_range(COUNTY)}))
    list(db.archives.aggregate([{"$match": {**custody_query(COUNTY), "established_on": {"$lte": day}}},
                                {"$project": indicators.ARCHIVE_FIELDS}]))
    ids({**records, "date": {"$gte": year_ago, "$lte": as_of.isoformat()}})
    ids({**records, "kind": "checkup", "date": {"$gte": new_year, "$lte": as_of.isoformat()}})
    key = {"archive": "$archive_id", "population": "$population", "date": "$date", "method": "$method",
           "control": "$control"}
    list(db.records.aggregate([
        {"$match": {**records, "kind": "followup", "population": {"$in": ["hypertension", "diabetes"]},
                    "date": {"$gte": year_ago, "$lte": as_of.isoformat()}}},
        {"$group": {"_id": key, "n": {"$sum": 1}}}]))
    list(db.sample_results.aggregate([
        {"$match": {"county": COUNTY, "checked_on": {"$gte": new_year, "$lte": as_of.isoformat()}}},
        {"$group": {"_id": {"village": "$village", "qualified": "$qualified", "authentic": "$authentic"},
                    "n": {"$sum": 1}}}]))
    # The contracted residents (签约): the archives closed by the day, and the contracts in
    # force with their sealed flags (the county has no contracts here).
    list(db.archives.find({"county": COUNTY, "status": "closed", "closed.date": {"$lte": day}}, {"_id": 1}))
    list(db.contracts.find({"county": COUNTY, "signed_on": {"$lte": day}, "ends_on": {"$gte": day}},
                           {"village": 1, "archive_id": 1, "key_populations": 1, "birth_date": 1}))


def timed(action):
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,30000,100000", help="county sizes in archives, ascending")
    parser.add_argument("--records", type=int, default=3, help="service records per archive")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    supervisor = User({"_id": "bench.supervisor", "role": SUPERVISOR, "region": COUNTY})

    server = "MONGO_URI server" if os.environ.get("MONGO_URI") else (
        f"FerretDB dev database ({os.environ.get('HEALTHREC_DEVDB_BACKEND') or 'postgresql'})")
    print(f"metrics benchmark on the {server}: the county table ({COUNTY}, 5 townships, 36 villages), "
          f"{args.rounds} rounds, medians")
    print("  archives   records   service s   raw s   ratio   (archived, active, coverage %)", flush=True)
    figures = []
    with database() as uri:
        name = "bench_" + uuid.uuid4().hex[:10]
        app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "MONGO_URI": uri, "DB_NAME": name,
                          "KEYS": crypto.generate()})
        try:
            with app.app_context():
                db = get_db()
                ensure_indexes(db)
                regions.import_csv("\n".join(demo.region_rows(random.Random(2026))))
                county = County(db, args.records)
                as_of = today()
                for size in sizes:
                    county.grow_to(size)
                    table = indicators.coverage(supervisor, COUNTY, as_of)
                    service, raw = [], []
                    for _ in range(args.rounds):
                        service.append(timed(lambda: indicators.coverage(supervisor, COUNTY, as_of)))
                        raw.append(timed(lambda: raw_table(db, as_of)))
                    figures.append((size, statistics.median(service), statistics.median(raw)))
                    print(f"  {size:8d}  {db.records.estimated_document_count():8d}   {figures[-1][1]:9.2f}  "
                          f"{figures[-1][2]:6.2f}   {figures[-1][1] / figures[-1][2]:5.2f}   "
                          f"({table['archived']}, {table['active']}, {table['coverage_rate']})", flush=True)
        finally:
            client_for(uri).drop_database(name)

    (first, service_first, raw_first), (last, service_last, raw_last) = figures[0], figures[-1]
    print(f"  growth {first} -> {last} archives ({last / first:.0f}x): service {service_last / service_first:.1f}x, "
          f"raw {raw_last / raw_first:.1f}x")
    print("  (service = the queries plus joining archives and records by id in Python, counting per village, "
          "summing up and the rates; raw = the same queries, results fetched and dropped)")


if __name__ == "__main__":
    main()
