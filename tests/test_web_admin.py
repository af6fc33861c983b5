"""The administrator's pages through the Flask test client: accounts made, disabled and
given a new password shown once (never logged), the regions import with its report of
bad rows, the keys' status; and no archive anywhere."""

import io
import re

import pytest

from tests import factories
from tests.factories import COUNTY, FAR, PASSWORD, VILLAGE, web_sign_in


@pytest.fixture
def admin_web(client, people):
    """The county's administrator, signed in."""
    people["admin"]
    web_sign_in(client, "admin")
    return client


def shown_password(page):
    found = re.search(r'id="new-password">([^<]+)<', page)
    assert found, "no password on the page"
    return found.group(1)


def test_an_account_is_made_with_a_password_shown_once(admin_web, client, db):
    made = admin_web.post("/admin/users/new", data={"username": "wang.doctor", "name": "王医生",
                                                    "role": "village_doctor", "region": VILLAGE})
    assert made.status_code == 200
    page = made.get_data(as_text=True)
    assert "账户 wang.doctor 已建立" in page and "只显示这一次" in page
    password = shown_password(page)
    assert len(password) >= 10
    assert client.post("/api/v1/auth/token", json={"username": "wang.doctor", "password": password}).status_code == 200
    # Shown once: not on the account's page, in no audit entry, nowhere in the database but its hash.
    again = admin_web.get("/admin/users/wang.doctor").get_data(as_text=True)
    assert "王医生" in again and "柳河村" in again and password not in again
    for name in db.list_collection_names():
        assert not [doc for doc in db[name].find() if password in str(doc)], name
    assert "wang.doctor" in admin_web.get("/admin/users").get_data(as_text=True)


def test_a_reset_ends_the_old_password_and_shows_the_new_one(admin_web, client, people):
    people["doc"]
    page = admin_web.post("/admin/users/doc/password").get_data(as_text=True)
    assert "doc 的新密码" in page
    assert client.post("/api/v1/auth/token", json={"username": "doc", "password": PASSWORD}).status_code == 401
    assert client.post("/api/v1/auth/token",
                       json={"username": "doc", "password": shown_password(page)}).status_code == 200


def test_a_disabled_account_cannot_sign_in(admin_web, client, people):
    people["doc"]
    disabled = admin_web.post("/admin/users/doc/disable")
    assert disabled.status_code == 302
    assert "已停用" in admin_web.get("/admin/users/doc").get_data(as_text=True)
    assert client.post("/api/v1/auth/token", json={"username": "doc", "password": PASSWORD}).status_code == 401
    own = admin_web.post("/admin/users/admin/disable")
    assert own.status_code == 403 and "不能停用自己的账户" in own.get_data(as_text=True)
    assert admin_web.get("/admin/users/admin").status_code == 200  # still signed in: nothing was disabled


def test_bad_account_details_are_shown_at_their_fields_and_nothing_is_made(admin_web, db):
    refused = admin_web.post("/admin/users/new", data={"username": "Wang Doctor", "role": "village_doctor",
                                                       "region": "411423101"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert re.search(r'id="f-username-error">[^<]*小写字母', page)
    assert re.search(r'id="f-region-error">[^<]*12 位', page)
    assert db.users.count_documents({}) == 1
    outside = admin_web.post("/admin/users/new", data={"username": "far.doctor", "role": "village_doctor",
                                                       "region": FAR})
    assert "不在您的辖区" in outside.get_data(as_text=True)
    assert db.users.find_one({"_id": "far.doctor"}) is None


def test_only_administrators_manage_accounts(client, people, db):
    people["sup"]
    web_sign_in(client, "sup")
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users/new", data={"username": "x.doctor", "role": "village_doctor",
                                                 "region": VILLAGE}).status_code == 403
    assert db.users.find_one({"_id": "x.doctor"}) is None


def test_forms_without_their_csrf_token_are_refused(app, admin_web, people, db):
    people["doc"]
    app.config["WTF_CSRF_ENABLED"] = True
    assert admin_web.post("/admin/users/doc/disable").status_code == 400
    assert admin_web.post("/admin/users/doc/password").status_code == 400
    assert db.users.find_one({"_id": "doc"})["disabled"] is False


def upload(client, text):
    return client.post("/admin/regions", data={"file": (io.BytesIO(text.encode("utf-8")), "regions.csv")},
                       content_type="multipart/form-data")


def test_a_regions_file_with_bad_rows_imports_nothing_and_names_each(admin_web, db):
    bad = ("code,name,population,year\n"
           f"{COUNTY}105,新河乡,,\n"
           f"{COUNTY}105101,新河村,多少,2026\n"
           f"{COUNTY}106101,无乡村,300,2026\n"
           "411424102,别县的乡,,\n")
    refused = upload(admin_web, bad)
    assert refused.status_code == 422
    report = refused.get_data(as_text=True)
    assert "3 行有误，未导入任何数据" in report
    rows = dict(re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td></tr>", report))
    assert set(rows) == {"3", "4", "5"}
    assert "常住人口须为整数" in rows["3"] and "411423106" in rows["4"] and "不在您的辖区" in rows["5"]
    assert db.regions.find_one({"_id": f"{COUNTY}105"}) is None
    good = upload(admin_web, f"{COUNTY}105,新河乡,,\n{COUNTY}105101,新河村,700,2026\n")
    assert "已导入 2 行" in good.get_data(as_text=True)
    assert db.regions.find_one({"_id": f"{COUNTY}105101"})["population"] == {"2026": 700}


def test_the_keys_status_shows_counts_and_no_key(admin_web, client, people, keys):
    factories.make_archive(client, people["doc"])
    page = admin_web.get("/admin/keys").get_data(as_text=True)
    assert "当前密钥" in page
    sealed = re.search(r"<td>archives</td><td>k1</td><td>(\d+)</td>", page)
    assert sealed and int(sealed.group(1)) >= 5  # name, ID card, phone, addresses… of the one archive
    assert not [key for key in re.findall(r'"[A-Za-z0-9+/=_-]{40,}"', keys) if key.strip('"') in page]


def test_an_administrator_sees_no_archive(admin_web, client, people):
    archive_id = factories.make_archive(client, people["doc"])
    assert admin_web.get(f"/archives/{archive_id}").status_code == 404  # as if there were none
    home = admin_web.get("/").get_data(as_text=True)
    assert "用户账户" in home and archive_id not in home
