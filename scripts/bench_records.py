#!/usr/bin/env python
"""Benchmark: service records written through the service layer against raw pymongo
inserts of the same documents, and an archive's timeline read both ways.

    .venv/bin/python scripts/bench_records.py [--records 500] [--rounds 3]

Uses the server MONGO_URI names, or starts a throw-away dev database (FerretDB) the way
the tests do and stops it afterwards. Both ways run in the same process against the same
server, in alternating rounds; the figures are medians over the rounds.
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
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from healthrec import create_app, crypto  # noqa: E402
from healthrec.archives import service as archives  # noqa: E402
from healthrec.auth import service as auth  # noqa: E402
from healthrec.clock import today  # noqa: E402
from healthrec.db import client_for, ensure_indexes, get_db  # noqa: E402
from healthrec.ids import fake_id_card  # noqa: E402
from healthrec.records import reads, writes  # noqa: E402
from healthrec.regions import service as regions  # noqa: E402
from schemas.records.registry import validate_record  # noqa: E402

VILLAGE = "411423101101"
REGIONS = "411423,宁安县,,\n411423101,柳河镇,,\n411423101101,柳河村,1200,2026\n"
PAGE = 50
VISIT = 4  # forms written together at one visit: a checkup and three follow-ups, say


@contextmanager
def database():
    """The URI of MONGO_URI's server, or of a dev database started for this run."""
    if os.environ.get("MONGO_URI"):
        yield os.environ["MONGO_URI"]
        return
    # In memory like the tests' database, so the figures measure the server, not the disk.
    folder = tempfile.mkdtemp(prefix="healthrec-bench-records-", dir="/dev/shm")  # noqa: S108
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


def checkup(day):
    """A filled-in checkup form, as a village doctor sends it."""
    return {
        "kind": "checkup", "date": day.isoformat(), "symptoms": ["dizziness", "fatigue"],
        "general": {"temperature": 36.5, "pulse": 76, "respiration": 18, "height": 168, "weight": 70.5,
                    "waist": 88, "blood_pressure_left": {"systolic": 146, "diastolic": 90},
                    "blood_pressure_right": {"systolic": 142, "diastolic": 88}},
        "lifestyle": {"smoking": {"status": "current", "daily_cigarettes": 10, "start_age": 20},
                      "drinking": {"frequency": "occasional"}, "exercise": {"frequency": "weekly", "minutes": 30},
                      "diet": ["salty"]},
        "physical_findings": "双肺呼吸音清，心律齐，双下肢无水肿",
        "auxiliary": {"fasting_glucose": 6.4, "lipids": {"total_cholesterol": 5.6, "triglycerides": 1.9},
                      "ecg": "normal"},
        "health_problems": ["原发性高血压"],
        "medications": [{"name": "硝苯地平缓释片", "dose": "20mg", "usage": "每日2次", "adherence": "regular"}],
        "evaluation": {"result": "abnormal", "abnormal_items": ["血压偏高", "空腹血糖受损"]},
        "guidance": {"actions": ["chronic_disease_management"], "risk_factors": ["quit_smoking", "diet"],
                     "advice": "低盐饮食，戒烟限酒，每3个月随访"},
    }


def new_archive(user, n):
    born = date(1960, 1, 1) + timedelta(days=n)
    archive, _warnings = archives.create_archive(user, {
        "village_code": VILLAGE, "name": f"测试{n}", "sex": "male", "birth_date": born,
        "id_card": fake_id_card(random.Random(n), born, "male")})
    return archive["id"]


def timed(items, write, per_item=1):
    """Records per second writing each of `items` (a record, or a visit of `per_item`)."""
    start = time.perf_counter()
    for item in items:
        write(item)
    return len(items) * per_item / (time.perf_counter() - start)


