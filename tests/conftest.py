"""Fixtures: a real dev database (FerretDB via scripts/devdb, or MONGO_URI), a fresh
database per test, the app, its clients and login helpers."""

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from healthrec import create_app, crypto
from healthrec.auth import service as auth
from healthrec.db import client_for, close_clients, ensure_indexes, get_db
from healthrec.regions import service as regions

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"

# A small county: one urban street (001) with a residents' committee, one rural town (101)
# with two villages; the second county gives "out of scope" somewhere to be.
REGIONS = """code,name,population,year
411423,宁安县,,
411423001,城关街道,,
411423001001,东关社区,4000,2026
411423101,柳河镇,,
411423101101,柳河村,1200,2026
411423101102,前营村,800,2026
411424,平川县,,
411424101,平川镇,,
411424101101,平川村,900,2026
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DevDB:
    """The dev database the session runs on; tests may stop and start it (readiness)."""

    def __init__(self):
        self.env = dict(os.environ)
        self.external = bool(os.environ.get("MONGO_URI"))
        self.own_dir = None
        if not self.external:
            # scripts/test names the port and folder; a bare `pytest` picks its own.
            self.env.setdefault("HEALTHREC_DEVDB_PORT", str(free_port()))
            if "HEALTHREC_DEVDB_DIR" not in self.env:
                self.own_dir = tempfile.mkdtemp(prefix="healthrec-test-", dir="/dev/shm")
                self.env["HEALTHREC_DEVDB_DIR"] = self.own_dir
        self.uri = None

    def run(self, action):
        result = subprocess.run([str(ROOT / "scripts/devdb"), action], env=self.env,
                                capture_output=True, text=True, check=True)
        return result.stdout

    def start(self):
        out = self.run("start")
        self.uri = out.strip().splitlines()[-1].split("=", 1)[1]

    def stop(self):
        self.run("stop")


@pytest.fixture(scope="session")
def devdb():
    db = DevDB()
    db.start()
    yield db
    close_clients()
    db.stop()
    if db.own_dir:
        shutil.rmtree(db.own_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def keys():
    return crypto.generate()


@pytest.fixture
def app(devdb, keys):
    name = "test_" + uuid.uuid4().hex[:12]
    app = create_app({
        "ENV": "testing",
        "SECRET_KEY": "test-secret",
        "MONGO_URI": devdb.uri,
        "DB_NAME": name,
        "KEYS": keys,
        # Hundreds of logins: at the production cost they would take most of the run.
        "PASSWORD_PROFILE": "cheapest",
    })
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    with app.app_context():
        ensure_indexes(get_db())
        regions.import_csv(REGIONS)
    yield app
    client_for(devdb.uri).drop_database(name)


@pytest.fixture
def db(app):
    with app.app_context():
        yield get_db()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    def make(username, role, region, password=PASSWORD):
        with app.app_context():
            return auth.create_user(username, role, region, password)
    return make


@pytest.fixture
def login(client, make_user):
    """Create a user and return request headers carrying a fresh bearer token."""
    def log_in(role, region, username=None):
        username = username or f"{role.split('_')[0]}{region[-3:]}".lower()
        make_user(username, role, region)
        response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
        assert response.status_code == 200, response.get_json()
        return {"Authorization": "Bearer " + response.get_json()["token"]}
    return log_in
