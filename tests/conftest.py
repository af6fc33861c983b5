"""Fixtures: a real dev database (FerretDB on PostgreSQL or SQLite via scripts/devdb, or
MONGO_URI), a fresh database per test, the app and its clients, and the people and archive most tests start
from; a real Chromium and a served app for the browser tests. What they are made of lives
in factories.py and browser.py. After the whole run, the no-plaintext proof (plaintext.py)
fails it if any test's database or any log line held a personal value in clear."""

import functools
import logging
import shutil
import tempfile

import pytest
from playwright.sync_api import sync_playwright

from healthrec import crypto
from healthrec.db import client_for, close_clients, get_db
from tests import factories, plaintext
from tests.browser import CHROMIUM, FLAGS, Site
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
    app = factories.fresh_app(devdb.uri, keys, **getattr(request, "param", {}))
    yield app
    plaintext.scan_database(client_for(devdb.uri)[app.config["DB_NAME"]], request.node.nodeid)
    client_for(devdb.uri).drop_database(app.config["DB_NAME"])


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


# --- Browser tests ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole session, on a fresh profile."""
    profile = tempfile.mkdtemp(prefix="healthrec-chromium-")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS, locale="en-US")
        context.set_default_timeout(15_000)
        yield context
        context.close()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def site():
    served = Site()
    yield served
    served.server.shutdown()


@pytest.fixture
def web(site, app):
    """The base URL of the test's app, with CSRF protection on as in production."""
    app.config["WTF_CSRF_ENABLED"] = True
    site.app = app
    yield site.url
    site.app = None


@pytest.fixture
def tab(browser):
    """A new tab with no one signed in."""
    browser.clear_cookies()
    page = browser.new_page()
    yield page
    page.close()
