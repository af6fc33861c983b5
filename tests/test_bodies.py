"""Bodies nothing after the parser could use are refused at the door with a clear 4xx,
before authentication too, and nothing is written."""

import json

import pytest

from tests.factories import VILLAGE, resident


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
