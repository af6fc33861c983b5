"""The sign-in page: Chinese by default, CSRF-protected, English on request."""

import re

from tests.factories import PASSWORD


def csrf_token(page):
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, "the page has no CSRF token"
    return found.group(1)


def test_login_page_is_chinese_by_default(client):
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page and "用户名" in page


def test_english_on_request(client):
    client.get("/lang/en")
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in" in page and "登录" not in page.replace("中文", "")


def test_start_page_needs_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_sign_in_and_out(app, client, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("liu.doctor", "village_doctor", "411423101101")
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": "liu.doctor", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    home = client.get("/").get_data(as_text=True)
    assert "柳河村" in home and "村医" in home
    out = client.post("/logout", data={"csrf_token": csrf_token(home)})
    assert out.status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_shows_message_and_stays_signed_out(client, make_user):
    make_user("liu.doctor", "village_doctor", "411423101101")
    page = client.post("/login", data={"username": "liu.doctor", "password": "nope"}).get_data(as_text=True)
    assert "用户名或密码错误" in page
    assert client.get("/").status_code == 302


def test_post_without_csrf_token_is_refused(app, client, make_user):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user("liu.doctor", "village_doctor", "411423101101")
    response = client.post("/login", data={"username": "liu.doctor", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302
