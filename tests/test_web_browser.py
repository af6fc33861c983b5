"""Journeys through the pages in a real browser: Debian's Chromium, driven by Playwright,
against the app served by a real WSGI server on a loopback port, on the same dev
database as every other test. A village doctor on a phone with JavaScript off, and the
township health centre on a desktop screen; a screenshot of each journey is saved
under test-artifacts/."""

import re
import shutil
import tempfile
import threading
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from tests import factories
from tests.factories import PASSWORD, VILLAGE

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium calls home, which a closed network refuses.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PHONE = {"width": 360, "height": 740}
CJK = re.compile(r"[\u4e00-\u9fff]")


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


class Site:
    """A WSGI server on a free loopback port that serves whichever app a test hands it."""

    def __init__(self):
        self.app: Flask | None = None
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __call__(self, environ, start_response):
        assert self.app is not None, "no test is using the site"
        return self.app(environ, start_response)


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


def sign_in(page, username):
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def fits(page, width):
    """Nothing on the page is wider than the screen (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth") <= width


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def test_village_doctor_on_a_phone_without_javascript(web, tab, browser, make_user, db):
    make_user("doctor", "village_doctor", VILLAGE)
    tab.set_viewport_size(PHONE)
    browser.new_cdp_session(tab).send("Emulation.setScriptExecutionDisabled", {"value": True})

    # Asked for a page before signing in: back to it after.
    tab.goto(f"{web}/archives/new")
    expect(tab.locator("h1")).to_have_text("登录")
    sign_in(tab, "doctor")
    expect(tab.locator("h1")).to_have_text("新建档案：个人基本信息")
    expect(tab.locator("#signed-in")).to_contain_text("doctor（村医）· 柳河村")
    id_card_label = tab.locator('label[for="f-id_card"]').inner_text()
    assert CJK.search(id_card_label), f"the ID card's label is not Chinese: {id_card_label!r}"

    resident = factories.resident()
    card = resident["id_card"]
    wrong = card[:17] + ("1" if card[17] != "1" else "2")
    tab.locator("#f-name").fill(resident["name"])
    tab.locator('input[name="sex"][value="female"]').check()
    tab.locator("#f-birth_date").fill(resident["birth_date"])
    tab.locator("#f-id_card").fill(wrong)
    tab.locator("#f-phone").fill(resident["phone"])
    tab.locator("#f-address").fill(resident["address"])
    tab.locator("#f-family_history > summary").click()
    tab.locator('input[name="family_history.none"]').check()
    tab.locator("#f-past_history > summary").click()
    tab.locator('input[name="past_history.none"]').check()
    tab.locator("#f-allergies").fill("青霉素")
    tab.locator('input[name="enrolment_consent.given_by"][value="self"]').check()
    tab.locator('input[name="enrolment_consent.method"][value="signature"]').check()
    tab.locator("#f-id_card").press("Enter")  # sends the form, not a row's "add a row"

    expect(tab.locator("#f-id_card-error")).to_contain_text("校验位")
    expect(tab.locator("#error-summary")).to_contain_text("校验位")
    assert db.archives.count_documents({}) == 0
    assert fits(tab, PHONE["width"])
    screenshot(tab, "village-doctor-id-card-error")

    tab.locator("#f-id_card").fill(card)
    tab.get_by_role("button", name="建立档案").click()
    expect(tab.locator(".flash.success")).to_contain_text("已建立")
    archive_id = tab.url.rsplit("/", 1)[1]

    tab.locator('input[name="form"][value="followup.hypertension"]').check()
    tab.get_by_role("button", name="填写表单").click()
    tab.locator('input[name="records.0.method"][value="home"]').check()
    tab.locator("#f-records-0-blood_pressure-systolic").fill("146")
    tab.locator("#f-records-0-blood_pressure-diastolic").fill("92")
    tab.locator('input[name="records.0.adherence"][value="regular"]').check()
    tab.locator('input[name="records.0.control"][value="unsatisfactory"]').check()
    tab.get_by_role("button", name="保存本次服务").click()

    expect(tab.locator(".flash.success")).to_contain_text("已保存")
    timeline = tab.locator("#timeline + ul")
    expect(timeline).to_contain_text("随访")
    expect(timeline).to_contain_text("146")
    assert tab.url.endswith(f"/archives/{archive_id}")
    assert db.records.count_documents({"archive_id": archive_id, "population": "hypertension"}) == 1
    assert fits(tab, PHONE["width"])
    screenshot(tab, "village-doctor-archive")


def test_township_reviews_and_grants_access_with_consent(web, tab, client, people, db):
    archive_id = factories.make_archive(client, people["doc"])
    filed = factories.file_request(client, people["sup"], archive_id)
    people["staff"]
    tab.set_viewport_size({"width": 1024, "height": 768})

    tab.goto(web)
    sign_in(tab, "staff")
    expect(tab.locator("#signed-in")).to_contain_text("staff（乡镇卫生院工作人员）· 柳河镇")
    tab.get_by_role("link", name="审核", exact=True).click()
    queue = tab.locator("section", has=tab.locator(f'a[href="/archives/{archive_id}"]'))
    expect(queue).to_contain_text("李秀英")
    queue.locator('input[name="verdict"][value="qualified"]').check()
    queue.get_by_role("button", name="保存审核结果").click()
    expect(tab.locator(".flash.success")).to_contain_text("审核结果已保存")
    assert db.archives.find_one({"_id": archive_id})["review"]["verdict"] == "qualified"

    tab.get_by_role("link", name="查阅申请").click()
    tab.get_by_role("link", name="慢病管理质量抽查").click()
    tab.locator('input[name="decision"][value="approve"]').check()
    tab.get_by_role("button", name="保存审批结果").click()
    expect(tab.locator("#request-status")).to_have_text("待本人同意")
    # The resident's answer is recorded by a colleague of the one who approved (four eyes).
    request_page = tab.url
    people["staff2"]
    tab.get_by_role("button", name="退出").click()
    sign_in(tab, "staff2")
    tab.goto(request_page)
    tab.locator('input[name="decision"][value="granted"]').check()
    tab.locator('input[name="given_by"][value="guardian"]').check()
    tab.locator("#f-guardian_name").fill("赵建国")
    tab.locator("#f-relation").fill("儿子")
    tab.locator('input[name="method"][value="verbal_witnessed"]').check()
    tab.get_by_role("button", name="登记答复").click()
    expect(tab.locator("#f-witness-error")).to_have_text("口头同意须填写见证人姓名。")
    tab.locator("#f-witness").fill("孙丽")
    tab.get_by_role("button", name="登记答复").click()

    expect(tab.locator("#request-status")).to_have_text("已授权")
    expect(tab.locator("article")).to_contain_text("见证人 孙丽")
    assert db.access_requests.find_one({"_id": filed["id"]})["status"] == "active"
    tab.emulate_media(media="print")
    expect(tab.locator("nav")).to_be_hidden()
    screenshot(tab, "township-consent-record")
