"""A county supervisor's pages through the Flask test client: the start page with the
archives readable now and their own requests by state, the request form refusing bad
input in Chinese next to each field, and an archive read under a grant saying so."""

import re
from datetime import UTC, timedelta

import pytest

from healthrec.clock import local, today
from tests import factories
from tests.factories import error_next_to, web_sign_in
from tests.querycheck import unsupported, watched

CJK = re.compile(r"[\u4e00-\u9fff]")




@pytest.fixture
def supervisor_web(client, people):
    """The county supervisor, signed in; people["doc"] and people["staff"] serve the village."""
    people["sup"]
    web_sign_in(client, "sup")
    return client


def test_the_start_page_lists_readable_archives_and_requests_by_state(supervisor_web, people):
    readable = factories.make_archive(supervisor_web, people["doc"], 0)
    waiting = factories.make_archive(supervisor_web, people["doc"], 1)
    grant = factories.granted(supervisor_web, people, readable)
    factories.file_request(supervisor_web, people["sup"], waiting, purpose="孕产妇管理抽查")
    home = supervisor_web.get("/").get_data(as_text=True)
    mine = home[home.index('id="mine"'):]
    now_readable = home[home.index('id="readable"'):home.index('id="mine"')]
    assert f'href="/archives/{readable}"' in now_readable and waiting not in now_readable
    assert re.search(r"已授权，有效至 \d{4}-\d\d-\d\d \d\d:\d\d", now_readable)
    assert "孕产妇管理抽查" in mine and "待审批" in mine and "全部申请（2）" in mine
    assert 'href="/access-requests/new"' in home
    assert f'href="/access-requests/{grant["id"]}"' in mine


def test_an_approved_request_waits_for_consent_and_a_rejected_one_says_so(supervisor_web, people):
    first = factories.make_archive(supervisor_web, people["doc"], 0)
    second = factories.make_archive(supervisor_web, people["doc"], 1)
    approved = factories.file_request(supervisor_web, people["sup"], first)
    factories.approve(supervisor_web, people["staff"], approved["id"])
    rejected = factories.file_request(supervisor_web, people["sup"], second, purpose="随访质量抽查")
    factories.step(supervisor_web, people["staff"], rejected["id"], "decision",
                   {"decision": "reject", "note": "请说明抽查范围"})
    listed = supervisor_web.get("/access-requests").get_data(as_text=True)
    assert "已批准，待本人同意" in listed and "已驳回" in listed
    assert f'href="/archives/{first}"' not in listed  # not readable before the resident consents


@pytest.mark.parametrize("form,field", [
    ({"purpose": "  ", "application": "抽查高血压随访", "days": "7"}, "purpose"),
    ({"purpose": "质控", "application": "", "days": "7"}, "application"),
    ({"purpose": "质控", "application": "抽查高血压随访", "days": "0"}, "days"),
    ({"purpose": "质控", "application": "抽查高血压随访", "days": "七天"}, "days"),
    ({"purpose": "质控", "application": "抽查高血压随访", "days": "31"}, "days"),
])
def test_bad_input_on_the_request_form_is_refused_in_chinese_and_nothing_is_written(
        supervisor_web, people, db, form, field):
    archive_id = factories.make_archive(supervisor_web, people["doc"])
    response = supervisor_web.post("/access-requests/new", data={"archive_id": archive_id, **form})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert CJK.search(error_next_to(page, field)), error_next_to(page, field)
    assert 'id="error-summary"' in page
    assert db.access_requests.count_documents({}) == 0
    assert db.audit.count_documents({"action": "access.request"}) == 0


def test_an_unknown_archive_is_refused_next_to_its_code(supervisor_web, db):
    response = supervisor_web.post("/access-requests/new", data={
        "archive_id": factories.code(9999), "purpose": "质控", "application": "抽查", "days": "7"})
    assert response.status_code == 422
    assert "没有编号为" in error_next_to(response.get_data(as_text=True), "archive_id")
    assert db.access_requests.count_documents({}) == 0


def test_an_archive_read_under_a_grant_names_the_request_and_its_end(supervisor_web, people, db):
    archive_id = factories.make_archive(supervisor_web, people["doc"])
    grant = factories.granted(supervisor_web, people, archive_id)
    page = supervisor_web.get(f"/archives/{archive_id}").get_data(as_text=True)
    banner = re.search(r'<p class="flash warning" id="grant-banner"[^>]*>(.*?)</p>', page, re.S)
    assert banner, "no banner"
    until = db.access_requests.find_one({"_id": grant["id"]})["valid_until"].replace(tzinfo=UTC)
    assert grant["id"] in banner.group(1) and "慢病管理质量抽查" in banner.group(1)
    assert f"有效至 {local(until):%Y-%m-%d %H:%M}" in banner.group(1)
    assert "李秀英" in page
    assert db.audit.count_documents({"action": "archive.read", "archive_id": archive_id, "actor": "sup",
                                     "grant": grant["id"]}) == 1


def test_a_checker_of_a_verification_sample_reads_under_it_until_its_last_day(supervisor_web, people):
    archive_id = factories.make_archive(supervisor_web, people["doc"])
    due = today() + timedelta(days=2)
    sample = factories.draw_sample(supervisor_web, people["sup"], factories.VILLAGE, 1, due=due.isoformat())
    assert sample["archives"] == [archive_id]
    page = supervisor_web.get(f"/archives/{archive_id}").get_data(as_text=True)
    banner = re.search(r'id="grant-banner"[^>]*>(.*?)</p>', page, re.S)
    assert banner, "no banner"
    assert sample["id"] in banner.group(1) and "核查抽样" in banner.group(1)
    assert f"有效至 {due + timedelta(days=1)} 00:00" in banner.group(1)


def test_within_ones_region_no_banner(client, people):
    archive_id = factories.make_archive(client, people["doc"])
    people["staff"]
    web_sign_in(client, "staff")
    page = client.get(f"/archives/{archive_id}").get_data(as_text=True)
    assert "李秀英" in page and 'id="grant-banner"' not in page


def test_every_query_of_the_supervisor_pages_has_a_supporting_index(app, devdb, supervisor_web, people):
    archive_id = factories.make_archive(supervisor_web, people["doc"])
    grant = factories.granted(supervisor_web, people, archive_id)
    ours = ("access_requests", "access_events", "break_glass", "samples", "consents")
    with watched(app, devdb) as listener:
        for path in ("/", "/access-requests", "/access-requests?status=active", f"/access-requests/{grant['id']}",
                     f"/archives/{archive_id}"):
            assert supervisor_web.get(path).status_code == 200, path
    assert {collection for collection, _q, _s in listener.shapes(ours)} >= {"access_requests", "consents"}
    assert unsupported(listener, ours) == []
