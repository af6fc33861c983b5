"""The village doctor's pages through the Flask test client: home, search, a new archive
with its errors in Chinese next to their fields, the archive page, a visit saved once,
a record corrected, an archive closed; CSRF and an expired session."""

import re
import uuid
from datetime import timedelta

import pytest
from pymongo.errors import AutoReconnect

from healthrec.archives import service
from healthrec.clock import today
from tests import factories
from tests.factories import PASSWORD, VILLAGE, error_next_to


def sign_in(client, make_user, username="liu.doctor", role="village_doctor", region=VILLAGE):
    make_user(username, role, region)
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)


def form_of(resident):
    """An archive body as the new-archive form sends it (dotted field names)."""
    data = {key: value for key, value in resident.items() if isinstance(value, str)}
    data["family_history.0.relation"] = "father"
    data["family_history.0.condition"] = "高血压"
    data["past_history.none"] = "1"
    data["allergies.none"] = "1"
    return data



@pytest.fixture
def doctor_web(client, make_user):
    sign_in(client, make_user)
    return client


def test_chinese_whatever_the_browser_asks_for(client):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert "登录" in page and "用户名" in page


def test_home_says_who_and_where_and_what_is_due(doctor_web, db):
    factories.make_archive(doctor_web, factories.bearer(doctor_web, "liu.doctor"), 0,
                           key_populations=["hypertension"])
    page = doctor_web.get("/").get_data(as_text=True)
    assert "已登录：liu.doctor（村医）· 柳河村" in page
    assert "李秀英" in page  # a recent archive, and due for a hypertension follow-up
    assert "从未随访" in page


def test_a_danger_value_is_urgent_on_the_home_page(doctor_web):
    headers = factories.bearer(doctor_web, "liu.doctor")
    archive_id = factories.make_archive(doctor_web, headers, 0, key_populations=["hypertension"])
    danger = factories.hypertension(factories.days_ago(1), blood_pressure={"systolic": 186, "diastolic": 100},
                                    control="unsatisfactory")
    url = f"/archives/{archive_id}/visit?form=followup.hypertension"
    form = {f"records.0.{name}": str(value) for name, value in danger.items() if not isinstance(value, dict)}
    form.update({"records.0.blood_pressure.systolic": "186", "records.0.blood_pressure.diastolic": "100",
                 "Idempotency-Key": "visit-1"})
    saved = doctor_web.post(url, data=form, follow_redirects=True).get_data(as_text=True)
    assert "危急值：血压 186/100 mmHg" in saved
    home = doctor_web.get("/").get_data(as_text=True)
    assert "紧急：危急值待转诊" in home and "请立即转诊至上级医疗机构" in home


def test_wrong_check_digit_is_refused_next_to_the_id_card(doctor_web, db):
    resident = factories.resident()
    resident["id_card"] = resident["id_card"][:17] + ("0" if resident["id_card"][17] != "0" else "1")
    response = doctor_web.post("/archives/new", data=form_of(resident))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "校验位" in error_next_to(page, "id_card")
    assert 'id="error-summary"' in page and 'href="#f-id_card"' in page
    assert db.archives.count_documents({}) == 0


def test_birth_date_against_the_card_and_guardian_of_a_newborn(doctor_web, db):
    resident = factories.resident(birth_date="1958-04-13")
    page = doctor_web.post("/archives/new", data=form_of(resident)).get_data(as_text=True)
    assert "身份证上的出生日期是 1958-04-12" in error_next_to(page, "birth_date")
    baby = factories.resident(1, born=factories.years_ago(0, 20), id_card=None)
    page = doctor_web.post("/archives/new", data=form_of(baby)).get_data(as_text=True)
    assert "监护人" in error_next_to(page, "guardian")
    assert db.archives.count_documents({}) == 0


def test_a_new_archive_and_its_duplicate(doctor_web, db):
    resident = factories.resident()
    response = doctor_web.post("/archives/new", data=form_of(resident))
    assert response.status_code == 302
    archive_id = response.headers["Location"].rsplit("/", 1)[1]
    page = doctor_web.get(f"/archives/{archive_id}").get_data(as_text=True)
    assert f"档案 {archive_id} 已建立" in page and "李秀英" in page
    again = doctor_web.post("/archives/new", data=form_of(resident)).get_data(as_text=True)
    assert f'href="/archives/{archive_id}"' in again and "该身份证号已有档案" in again
    assert db.archives.count_documents({}) == 1