def median_ms(action, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def timeline_reads(db, user, archive_id, args):
    """{page size: (service ms, raw ms)}, medians of `args.reads` reads of the first page."""
    query = {"archive_id": archive_id, "current": True}

    def raw_page(size):
        return list(db.records.find(query).sort([("date", -1), ("_id", -1)]).limit(size))

    def service_page(size):
        return reads.timeline(user, archive_id, per_page=size)

    assert len(service_page(PAGE)["items"]) == len(raw_page(PAGE)) == min(PAGE, args.records)
    return {size: (median_ms(lambda s=size: service_page(s), args.reads),
                   median_ms(lambda s=size: raw_page(s), args.reads)) for size in (PAGE, 200)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=500, help="records written per round and way")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reads", type=int, default=30, help="timeline reads per way")
    args = parser.parse_args()
    days = [today() - timedelta(days=n % 3000) for n in range(args.records)]

    with database() as uri:
        name = "bench_" + uuid.uuid4().hex[:10]
        app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "MONGO_URI": uri, "DB_NAME": name,
                          "KEYS": crypto.generate()})
        try:
            with app.app_context():
                db = get_db()
                ensure_indexes(db)
                regions.import_csv(REGIONS)
                user = auth.create_user("bench.doctor", "village_doctor", VILLAGE, "bench-password-1")
                forms = [validate_record(checkup(day)) for day in days]

                validation = timed(days, lambda day: validate_record(checkup(day)))

                # The timeline of an archive holding `--records` records, read while they are the
                # only records, and again once the write rounds have added the others: FerretDB
                # reads a whole collection for a sorted query, MongoDB walks the index.
                timeline_archive = new_archive(user, 0)
                writes.create_records(user, timeline_archive, forms)
                reads = {"alone": timeline_reads(db, user, timeline_archive, args)}

                # Each round writes the records one by one, then as visits of VISIT forms, each
                # into a fresh archive; raw pymongo then inserts the very documents the service
                # stored (new ids), one by one and a visit at a time.
                rates: dict[str, list[float]] = {way: [] for way in ("service", "service_visits", "raw", "raw_visits")}
                db.create_collection("raw_records")  # not on the clock: FerretDB makes a table for it
                for round_ in range(args.rounds):
                    one_by_one, by_visit = new_archive(user, 2 * round_ + 1), new_archive(user, 2 * round_ + 2)
                    rates["service"].append(
                        timed(forms, lambda form, a=one_by_one: writes.create_record(user, a, form)))
                    visits = [forms[n:n + VISIT] for n in range(0, len(forms), VISIT)]
                    rates["service_visits"].append(
                        timed(visits, lambda visit, a=by_visit: writes.create_records(user, a, visit), VISIT))
                    stored = list(db.records.find({"archive_id": one_by_one}))
                    for doc in stored:
                        doc["_id"] = f"raw-{round_}-{doc['_id']}"
                    rates["raw"].append(timed(stored, db.raw_records.insert_one))
                    for doc in stored:
                        doc["_id"] = "visit-" + doc["_id"]
                    stored_visits = [stored[n:n + VISIT] for n in range(0, len(stored), VISIT)]
                    rates["raw_visits"].append(timed(stored_visits, db.raw_records.insert_many, VISIT))
                reads["among others"] = timeline_reads(db, user, timeline_archive, args)
                total = db.records.estimated_document_count()
        finally:
            client_for(uri).drop_database(name)

    server = "MONGO_URI server" if os.environ.get("MONGO_URI") else "FerretDB dev database (SQLite)"
    rate = {way: statistics.median(values) for way, values in rates.items()}
    print(f"records benchmark on the {server}: {args.records} checkups per round and way, {args.rounds} rounds")
    print(f"  schema validation alone             {validation:8.0f} records/s")
    print(f"  service, one record per call        {rate['service']:8.0f} records/s  "
          "(scope check, seal, insert, audit entry)")
    print(f"  raw insert_one, same documents      {rate['raw']:8.0f} records/s")
    print(f"  ratio                               {rate['service'] / rate['raw']:8.2f}   (goal >= 0.5)")
    print(f"  service, visits of {VISIT} forms         {rate['service_visits']:8.0f} records/s  "
          "(one scope check, insert and audit entry per visit)")
    print(f"  ratio to raw insert_one             {rate['service_visits'] / rate['raw']:8.2f}")
    print(f"  raw insert_many, visits of {VISIT}       {rate['raw_visits']:8.0f} records/s")
    print(f"  ratio to raw insert_many            {rate['service_visits'] / rate['raw_visits']:8.2f}")
    for when, figures in reads.items():
        held = args.records if when == "alone" else total
        for size, (service_ms, raw_ms) in figures.items():
            print(f"  timeline of {args.records} records, page of {size:3d}, {held:5d} records in the collection: "
                  f"service {service_ms:6.1f} ms, raw find {raw_ms:6.1f} ms")
    print("  (medians; the service read adds the scope check, unsealing and an audit entry)")


if __name__ == "__main__":
    main()
