"""The before and after of scripts/load, straight from the database and locust's figures.

    load_check.py ids FILE                 the ids the clients may meet: what exists before the day
    load_check.py report STATS_CSV SEEN IDS  p50/p95/p99 and errors per kind; then whether every
                                           201 the clients saw is in the database and nothing else

MONGO_URI and HEALTHREC_DB_NAME name the database. Exits 1 when a created document is
missing or one exists that no client was told about (a phantom).
"""

import csv
import json
import os
import sys
from collections import defaultdict

from pymongo import MongoClient

# What a 201 creates, by the collection it lands in, and the field holding the id the
# client was given (a record is stored once per version, `<record id>.<version>`).
CREATED = {"archives": "_id", "records": "record_id", "access_requests": "_id"}


def database():
    client: MongoClient = MongoClient(os.environ["MONGO_URI"], tz_aware=True)
    return client[os.environ.get("HEALTHREC_DB_NAME", "healthrec")]


def ids_now(db):
    return {name: sorted({doc[field] for doc in db[name].find({}, {field: 1})}) for name, field in CREATED.items()}


def write_ids(path):
    with open(path, "w", encoding="utf-8") as out:
        json.dump(ids_now(database()), out)


def report(stats_csv, seen_path, before_path):
    failed = print_figures(stats_csv)
    with open(before_path, encoding="utf-8") as file:
        before = {name: set(ids) for name, ids in json.load(file).items()}
    seen = defaultdict(set)
    with open(seen_path, encoding="utf-8") as file:
        for line in file:
            name, _id = line.split()
            seen[name].add(_id)
    now = ids_now(database())
    print()
    ok = True
    for name in CREATED:
        made, told = set(now[name]) - before[name], seen[name]
        missing, phantoms = sorted(told - set(now[name])), sorted(made - told)
        print(f"{name}: {len(told)} created as clients were told (201), {len(made)} new in the database; "
              f"missing {len(missing)}, phantoms {len(phantoms)}")
        for _id in missing[:20]:
            print(f"  MISSING {_id}")
        for _id in phantoms[:20]:
            print(f"  PHANTOM {_id}")
        ok = ok and not missing and not phantoms
    print("Every 201 is in the database and nothing else is." if ok else "The database and the clients disagree.")
    return ok and not failed


def print_figures(stats_csv):
    """The table of figures per kind of request; whether any request failed."""
    with open(stats_csv, encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    print(f"{'kind':<32} {'requests':>8} {'errors':>7} {'error %':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    failed = 0
    for row in rows:
        name = "all" if row["Name"] == "Aggregated" else row["Name"]
        count, errors = int(row["Request Count"]), int(row["Failure Count"])
        rate = 100 * errors / count if count else 0.0
        print(f"{name:<32} {count:>8} {errors:>7} {rate:>7.2f} {row['50%']:>7} {row['95%']:>7} {row['99%']:>7}")
        if row["Name"] == "Aggregated":
            failed = errors
    return failed


if __name__ == "__main__":
    match sys.argv[1:]:
        case ["ids", path]:
            write_ids(path)
        case ["report", stats_csv, seen, before]:
            sys.exit(0 if report(stats_csv, seen, before) else 1)
        case _:
            sys.exit(__doc__)
