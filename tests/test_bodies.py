"""Bodies nothing after the parser could use are refused at the door with a clear 4xx,
before authentication too, and nothing is written."""

import json

import pytest

from tests.factories import PASSWORD, VILLAGE, resident


def post_raw(client, path, text, headers=None, content_type="application/json"):
    return client.post(path, data=text.encode(), headers={"Content-Type": content_type, **(headers or {})})


@pytest.mark.parametrize("body", [
    '{"username": "\\ud800", "password": "x"}',
    '{"username": "doctor", "password": "\\udfff"}',
    '{"\\ud800": 1, "username": "a", "password": "b"}',
], ids=["username", "password", "key"])
def test_a_lone_surrogate_is_a_400_even_before_sign_in(client, db, body):
    response = post_raw(client, "/api/v1/auth/token", body)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "surrogate" in response.get_json()["detail"]
    assert db.login_failures.count_documents({}) == 0


def test_a_nul_in_a_body_is_a_400_before_anything_is_looked_up(client, db):
    response = post_raw(client, "/api/v1/auth/token", '{"username": "doc\\u0000tor", "password": "x"}')
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "NUL character" in response.get_json()["detail"]
    assert db.login_failures.count_documents({}) == 0


@pytest.mark.parametrize("path", [
    "/api/v1/archives?name=%E7%8E%8B%00",
    "/api/v1/archives?%00=1",
    "/api/v1/teams/%00",
    "/api/v1/archives/41142310110%00/records",
], ids=["query value", "query name", "path", "archive code"])
def test_a_nul_in_the_address_is_a_400_saying_so(client, doctor, path):
    response = client.get(path, headers=doctor)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert "NUL character" in response.get_json()["detail"]


def test_deeply_nested_json_is_a_400(client, doctor):
    response = post_raw(client, "/api/v1/archives", "[" * 50_000 + "]" * 50_000, doctor)
    assert response.status_code == 400
    assert "nested more than 32 levels" in response.get_json()["detail"]


def test_a_surrogate_in_an_archive_is_refused_and_nothing_is_written(client, db, doctor):
    body = resident(name="王\ud800")
    text = json.dumps(body)  # ensure_ascii writes the lone surrogate as \\ud800
    response = post_raw(client, "/api/v1/archives", text, doctor)
    assert response.status_code == 400
    assert db.archives.count_documents({}) == 0 and db.identities.count_documents({}) == 0


def test_a_body_that_is_not_json_is_415_saying_what_to_send(client, db, doctor):
    response = post_raw(client, "/api/v1/archives", f"village_code={VILLAGE}&name=x", doctor,
                        content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.get_json()["detail"]
    assert db.archives.count_documents({}) == 0


@pytest.mark.parametrize("cookie", ["xx", "../../etc", "zh_CN.UTF-8", ""])
def test_a_language_cookie_that_is_not_ours_falls_back_to_chinese(client, cookie):
    client.set_cookie("lang", cookie)
    page = client.get("/login")
    assert page.status_code == 200
    assert "登录" in page.get_data(as_text=True)
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "text/html" in missing.content_type


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def test_an_id_card_in_full_width_digits_is_the_same_person(client, db, doctor):
    first = resident(1)
    assert client.post("/api/v1/archives", json=first, headers=doctor).status_code == 201
    again = {**resident(2), "id_card": first["id_card"].translate(FULL_WIDTH), "birth_date": first["birth_date"],
             "sex": first["sex"]}
    response = client.post("/api/v1/archives", json=again, headers=doctor)
    assert response.status_code == 409, response.get_json()
    assert db.archives.count_documents({}) == 1


def test_digits_of_other_scripts_are_refused_and_open_no_audit_chain(client, db, doctor):
    body = resident(3)
    response = client.post("/api/v1/archives", json={**body, "id_card": body["id_card"].translate(ARABIC_INDIC)},
                           headers=doctor)
    assert response.status_code == 422 and "id_card" in response.get_json()["errors"]
    archive_id = client.post("/api/v1/archives", json=body, headers=doctor).get_json()["id"]
    for shown in (archive_id.translate(ARABIC_INDIC), archive_id[:-1] + "\u0967"):
        assert client.get(f"/api/v1/archives/{shown}", headers=doctor).status_code == 422
    chains = set(db.audit.distinct("chain"))
    assert all(chain == "system" or (chain.isascii() and chain.isdigit()) for chain in chains), chains


def test_an_archive_code_in_full_width_digits_opens_the_archive(client, db, doctor):
    archive_id = client.post("/api/v1/archives", json=resident(4), headers=doctor).get_json()["id"]
    response = client.get(f"/api/v1/archives/{archive_id.translate(FULL_WIDTH)}", headers=doctor)
    assert response.status_code == 200 and response.get_json()["id"] == archive_id


def test_a_nul_in_a_page_form_is_a_400_and_nothing_is_made(client, make_user, db):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    assert client.post("/login", data={"username": "liu.doctor", "password": PASSWORD}).status_code == 302
    form = {key: value for key, value in resident(0).items() if isinstance(value, str)}
    response = client.post("/archives/new", data={**form, "name": "王\x00芳"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)
    assert db.archives.count_documents({}) == 0
