"""The township health centre's pages through the Flask test client: the review queue,
access requests from the inbox to the printable consent record, emergency openings,
incoming referrals and the audit trail with its verification."""

import re

import pytest

from healthrec.clock import today
from schemas.archives import ArchiveChange
from tests import factories
from tests.factories import error_next_to, web_sign_in


@pytest.fixture
def staff_web(client, people):
    """The township's staff member, signed in; people["doc"] is the village's doctor."""
    people["staff"]
    web_sign_in(client, "staff")
    return client


def shown_label(app, name):
    """The label the pages show (in Chinese) for the archive field `name`."""
    with app.test_request_context():
        return str(ArchiveChange().fields[name].metadata.get("label") or name)


def test_the_review_queue_shows_what_is_missing_and_takes_a_verdict(app, staff_web, people, db):
    incomplete = factories.make_archive(staff_web, people["doc"], 0, phone=None)
    page = staff_web.get("/review").get_data(as_text=True)
    assert incomplete in page and f"尚缺: {shown_label(app, 'phone')}" in page
    refused = staff_web.post(f"/review/{incomplete}", data={"verdict": "qualified", "version": "1"})
    assert refused.status_code == 422
    assert "不能评为合格" in refused.get_data(as_text=True)
    no_note = staff_web.post(f"/review/{incomplete}", data={"verdict": "needs_correction", "version": "1"})
    assert "请写明需要村医更正的内容" in error_next_to(no_note.get_data(as_text=True), "note")
    assert db.archives.find_one({"_id": incomplete}).get("review") is None
    sent_back = staff_web.post(f"/review/{incomplete}", data={"verdict": "needs_correction", "note": "补充电话",
                                                             "version": "1"})
    assert sent_back.status_code == 302
    assert db.archives.find_one({"_id": incomplete})["review"]["verdict"] == "needs_correction"
    link = f'href="/archives/{incomplete}"'
    assert link not in staff_web.get("/review").get_data(as_text=True)
    assert link in staff_web.get("/review?show=needs_correction").get_data(as_text=True)


def test_an_access_request_from_the_inbox_to_the_consent_record(staff_web, people, db):
    archive_id = factories.make_archive(staff_web, people["doc"])
    filed = factories.file_request(staff_web, people["sup"], archive_id)
    inbox = staff_web.get("/access-requests?status=pending").get_data(as_text=True)
    assert "慢病管理质量抽查" in inbox and "待审批" in inbox
    url = f"/access-requests/{filed['id']}"
    assert staff_web.post(f"{url}/decision", data={"decision": "approve"}).status_code == 302
    witnessless = {"decision": "granted", "given_by": "guardian", "guardian_name": "赵建国", "relation": "儿子",
                   "method": "verbal_witnessed"}
    witnessed = {**witnessless, "witness": "孙丽"}
    # Who approved it does not also record the resident's answer: a colleague does.
    approver = staff_web.post(f"{url}/consent", data=witnessed).get_data(as_text=True)
    assert "须由另一位同事" in approver and db.consents.count_documents({}) == 0
    people["staff2"]
    colleague = staff_web.application.test_client()
    web_sign_in(colleague, "staff2")
    refused = colleague.post(f"{url}/consent", data=witnessless)
    assert "口头同意须填写见证人姓名" in error_next_to(refused.get_data(as_text=True), "witness")
    assert colleague.post(f"{url}/consent", data=witnessed).status_code == 302
    record = staff_web.get(url).get_data(as_text=True)
    assert "已授权" in record and "县卫健委慢病科申请查阅" in record
    assert "口头（有见证人）" in record and "见证人 孙丽" in record and "赵建国" in record
    assert db.access_requests.find_one({"_id": filed["id"]})["status"] == "active"


def test_a_requester_cannot_decide_their_own_request(staff_web, people):
    archive_id = factories.make_archive(staff_web, people["doc"])
    staff_web.post("/access-requests/new", data={"archive_id": archive_id, "purpose": "质控",
                                                 "application": "抽查", "days": "3"})
    filed = staff_web.get("/access-requests").get_data(as_text=True)
    found = re.search(r'href="/access-requests/([0-9a-f]{24})"', filed)
    assert found, "the request is not listed"
    request_id = found.group(1)
    page = staff_web.post(f"/access-requests/{request_id}/decision", data={"decision": "approve"},
                          follow_redirects=True).get_data(as_text=True)
    assert "这是您本人提交的申请" in page