def test_the_new_archive_form_sent_twice_makes_one_archive(doctor_web, db):
    page = doctor_web.get("/archives/new").get_data(as_text=True)
    found = re.search(r'name="Idempotency-Key" value="([^"]+)"', page)
    assert found, "the form carries no Idempotency-Key"
    key = found.group(1)
    newborn = factories.resident(born=today() - timedelta(days=20), id_card=None, phone=None)
    form = {**form_of(newborn), "guardian.name": "王芳", "guardian.relation": "mother", "Idempotency-Key": key}
    first = doctor_web.post("/archives/new", data=form)
    assert first.status_code == 302, first.get_data(as_text=True)
    # The connection broke before the answer arrived; the page is sent again.
    again = doctor_web.post("/archives/new", data=form)
    assert again.headers["Location"] == first.headers["Location"]
    archive_id = first.headers["Location"].rsplit("/", 1)[1]
    shown = doctor_web.get(again.headers["Location"]).get_data(as_text=True)
    assert f"档案 {archive_id} 此前已建立，没有重复保存" in shown
    assert db.archives.count_documents({}) == 1


def test_a_form_cut_off_by_the_database_says_in_chinese_to_send_it_again(doctor_web, monkeypatch):
    def down(*args, **kwargs):
        raise AutoReconnect("connection closed")
    monkeypatch.setattr(service, "create_archive", down)
    page = doctor_web.post("/archives/new", data=form_of(factories.resident()))
    assert page.status_code == 503
    assert "可能已保存，也可能没有保存" in page.get_data(as_text=True)


def test_search_is_a_post_and_finds_by_name(doctor_web):
    headers = factories.bearer(doctor_web, "liu.doctor")
    archive_id = factories.make_archive(doctor_web, headers)
    by_address = doctor_web.get("/archives/search", query_string={"name": "李秀英"})
    assert by_address.status_code != 200 and archive_id not in by_address.get_data(as_text=True)
    page = doctor_web.post("/archives/search", data={"name": "李秀英"}).get_data(as_text=True)
    assert "找到 1 份档案" in page and archive_id in page


def visit_form(day, systolic=138, key=None):
    return {"Idempotency-Key": key or str(uuid.uuid4()), "records.0.date": day, "records.0.method": "home",
            "records.0.blood_pressure.systolic": str(systolic), "records.0.blood_pressure.diastolic": "86",
            "records.0.adherence": "regular", "records.0.control": "satisfactory"}


def test_a_visit_is_saved_once_however_often_it_is_sent(doctor_web, db):
    archive_id = factories.make_archive(doctor_web, factories.bearer(doctor_web, "liu.doctor"))
    url = f"/archives/{archive_id}/visit?form=followup.hypertension"
    form = visit_form(factories.days_ago(1))
    first, second = doctor_web.post(url, data=form), doctor_web.post(url, data=form)
    assert first.status_code == second.status_code == 302
    assert db.records.count_documents({"archive_id": archive_id}) == 1
    page = doctor_web.get(f"/archives/{archive_id}").get_data(as_text=True)
    assert "没有重复保存" in page and "138" in page


def test_a_value_out_of_range_is_refused_next_to_its_field(doctor_web, db):
    archive_id = factories.make_archive(doctor_web, factories.bearer(doctor_web, "liu.doctor"))
    response = doctor_web.post(f"/archives/{archive_id}/visit?form=followup.hypertension",
                               data=visit_form(factories.days_ago(1), systolic=400))
    assert response.status_code == 422
    assert "50 到 300 mmHg" in error_next_to(response.get_data(as_text=True), "records.0.blood_pressure.systolic")
    assert db.records.count_documents({}) == 0


def test_a_correction_keeps_the_earlier_version(doctor_web, db):
    headers = factories.bearer(doctor_web, "liu.doctor")
    archive_id = factories.make_archive(doctor_web, headers)
    record = factories.make_record(doctor_web, headers, archive_id, factories.hypertension(factories.days_ago(3)))
    url = f"/archives/{archive_id}/records/{record['id']}/amend"
    form = {key.removeprefix("records.0."): value for key, value in visit_form(factories.days_ago(3), 142).items()}
    assert 'name="version" value="1"' in doctor_web.get(url).get_data(as_text=True)
    refused = doctor_web.post(url, data={**form, "version": "1"})
    assert refused.status_code == 422 and "必填" in error_next_to(refused.get_data(as_text=True), "reason")
    assert doctor_web.post(url, data={**form, "version": "1", "reason": "血压录入错误"}).status_code == 302
    assert db.records.count_documents({"record_id": record["id"]}) == 2
    # The same form sent again, made on version 1, would undo what was corrected since.
    stale = doctor_web.post(url, data={**form, "version": "1", "reason": "血压录入错误"})
    assert "已有人修改了它" in stale.get_data(as_text=True)
    assert db.records.count_documents({"record_id": record["id"]}) == 2
    page = doctor_web.get(f"/archives/{archive_id}").get_data(as_text=True)
    assert "已更正（第 2 版）" in page and "142" in page


