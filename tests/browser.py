"""What the browser tests share: Debian's Chromium driven by Playwright (never
`playwright install`), a real WSGI server on a loopback port serving the test's app, and
the steps every journey takes. The fixtures over these live in conftest.py."""

import re
import threading
from pathlib import Path

from flask import Flask
from werkzeug.serving import make_server

from tests.factories import PASSWORD

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium calls home, which a closed network refuses.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PHONE = {"width": 360, "height": 740}
CJK = re.compile(r"[\u4e00-\u9fff]")


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


def sign_in(page, username):
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def no_javascript(browser, page):
    browser.new_cdp_session(page).send("Emulation.setScriptExecutionDisabled", {"value": True})


def fits(page, width):
    """Nothing on the page is wider than the screen (no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth") <= width


def screenshot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
