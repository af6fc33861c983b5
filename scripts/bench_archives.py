#!/usr/bin/env python
"""Archive creation through the service layer against plain inserts, on the same server.

    .venv/bin/python scripts/bench_archives.py [N]      (N archives, default 500)

Uses the server MONGO_URI names, else starts its own dev database (FerretDB, scripts/devdb)
in a temporary folder (TMPDIR picks where: a RAM disk gives the figures the tests see) and
stops it afterwards. It creates N believable archives through
the archives service (checks, ID-card claim, numbering, field encryption, audit entry),
then inserts N plain documents of the same size with raw pymongo, and prints both rates,
their ratio (goal >= 0.5), the database commands each archive takes, and what encrypting
and decrypting one field costs.
"""

import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import bson
from pymongo import MongoClient, monitoring

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from healthrec import create_app, crypto, demo  # noqa: E402
from healthrec.archives import service  # noqa: E402
from healthrec.auth.roles import TOWNSHIP_STAFF  # noqa: E402
from healthrec.auth.user import User  # noqa: E402
from healthrec.db import ensure_indexes, get_db  # noqa: E402
from healthrec.regions import service as regions  # noqa: E402


class Commands(monitoring.CommandListener):
    """Counts the commands the app sends."""

    def __init__(self):
        self.count = 0

    def started(self, event):
        self.count += 1

    def succeeded(self, event):
        pass

    def failed(self, event):
        pass


def start_devdb():
    """A fresh FerretDB on a free port in a temporary folder; (uri, stop)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tempfile.mkdtemp(prefix="healthrec-bench-")
    env = {**os.environ, "HEALTHREC_DEVDB_PORT": str(port), "HEALTHREC_DEVDB_DIR": folder}
    devdb = str(ROOT / "scripts" / "devdb")
    out = subprocess.run([devdb, "start"], env=env, capture_output=True, text=True, check=True).stdout

    def stop():
        subprocess.run([devdb, "stop"], env=env, check=True)
        shutil.rmtree(folder, ignore_errors=True)

    return out.strip().splitlines()[-1].split("=", 1)[1], stop


def residents(count, rng):
    """`count` made-up residents of the demo township 柳河镇 with distinct ID cards."""
    places = list(demo.villages([demo.TOWNSHIPS[1]]))
    people: list[dict] = []
    cards: set[str] = set()
    while len(people) < count:
        _township, village, name, kind = rng.choice(places)
        person = demo.resident(rng, village, name, kind, None)
        if person.get("id_card") not in cards:
            cards.add(person.get("id_card"))
            people.append(person)
    return people


def through_service(app, people):
    actor = User({"_id": "bench", "role": TOWNSHIP_STAFF, "region": demo.COUNTY[0] + demo.TOWNSHIPS[1][0]})
    with app.app_context():
        started = time.perf_counter()
        for person in people:
            service.create_archive(actor, person)
        return time.perf_counter() - started


def plain_documents(people, size):
    """The residents as plain documents padded to `size` BSON bytes each."""
    docs = []
    for person in people:
        doc = {**person, "birth_date": person["birth_date"].isoformat(), "pad": ""}
        doc["pad"] = "x" * max(0, size - len(bson.encode(doc)))
        docs.append(doc)
    return docs


def with_raw_pymongo(collection, docs):
    started = time.perf_counter()
    for doc in docs:
        collection.insert_one(doc)
    return time.perf_counter() - started


def seal_cost(ring, value, field, rounds=20000):
    """Microseconds to encrypt and decrypt `value` once."""
    started = time.perf_counter()
    for _ in range(rounds):
        ring.unseal(ring.seal(value, "4114231011010001", field), "4114231011010001", field)
    return (time.perf_counter() - started) / rounds * 1e6


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    uri, stop = (os.environ["MONGO_URI"], None) if os.environ.get("MONGO_URI") else start_devdb()
    name = "bench_" + uuid.uuid4().hex[:8]
    commands = Commands()
    client: MongoClient = MongoClient(uri, event_listeners=[commands], tz_aware=True)
    try:
        app = create_app({"ENV": "testing", "SECRET_KEY": "bench", "MONGO_URI": uri, "DB_NAME": name,
                          "KEYS": crypto.generate()})
        app.extensions["healthrec.db"] = client[name]
        rng = random.Random(2026)
        with app.app_context():
            ensure_indexes(get_db())
            regions.import_csv("\n".join(demo.region_rows(rng)))
        people = residents(count, rng)

        before = commands.count
        service_seconds = through_service(app, people)
        per_archive = (commands.count - before) / count
        stored = list(client[name].archives.find())
        size = sum(len(bson.encode(doc)) for doc in stored) // len(stored)
        sealed = sum(crypto.is_sealed(value) for doc in stored for value in doc.values()) / len(stored)
        raw_seconds = with_raw_pymongo(client[name].plain, plain_documents(people, size))

        ring = app.extensions["healthrec.keys"]
        sample = next(person for person in people if person["past_history"])
        server = client.admin.command("buildInfo")
        kind = "FerretDB" if "ferretdbVersion" in server else f"MongoDB {server['version']}"
    finally:
        client.drop_database(name)
        client.close()
        if stop:
            stop()

    service_rate, raw_rate = count / service_seconds, count / raw_seconds
    ratio = service_rate / raw_rate
    print(f"healthrec archive benchmark: N={count} on {kind}")
    print(f"  service layer : {service_rate:8.1f} archives/s  ({service_seconds:.2f} s; "
          f"{per_archive:.1f} database commands per archive)")
    print(f"  raw pymongo   : {raw_rate:8.1f} documents/s ({raw_seconds:.2f} s; insert_one of {size} bytes each)")
    print(f"  ratio         : {ratio:8.2f}  (goal >= 0.5: {'met' if ratio >= 0.5 else 'not met'}; "
          f"{per_archive:.0f} commands where the plain insert sends 1 bound it near {1 / per_archive:.2f})")
    costs = {field: seal_cost(ring, sample[field], field) for field in ("name", "address", "past_history")}
    for field, cost in costs.items():
        print(f"  seal+unseal   : {cost:8.1f} µs per field ({field}, {len(str(sample[field]).encode())} bytes)")
    crypto_ms = sealed * max(costs.values()) / 1000
    print(f"  encryption    : {sealed:.1f} sealed fields per archive, at most {crypto_ms:.2f} ms of the "
          f"{service_seconds / count * 1000:.2f} ms each archive takes")

if __name__ == "__main__":
    main()