def test_closing_for_another_reason_needs_a_note(doctor_web, db):
    archive_id = factories.make_archive(doctor_web, factories.bearer(doctor_web, "liu.doctor"))
    form = {"reason": "other", "date": factories.days_ago(0), "version": "1"}
    page = doctor_web.post(f"/archives/{archive_id}/close", data=form).get_data(as_text=True)
    assert "原因为“其他”时" in error_next_to(page, "note")
    assert doctor_web.post(f"/archives/{archive_id}/close", data={**form, "note": "迁往外省"}).status_code == 302
    assert db.archives.find_one({"_id": archive_id})["status"] == "closed"


def test_a_form_without_its_csrf_token_is_refused(app, client, make_user, db):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("liu.doctor", "village_doctor", VILLAGE)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").get_data(as_text=True))
    assert token, "the sign-in page has no CSRF token"
    client.post("/login", data={"username": "liu.doctor", "password": PASSWORD, "csrf_token": token.group(1)})
    response = client.post("/archives/new", data=form_of(factories.resident()))
    assert response.status_code == 400 and "没有保存" in response.get_data(as_text=True)
    assert db.archives.count_documents({}) == 0


def test_after_signing_in_again_the_same_page(client, make_user):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    archive_id = factories.make_archive(client, factories.bearer(client, "liu.doctor"))
    response = client.get(f"/archives/{archive_id}?page=1")
    assert response.status_code == 302
    login = response.headers["Location"]
    assert "/login?next=" in login
    back = client.post(login, data={"username": "liu.doctor", "password": PASSWORD})
    assert back.headers["Location"] == f"/archives/{archive_id}?page=1"


def test_english_on_request(doctor_web):
    doctor_web.get("/lang/en")
    page = doctor_web.get("/archives/new").get_data(as_text=True)
    assert "Create the archive" in page and "建立档案" not in page


def test_the_timeline_is_paged(doctor_web):
    headers = factories.bearer(doctor_web, "liu.doctor")
    archive_id = factories.make_archive(doctor_web, headers)
    for days in range(11):
        factories.make_record(doctor_web, headers, archive_id, factories.hypertension(factories.days_ago(days + 1)))
    page = doctor_web.get(f"/archives/{archive_id}").get_data(as_text=True)
    assert "第 1 页，共 2 页" in page and f"/archives/{archive_id}?page=2" in page
    assert factories.days_ago(1) in page and factories.days_ago(11) not in page


def test_basic_information_is_changed_at_the_version_shown(doctor_web, db):
    archive_id = factories.make_archive(doctor_web, factories.bearer(doctor_web, "liu.doctor"))
    page = doctor_web.get(f"/archives/{archive_id}/edit").get_data(as_text=True)
    assert 'name="version" value="1"' in page and 'value="13912345678"' in page
    form = {**form_of(factories.resident()), "phone": "1391234", "version": "1"}
    refused = doctor_web.post(f"/archives/{archive_id}/edit", data=form)
    assert "11位手机号" in error_next_to(refused.get_data(as_text=True), "phone")
    assert doctor_web.post(f"/archives/{archive_id}/edit", data={**form, "phone": "13800001111"}).status_code == 302
    stale = doctor_web.post(f"/archives/{archive_id}/edit", data={**form, "phone": "13800002222"})
    assert "有人修改了档案" in stale.get_data(as_text=True)
    assert db.archives.find_one({"_id": archive_id})["version"] == 2


def test_a_form_sent_after_the_session_ended_returns_to_its_page(client, make_user):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    archive_id = factories.make_archive(client, factories.bearer(client, "liu.doctor"))
    page = f"http://localhost/archives/{archive_id}/close"
    response = client.post(f"/archives/{archive_id}/close", data={"reason": "death"}, headers={"Referer": page})
    back = client.post(response.headers["Location"], data={"username": "liu.doctor", "password": PASSWORD})
    assert back.headers["Location"] == f"/archives/{archive_id}/close"
