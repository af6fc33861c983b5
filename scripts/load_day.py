"""A day at the county's health archives, for locust (scripts/load runs it).

Village doctors search, read, create archives and add records; township staff go through
the review queue, decide access requests and look at their lists; supervisors look at the
indicators and ask for access. Each id a 201 answer hands out is appended to the file
HEALTHREC_LOAD_SEEN names, so scripts/load can check the database against what clients
were told. HEALTHREC_LOAD_IDS names the archives that exist before the day (written by
load_check.py). Only the app on 127.0.0.1 is ever loaded.
"""

import json
import os
import random
import uuid
from datetime import date, timedelta
from urllib.parse import urlsplit

from locust import HttpUser, between, events, task

PASSWORD = "healthrec-demo"  # noqa: S105 (the demo users' password)
COUNTY, TOWNSHIP = "411423", "411423101"
VILLAGES = {"doctor": "411423101101", "doctor2": "411423101102"}
# GB 11643: the check character of an ID-card number from the weighted sum of its first 17 digits.
WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
SURNAMES = "王李张刘陈杨赵黄周吴"
GIVEN = ["秀英", "桂兰", "建国", "志强", "玉梅", "海燕", "国华", "春生", "淑珍", "德明"]
TIMEOUT = 60  # seconds: a request still unanswered then counts as an error

with open(os.environ["HEALTHREC_LOAD_IDS"], encoding="utf-8") as ids_file:
    SEEDED = json.load(ids_file)["archives"]
seen = open(os.environ["HEALTHREC_LOAD_SEEN"], "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (open all run)


@events.test_start.add_listener
def loopback_only(environment, **_kwargs):
    if urlsplit(environment.host or "").hostname != "127.0.0.1":
        raise SystemExit(f"load_day: only the app on 127.0.0.1 is loaded, not {environment.host!r}")


def created(kind, _id):
    seen.write(f"{kind} {_id}\n")


def id_card(born, male):
    order = random.randrange(0, 500) * 2 + (1 if male else 0)
    body = f"{COUNTY}{born:%Y%m%d}{order:03d}"
    return body + CHECK[sum(int(digit) * weight for digit, weight in zip(body, WEIGHTS, strict=True)) % 11]


def new_resident(village):
    male = random.random() < 0.5
    born = date.today() - timedelta(days=random.randrange(20 * 365, 85 * 365))
    return {"village_code": village, "name": random.choice(SURNAMES) + random.choice(GIVEN),
            "sex": "male" if male else "female", "birth_date": born.isoformat(), "id_card": id_card(born, male),
            "phone": f"139{random.randrange(10**8):08d}", "address": "村里", "residence_type": "registered"}


def visit():
    day = (date.today() - timedelta(days=random.randrange(0, 30))).isoformat()
    if random.random() < 0.5:
        return {"kind": "encounter", "date": day, "subjective": "咳嗽三天", "assessment": "上呼吸道感染"}
    return {"kind": "checkup", "date": day, "symptoms": ["none"],
            "general": {"temperature": 36.5, "pulse": 76, "height": 165, "weight": 61.0,
                        "blood_pressure_left": {"systolic": 128, "diastolic": 80}},
            "evaluation": {"result": "normal"}}


class Person(HttpUser):
    abstract = True
    username = ""

    def on_start(self):
        response = self.client.post("/api/v1/auth/token", json={"username": self.username, "password": PASSWORD},
                                    name="sign-in", timeout=TIMEOUT)
        self.client.headers["Authorization"] = "Bearer " + response.json()["token"]

    def get(self, path, name, **params):
        return self.client.get(path, params=params, name=name, timeout=TIMEOUT)

    def post(self, path, body, name, **kwargs):
        return self.client.post(path, json=body, name=name, timeout=TIMEOUT, **kwargs)


class VillageDoctor(Person):
    weight = 6
    wait_time = between(1, 4)

    def on_start(self):
        self.username = random.choice(list(VILLAGES))
        self.village = VILLAGES[self.username]
        self.archives = [code for code in SEEDED if code.startswith(self.village)]
        self.made = []  # (archive id, name) this doctor created today
        super().on_start()

    @task(4)
    def search(self):
        if self.made and random.random() < 0.5:
            self.post("/api/v1/archives/search", {"name": random.choice(self.made)[1]}, "doctor: search by name")
        else:
            self.post("/api/v1/archives/search", {"village": self.village}, "doctor: village list")

    @task(6)
    def read(self):
        archive = random.choice(self.archives)
        self.get(f"/api/v1/archives/{archive}", "doctor: read archive")
        self.get(f"/api/v1/archives/{archive}/records", "doctor: timeline")

    @task(2)
    def create_archive(self):
        body = new_resident(self.village)
        with self.client.post("/api/v1/archives", json=body, name="doctor: create archive", timeout=TIMEOUT,
                              catch_response=True) as response:
            if response.status_code == 201:
                archive = response.json()["id"]
                created("archives", archive)
                self.archives.append(archive)
                self.made.append((archive, body["name"]))
            elif response.status_code == 409 and "already" in response.json().get("detail", ""):
                response.success()  # a random ID card drawn twice: the one-archive-per-card rule at work
            else:
                response.failure(f"{response.status_code} {response.text[:200]}")

    @task(4)
    def add_records(self):
        archive = random.choice(self.archives)
        # The key a clinic's client keeps for one visit: a resend saves nothing twice.
        response = self.post(f"/api/v1/archives/{archive}/records", visit(), "doctor: add record",
                             headers={"Idempotency-Key": str(uuid.uuid4())})
        if response.status_code == 201:
            created("records", response.json()["id"])

    @task(1)
    def due(self):
        self.get("/api/v1/followups/due", "doctor: due list", village=self.village)


class TownshipStaff(Person):
    weight = 2
    wait_time = between(2, 6)
    username = "township"

    @task(3)
    def review_queue(self):
        self.get("/api/v1/archives", "township: review queue", review="none")

    @task(2)
    def decide_access(self):
        pending = self.get("/api/v1/access-requests", "township: access requests", status="pending").json()
        if pending["items"]:
            request = random.choice(pending["items"])
            decision = random.choice(["approve", "reject"])
            body = {"decision": decision, "note": "用途不明确,请补充申请材料" if decision == "reject" else "同意"}
            with self.client.post(f"/api/v1/access-requests/{request['id']}/decision", json=body, timeout=TIMEOUT,
                                  name="township: access decision", catch_response=True) as response:
                if response.status_code == 409:
                    response.success()  # decided by a colleague a moment before: the answer says so

    @task(2)
    def lists(self):
        self.get("/api/v1/followups/urgent", "township: urgent list", region=TOWNSHIP)
        self.get("/api/v1/transfers", "township: transfers")


class Supervisor(Person):
    weight = 1
    wait_time = between(3, 8)
    username = "supervisor"

    @task(1)
    def indicators(self):
        self.get("/api/v1/metrics/coverage", "supervisor: indicators", region=COUNTY)

    @task(2)
    def ask_access(self):
        body = {"archive_id": random.choice(SEEDED), "purpose": "慢病管理质量抽查", "days": 7,
                "application": "县卫健局申请查阅该档案的随访记录,用于季度质量抽查。"}
        response = self.post("/api/v1/access-requests", body, "supervisor: access request")
        if response.status_code == 201:
            created("access_requests", response.json()["id"])

    @task(2)
    def own_requests(self):
        self.get("/api/v1/access-requests", "supervisor: my requests")
        self.get("/api/v1/audit/counts", "supervisor: audit counts")