def test_emergency_openings_are_reviewed(client, staff_web, people, db):
    archive_id = factories.make_archive(client, people["doc"])
    opened = client.post(f"/api/v1/archives/{archive_id}/break-glass", headers=people["urban_doc"],
                         json={"reason": "车祸昏迷，急需既往史"})
    assert opened.status_code == 201
    queue = staff_web.get("/break-glass").get_data(as_text=True)
    assert "车祸昏迷" in queue and "urban_doc" in queue
    opening = opened.get_json()["id"]
    assert staff_web.post(f"/break-glass/{opening}/acknowledge", data={"note": "已核实"}).status_code == 302
    assert db.break_glass.find_one({"_id": opening})["status"] == "acknowledged"


def test_an_archive_outside_ones_region_offers_a_request_and_an_emergency_opening(client, people, db):
    archive_id = factories.make_archive(client, people["doc"])
    people["doc2"]
    web_sign_in(client, "doc2")
    page = client.get(f"/archives/{archive_id}")
    assert page.status_code == 404
    assert "不在您的辖区内" in page.get_data(as_text=True) and "李秀英" not in page.get_data(as_text=True)
    # A code nobody holds gets the same page (but for the emergency form's own key).
    missing = client.get(f"/archives/{factories.code(9999)}").get_data(as_text=True)
    key = re.compile(r'name="Idempotency-Key" value="[^"]+"')
    assert key.sub("", missing) == key.sub("", page.get_data(as_text=True).replace(archive_id, factories.code(9999)))
    short = client.post(f"/archives/{archive_id}/break-glass", data={"reason": "急"})
    assert short.status_code == 404 and error_next_to(short.get_data(as_text=True), "reason")
    opened = client.post(f"/archives/{archive_id}/break-glass", data={"reason": "车祸昏迷，急需既往史"})
    assert opened.status_code == 302
    assert "李秀英" in client.get(f"/archives/{archive_id}").get_data(as_text=True)


def test_another_countys_archive_cannot_be_opened_in_an_emergency(client, people, db):
    archive_id = factories.make_archive(client, people["doc"])
    people["far"]
    web_sign_in(client, "far")
    refused = client.post(f"/archives/{archive_id}/break-glass", data={"reason": "车祸昏迷，急需既往史"},
                          follow_redirects=True)
    assert refused.status_code == 404 and "紧急调阅只限本县的档案" in refused.get_data(as_text=True)
    assert db.break_glass.count_documents({}) == 0


def test_the_start_pages_tell_of_a_clinician_near_the_days_limit(app, client, people):
    app.config["BREAK_GLASS_PER_DAY"] = 2
    archive_id = factories.make_archive(client, people["doc"])
    assert client.post(f"/api/v1/archives/{archive_id}/break-glass", headers=people["doc2"],
                       json={"reason": "车祸昏迷，急需既往史"}).status_code == 201
    people["staff"], people["sup"]
    expected = f"doc2 于 {today().isoformat()} 已紧急调阅 1 次，每日最多 2 次。"
    people["town2"]
    for who, told in (("staff", True), ("sup", True), ("town2", False)):
        browser = app.test_client()
        web_sign_in(browser, who)
        assert (expected in browser.get("/").get_data(as_text=True)) is told, who


def test_incoming_referrals_are_received(staff_web, people, db):
    archive_id = factories.make_archive(staff_web, people["doc"])
    referral = factories.make_record(staff_web, people["doc"], archive_id, factories.record_body("referral"))
    page = staff_web.get("/referrals").get_data(as_text=True)
    assert "柳河村卫生室 → 柳河镇卫生院" in page
    assert staff_web.post(f"/referrals/{archive_id}/{referral['id']}/receive").status_code == 302
    assert "柳河村卫生室" in staff_web.get("/referrals?status=received").get_data(as_text=True)
    assert db.records.find_one({"record_id": referral["id"], "current": True})["status"] == "received"


def test_the_audit_trail_and_its_verification(staff_web, people):
    factories.make_archive(staff_web, people["doc"])
    page = staff_web.get("/audit/verify").get_data(as_text=True)
    assert "日志链完整" in page and "建立档案" in page


