#!/usr/bin/env python
"""A county's paper archives brought in with `flask archives import`, timed.

    .venv/bin/python scripts/bench_import.py [N]      (N rows, default 5000)

Uses the server MONGO_URI names, else starts its own dev database (as bench_archives.py
does). It writes N believable rows of the demo county into a CSV file with Chinese
headers, then times the three steps of the command through the same functions: reading
the file, checking every row (nothing written), creating the archives; then importing the
same file again, which creates nothing. It prints each step's time and rate and the
database commands a row takes.
"""

import csv
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

from pymongo import MongoClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from healthrec import clock, create_app, crypto, demo  # noqa: E402
from healthrec.archives import legacy  # noqa: E402
from healthrec.auth import service as auth  # noqa: E402
from healthrec.db import ensure_indexes, get_db  # noqa: E402
from healthrec.ids import site_layout  # noqa: E402
from healthrec.regions import service as regions  # noqa: E402
from scripts.bench_archives import Commands, residents, start_devdb  # noqa: E402

HEADER = ("档案编号", "姓名", "性别", "出生日期", "身份证号", "建档日期", "联系电话", "现住址",
          "监护人姓名", "监护人关系", "药物过敏史", "重点人群")
RELATIONS = {"father": "父亲", "mother": "母亲"}
POPULATIONS = {english: chinese for chinese, english in legacy.POPULATIONS.items()}


def rows(people, rng):
    """The people as rows of an import file, numbered in order within each village."""
    serials: Counter = Counter()
    layout = site_layout()
    for person in people:
        village = person["village_code"]
        serials[village] += 1
        born = person["birth_date"]
        established = max(born, clock.today() - timedelta(days=rng.randint(200, 5000)))
        guardian = person.get("guardian") or {}
        populations = "、".join(POPULATIONS[flag] for flag in person["key_populations"])
        yield (layout.format(village, serials[village]), person["name"], "男" if person["sex"] == "male" else "女",
               born.isoformat(), person.get("id_card", ""), established.isoformat(), person.get("phone", ""),
               person["address"], guardian.get("name", ""), RELATIONS.get(guardian.get("relation", ""), ""),
               "、".join(person["allergies"]) or "无", populations)


def timed(step):
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    uri, stop = (os.environ["MONGO_URI"], None) if os.environ.get("MONGO_URI") else start_devdb()
    name = "bench_" + uuid.uuid4().hex[:8]
    commands = Commands()
    client: MongoClient = MongoClient(uri, event_listeners=[commands], tz_aware=True)
    folder = tempfile.mkdtemp(prefix="healthrec-bench-")
    path = Path(folder) / "archives.csv"
    try:
        app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "MONGO_URI": uri, "DB_NAME": name,
                          "KEYS": crypto.generate(), "PASSWORD_PROFILE": "cheapest"})
        app.extensions["healthrec.db"] = client[name]
        rng = random.Random(2026)
        with app.app_context():
            ensure_indexes(get_db())
            regions.import_csv("\n".join(demo.region_rows(rng)))
            auth.create_user("importer", "admin", demo.COUNTY[0], "bench-password")
            user = auth.active_user("importer")
            with path.open("w", encoding="utf-8", newline="") as file:
                writer = csv.writer(file)
                writer.writerow(HEADER)
                writer.writerows(rows(residents(count, rng), rng))

            sheet, read_seconds = timed(lambda: legacy.read(path))
            before = commands.count
            plan, check_seconds = timed(lambda: legacy.check(user, sheet))
            check_commands = (commands.count - before) / count
            before = commands.count
            _, write_seconds = timed(lambda: list(legacy.write(user, plan)))
            write_commands = (commands.count - before) / count
            assert not plan.failed, plan.failed[:3]
            again, again_seconds = timed(lambda: legacy.check(user, legacy.read(path)))
            assert not again.new and len(again.present) == count
            stored = client[name].archives.count_documents({})
        server = client.admin.command("buildInfo")
        kind = "FerretDB" if "ferretdbVersion" in server else f"MongoDB {server['version']}"
    finally:
        client.drop_database(name)
        client.close()
        path.unlink(missing_ok=True)
        os.rmdir(folder)
        if stop:
            stop()

    total = read_seconds + check_seconds + write_seconds
    print(f"healthrec import benchmark: N={count} rows on {kind}; {stored} archives stored")
    print(f"  read file     : {read_seconds:7.2f} s")
    print(f"  check rows    : {check_seconds:7.2f} s  ({count / check_seconds:7.1f} rows/s; "
          f"{check_commands:.1f} database commands per row)")
    print(f"  create        : {write_seconds:7.2f} s  ({count / write_seconds:7.1f} archives/s; "
          f"{write_commands:.1f} database commands per row)")
    print(f"  whole import  : {total:7.2f} s")
    print(f"  import again  : {again_seconds:7.2f} s  (reads and checks the file, creates nothing)")


if __name__ == "__main__":
    main()
