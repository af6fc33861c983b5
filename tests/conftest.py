"""Fixtures: a real dev database (FerretDB on PostgreSQL or SQLite via scripts/devdb, or
MONGO_URI), a fresh database per test, the app and its clients, and the people and archive most tests start
from. What they are made of lives in factories.py. After the whole run, the no-plaintext
proof (plaintext.py) fails it if any test's database or any log line held a personal value
in clear."""

import functools
import logging
import shutil
import uuid

import pytest

from healthrec import create_app, crypto
from healthrec.db import client_for, close_clients, ensure_indexes, get_db
from healthrec.regions import service as regions
from tests import factories, plaintext
from tests.devdb import DevDB


def pytest_configure(config):
    logging.getLogger().addHandler(plaintext.log)


def pytest_sessionfinish(session, exitstatus):
    logging.getLogger().removeHandler(plaintext.log)
    plaintext.scan_log()
    if plaintext.findings:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.section("personal values in clear", red=True)
        for line in plaintext.findings:
            reporter.write_line(line)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


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
def app(request, devdb, keys):
    """The app on a fresh database; `indirect` parametrisation overrides settings."""
    name = "test_" + uuid.uuid4().hex[:12]
    app = create_app({
        "ENV": "testing",
        "SECRET_KEY": "test-secret",
        "MONGO_URI": devdb.uri,
        "DB_NAME": name,
        "KEYS": keys,
        # Hundreds of logins: at the production cost they would take most of the run.
        "PASSWORD_PROFILE": "cheapest",
        # Regions read afresh, and mergers without their wait; tests of the cache ask for it.
        "REGIONS_CACHE_SECONDS": 0,
        **getattr(request, "param", {}),
    })
    app.config.update(TESTING=True, WTF_CSRF_ENABLED=False)
    with app.app_context():
        ensure_indexes(get_db())
        regions.import_csv(factories.REGIONS)
    yield app
    plaintext.scan_database(client_for(devdb.uri)[name], request.node.nodeid)
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
    """make_user(username, role, region, password=PASSWORD): the new user."""
    return functools.partial(factories.make_user, app)


@pytest.fixture
def login(client, make_user):
    """login(role, region, username=None): a new user's bearer headers; the name defaults
    to role and region (village101, township101, supervisor423…)."""
    def log_in(role, region, username=None):
        username = username or factories.username_for(role, region)
        make_user(username, role, region)
        return factories.bearer(client, username)
    return log_in


@pytest.fixture
def doctor(login):
    """The village doctor of VILLAGE, village101."""
    return login("village_doctor", factories.VILLAGE)


@pytest.fixture
def township(login):
    """Staff of VILLAGE's township health centre, township101."""
    return login("township_staff", factories.TOWNSHIP)


@pytest.fixture
def people(login):
    """Bearer headers of factories.CAST by name; each user is made on first use."""
    class People(dict):
        def __missing__(self, name):
            role, region = factories.CAST[name]
            self[name] = login(role, region, name)
            return self[name]
    return People()


@pytest.fixture
def archive_id(client, doctor):
    """An archive in VILLAGE made by its doctor: resident 0 of factories.resident."""
    return factories.make_archive(client, doctor)