def test_village_doctors_see_no_audit_trail(client, people):
    people["doc"]
    web_sign_in(client, "doc")
    response = client.get("/audit")
    assert response.status_code == 403 and "审计日志由乡镇卫生院保管" in response.get_data(as_text=True)


def test_township_home_lists_the_work_waiting(staff_web, people):
    archive_id = factories.make_archive(staff_web, people["doc"])
    page = staff_web.get("/").get_data(as_text=True)
    assert "已登录：staff（乡镇卫生院工作人员）· 柳河镇" in page and archive_id in page and "份档案待审核" in page


@pytest.mark.parametrize("role,region", [("village_doctor", factories.VILLAGE), ("township_staff", factories.TOWNSHIP),
                                         ("supervisor", factories.COUNTY), ("admin", factories.COUNTY)])
def test_every_page_of_the_menu_says_who_and_where(client, make_user, role, region):
    make_user("someone", role, region)
    web_sign_in(client, "someone")
    home = client.get("/").get_data(as_text=True)
    menu = re.findall(r'<li><a href="(/[^"]*)"', home)
    assert menu
    for path in menu:
        response = client.get(path)
        assert response.status_code == 200, path
        assert "已登录：someone" in response.get_data(as_text=True), path


def test_a_transfer_asked_for_by_the_receiving_side_and_confirmed(client, people, db):
    """doc2 (前营村) asks for the archive of a resident who moved from 柳河村; its township confirms."""
    archive_id = factories.make_archive(client, people["doc"])
    people["doc2"], people["staff"]
    web_sign_in(client, "doc2")
    assert "申请迁入档案" in client.get(f"/archives/{archive_id}").get_data(as_text=True)
    url = f"/archives/{archive_id}/transfer"
    future = client.post(url, data={"to_village": factories.NEIGHBOUR, "reason": "婚嫁迁入",
                                    "moved_on": factories.days_ago(-3)})
    assert "迁入日期晚于今天" in error_next_to(future.get_data(as_text=True), "moved_on")
    assert client.post(url, data={"to_village": factories.NEIGHBOUR, "reason": "婚嫁迁入",
                                  "moved_on": factories.days_ago(3)}).status_code == 302
    web_sign_in(client, "staff")
    page = client.get("/transfers?direction=outgoing").get_data(as_text=True)
    assert "柳河村 → 前营村" in page and "待处理" in page
    transfer_id = db.transfers.find_one({"archive_id": archive_id})["_id"]
    refused = client.post(f"/transfers/{transfer_id}/decision", data={"decision": "refuse"})
    assert "请写明拒绝迁档的理由" in error_next_to(refused.get_data(as_text=True), "note")
    assert client.post(f"/transfers/{transfer_id}/decision", data={"decision": "confirm"}).status_code == 302
    assert db.archives.find_one({"_id": archive_id})["village"] == factories.NEIGHBOUR


@pytest.mark.parametrize(("who", "page", "form", "data", "collection"), [
    ("sup", "/access-requests/new?archive_id={archive}", "/access-requests/new",
     {"purpose": "质控", "application": "抽查", "days": "3"}, "access_requests"),
    ("urban_doc", "/archives/{archive}", "/archives/{archive}/break-glass", {"reason": "车祸昏迷，急需既往史"},
     "break_glass"),
    ("doc2", "/archives/{archive}/transfer", "/archives/{archive}/transfer",
     {"to_village": factories.NEIGHBOUR, "reason": "婚嫁迁入", "moved_on": factories.days_ago(3)}, "transfers"),
])
def test_a_form_sent_twice_creates_once(client, people, db, who, page, form, data, collection):
    archive_id = factories.make_archive(client, people["doc"])
    people[who]
    web_sign_in(client, who)
    shown = client.get(page.format(archive=archive_id)).get_data(as_text=True)
    found = re.search(r'name="Idempotency-Key" value="([^"]+)"', shown)
    assert found, "the form carries no Idempotency-Key"
    sent = {**data, "archive_id": archive_id, "Idempotency-Key": found.group(1)}
    first = client.post(form.format(archive=archive_id), data=sent)
    assert first.status_code == 302, first.get_data(as_text=True)
    # The answer was lost on the way; the same page is sent again.
    again = client.post(form.format(archive=archive_id), data=sent)
    assert again.status_code == 302 and again.headers["Location"] == first.headers["Location"]
    assert db[collection].count_documents({}) == 1
