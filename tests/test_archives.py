"""The archive API as village doctors and township staff use it: create, read, change,
search, close and review, with the checks that keep one archive per person."""

import random
from datetime import date, timedelta

import pytest
from stdnum.cn import ric

from healthrec.clock import today
from healthrec.ids import fake_id_card
from tests.factories import (
    FAR,
    LAYOUT,
    NEIGHBOUR,
    TOWNSHIP,
    VILLAGE,
    code,
    if_match,
    post_archive,
    resident,
    years_ago,
)


def assert_invalid(response, *fields):
    assert response.status_code == 422, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert set(body["errors"]) == set(fields), body
    return body


# --- Create --------------------------------------------------------------------------

def test_create_gives_a_code_under_the_village_and_the_archive_decrypted(client, doctor):
    response = post_archive(client, doctor, key_populations=["hypertension"])
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["id"] == code(1)
    assert response.headers["ETag"] == f'"{body["id"]}.1"'
    assert body["version"] == 1 and body["status"] == "open"
    assert body["name"] == "李秀英" and body["address"] == "柳河村2组8号"
    assert body["past_history"] == {"diseases": [{"code": "diabetes", "date": "2015-06"}]}
    assert body["responsible_doctor"] == "village101"  # the creating doctor
    assert body["completeness"] == {"complete": True, "missing": []}
    assert body["key_populations"] == ["elderly", "hypertension"]  # elderly from the birth date
    assert response.headers["Cache-Control"] == "no-store"
    second = post_archive(client, doctor, n=1)
    assert second.get_json()["id"] == code(2)


def test_same_id_card_again_is_409_with_the_existing_id(client, db, doctor):
    first = post_archive(client, doctor).get_json()
    again = post_archive(client, doctor, name="李秀瑛")
    assert again.status_code == 409
    assert again.mimetype == "application/problem+json"
    assert again.get_json()["existing_id"] == first["id"]
    assert db.archives.count_documents({}) == 1


def test_a_second_archive_outside_your_scope_only_says_registered_elsewhere(client, db, doctor, login):
    post_archive(client, doctor)
    neighbour = login("village_doctor", NEIGHBOUR)
    again = post_archive(client, neighbour, village_code=NEIGHBOUR)
    assert again.status_code == 409
    body = again.get_json()
    assert "existing_id" not in body
    assert "registered outside your region" in body["detail"]
    assert db.archives.count_documents({}) == 1
    # Township staff manage both villages and are told which archive it is.
    staff = login("township_staff", TOWNSHIP)
    assert post_archive(client, staff, village_code=NEIGHBOUR).get_json()["existing_id"] == code(1)


def test_bad_check_digit_is_422_naming_id_card_and_writes_nothing(client, db, doctor):
    card = resident()["id_card"]
    wrong = card[:17] + ("0" if card[17] != "0" else "1")
    body = assert_invalid(post_archive(client, doctor, id_card=wrong), "id_card")
    assert "check digit" in body["errors"]["id_card"][0]
    assert db.archives.count_documents({}) == 0
    assert db.identities.count_documents({}) == 0
    assert db.audit.count_documents({"action": "archive.create"}) == 0


def test_id_card_must_agree_with_birth_date_and_sex(client, db, doctor):
    card = resident()["id_card"]  # a woman born 1958-04-12
    body = assert_invalid(post_archive(client, doctor, id_card=card, birth_date="1958-04-13"), "birth_date", "id_card")
    assert "1958-04-12" in body["errors"]["birth_date"][0]
    assert_invalid(post_archive(client, doctor, id_card=card, sex="male"), "sex", "id_card")
    assert db.archives.count_documents({}) == 0


def test_lower_case_x_is_stored_upper_case(client, doctor):
    born = date(1958, 4, 12)
    number = next(c for c in (fake_id_card(random.Random(i), born, "female") for i in range(500)) if c.endswith("X"))
    response = post_archive(client, doctor, id_card=number.lower())
    assert response.status_code == 201
    assert response.get_json()["id_card"] == number


def test_unknown_birthplace_is_a_warning_not_an_error(client, doctor):
    body = "41142319580412002"  # 411423 did not exist before 1997
    response = post_archive(client, doctor, id_card=body + ric.calc_check_digit(body + "0"))
    assert response.status_code == 201
    warning = response.get_json()["warnings"][0]
    assert warning["field"] == "id_card" and "411423" in warning["message"]


def test_without_id_card_a_guardian_is_required(client, db, doctor):
    newborn = {"born": today() - timedelta(days=20), "sex": "male", "id_card": None, "phone": None}
    body = assert_invalid(post_archive(client, doctor, **newborn), "guardian")
    assert "guardian" in body["detail"]
    assert db.archives.count_documents({}) == 0
    guardian = {"name": "王芳", "relation": "mother", "phone": "13700001111"}
    response = post_archive(client, doctor, guardian=guardian, **newborn)
    assert response.status_code == 201, response.get_json()
    archive = response.get_json()
    assert archive["guardian"] == guardian
    assert archive["key_populations"] == ["child"]
    # The card is still to be added; the guardian's phone reaches the family.
    assert archive["completeness"] == {"complete": False, "missing": ["id_card"]}


def test_a_minor_without_guardian_is_incomplete(client, doctor):
    archive = post_archive(client, doctor, born=years_ago(12), sex="male", id_card=None,
                     guardian={"name": "赵强", "relation": "father"}).get_json()
    assert "guardian" not in archive["completeness"]["missing"]
    teen = post_archive(client, doctor, n=3, born=years_ago(16), sex="male").get_json()
    assert teen["completeness"]["missing"] == ["guardian"]


@pytest.mark.parametrize("changes, field", [
    ({"sex": "m"}, "sex"),
    ({"birth_date": "1958-13-01"}, "birth_date"),
    ({"phone": "12345"}, "phone"),
    ({"name": ""}, "name"),
    ({"nickname": "老李"}, "nickname"),
    ({"key_populations": ["smoker"]}, "key_populations.0"),
    ({"village_code": "4114231011"}, "village_code"),
    ({"guardian": {"name": "王芳"}}, "guardian.relation"),
])
def test_malformed_fields_are_named(client, db, doctor, changes, field):
    assert_invalid(post_archive(client, doctor, **changes), field)
    assert db.archives.count_documents({}) == 0


def test_logic_checks_are_named(client, db, doctor, township):
    assert_invalid(post_archive(client, doctor, born=today() + timedelta(days=3), id_card=None,
                          guardian={"name": "王芳", "relation": "mother"}), "birth_date")
    assert_invalid(post_archive(client, doctor, key_populations=["maternal"], sex="male"), "key_populations")
    young = assert_invalid(post_archive(client, doctor, born=years_ago(30), key_populations=["elderly"]),
                           "key_populations")
    assert "birth date" in young["errors"]["key_populations"][0]
    assert_invalid(post_archive(client, township, village_code="411423101199"), "village_code")
    assert_invalid(post_archive(client, doctor, responsible_doctor="nobody"), "responsible_doctor")
    assert db.archives.count_documents({}) == 0
    assert db.identities.count_documents({}) == 0


def test_responsible_doctor_must_serve_the_village(client, doctor, login, make_user):
    make_user("wang.doctor", "village_doctor", NEIGHBOUR)
    body = assert_invalid(post_archive(client, doctor, responsible_doctor="wang.doctor"), "responsible_doctor")
    assert NEIGHBOUR not in body["errors"]["responsible_doctor"][0]
    make_user("liu.doctor", "village_doctor", VILLAGE)
    staff = login("township_staff", TOWNSHIP)
    archive = post_archive(client, staff, responsible_doctor="liu.doctor").get_json()
    assert archive["responsible_doctor"] == "liu.doctor"


def test_doctor_set_and_derived_key_populations(client, doctor):
    mother = post_archive(client, doctor, born=years_ago(28), key_populations=["maternal"]).get_json()
    assert mother["key_populations"] == ["maternal"]
    child = post_archive(client, doctor, n=1, born=years_ago(6, days=-30), sex="male").get_json()
    assert child["key_populations"] == ["child"]  # six, so still counted
    older = post_archive(client, doctor, n=2, born=years_ago(7, days=1), sex="male").get_json()
    assert older["key_populations"] == []


def test_child_age_follows_the_setting(app, client, doctor):
    app.config["CHILD_MAX_AGE"] = 3
    five = post_archive(client, doctor, born=years_ago(5), sex="male").get_json()
    assert five["key_populations"] == []


# --- Read ----------------------------------------------------------------------------

def test_get_gives_the_archive_with_version_and_etag(client, doctor):
    created = post_archive(client, doctor).get_json()
    response = client.get(f"/api/v1/archives/{created['id']}", headers=doctor)
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == 1 and response.headers["ETag"] == f'"{created["id"]}.1"'
    assert {k: v for k, v in body.items() if k != "warnings"} == {k: v for k, v in created.items() if k != "warnings"}


def test_unknown_and_malformed_archive_ids(client, doctor):
    missing = client.get(f"/api/v1/archives/{code(42)}", headers=doctor)
    assert missing.status_code == 404
    assert missing.mimetype == "application/problem+json"
    malformed = client.get("/api/v1/archives/12345", headers=doctor)
    assert malformed.status_code == 422
    assert f"{LAYOUT.length} digits" in malformed.get_json()["detail"]


# --- Change --------------------------------------------------------------------------

def test_patch_needs_if_match(client, db, doctor):
    created = post_archive(client, doctor)
    url = f"/api/v1/archives/{created.get_json()['id']}"
    missing = client.patch(url, json={"phone": "13800002222"}, headers=doctor)
    assert missing.status_code == 428
    assert "If-Match" in missing.get_json()["detail"]
    star = client.patch(url, json={"phone": "13800002222"}, headers={**doctor, "If-Match": "*"})
    assert star.status_code == 428
    assert client.get(url, headers=doctor).get_json()["phone"] == "13912345678"


def test_patch_changes_fields_and_bumps_the_version(client, db, doctor):
    created = post_archive(client, doctor)
    url = f"/api/v1/archives/{created.get_json()['id']}"
    response = client.patch(url, json={"phone": None, "allergies": ["青霉素"]}, headers=if_match(doctor, created))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["version"] == 2 and response.headers["ETag"].endswith('.2"')
    assert body["phone"] is None and body["allergies"] == ["青霉素"]
    assert body["completeness"] == {"complete": False, "missing": ["phone"]}
    assert client.get(url, headers=doctor).get_json()["allergies"] == ["青霉素"]
    assert "phone" not in db.archives.find_one()


def test_stale_if_match_is_412_and_changes_nothing(client, doctor):
    created = post_archive(client, doctor)
    url = f"/api/v1/archives/{created.get_json()['id']}"
    assert client.patch(url, json={"phone": "13800002222"}, headers=if_match(doctor, created)).status_code == 200
    stale = client.patch(url, json={"address": "柳河村5组1号"}, headers=if_match(doctor, created))
    assert stale.status_code == 412
    assert "GET it again" in stale.get_json()["detail"]
    assert client.get(url, headers=doctor).get_json()["address"] == "柳河村2组8号"
    other = client.patch(url, json={"address": "x"}, headers={**doctor, "If-Match": f'"{VILLAGE}0009.2"'})
    assert other.status_code == 412


def test_patch_rechecks_the_whole_archive(client, doctor):
    created = post_archive(client, doctor)
    url = f"/api/v1/archives/{created.get_json()['id']}"
    wrong_date = client.patch(url, json={"birth_date": "1960-01-01"}, headers=if_match(doctor, created))
    assert_invalid(wrong_date, "birth_date", "id_card")
    no_name = client.patch(url, json={"name": None}, headers=if_match(doctor, created))
    assert_invalid(no_name, "name")
    no_card = client.patch(url, json={"id_card": None}, headers=if_match(doctor, created))
    assert_invalid(no_card, "guardian")
    assert client.get(url, headers=doctor).get_json()["version"] == 1


def test_changing_the_id_card_moves_the_claim(client, db, doctor):
    created = post_archive(client, doctor, born=date(1990, 5, 5))
    old_card = created.get_json()["id_card"]
    new_card = fake_id_card(random.Random(99), date(1990, 5, 5), "female")
    url = f"/api/v1/archives/{created.get_json()['id']}"
    response = client.patch(url, json={"id_card": new_card}, headers=if_match(doctor, created))
    assert response.status_code == 200, response.get_json()
    # The old number is free again; the new one is taken.
    assert post_archive(client, doctor, n=1, born=date(1990, 5, 5), id_card=old_card).status_code == 201
    assert post_archive(client, doctor, n=2, born=date(1990, 5, 5), id_card=new_card).status_code == 409
    assert db.identities.count_documents({}) == 2


def test_patch_to_a_card_that_has_an_archive_is_409(client, doctor):
    first = post_archive(client, doctor).get_json()
    second = post_archive(client, doctor, n=1)
    url = f"/api/v1/archives/{second.get_json()['id']}"
    response = client.patch(url, json={"id_card": first["id_card"], "birth_date": first["birth_date"]},
                            headers=if_match(doctor, second))
    assert response.status_code == 409
    assert response.get_json()["existing_id"] == first["id"]
    assert client.get(url, headers=doctor).get_json()["version"] == 1


# --- Search --------------------------------------------------------------------------

def test_search_by_name_and_id_card_within_scope(client, doctor, login):
    created = [post_archive(client, doctor, n=n, name=name).get_json()
               for n, name in enumerate(["张伟", "王芳", "张伟"])]
    neighbour = login("village_doctor", NEIGHBOUR)
    post_archive(client, neighbour, n=9, village_code=NEIGHBOUR, name="张伟")

    found = client.post("/api/v1/archives/search", json={"name": "张 伟"}, headers=doctor).get_json()
    assert [item["id"] for item in found["items"]] == [created[0]["id"], created[2]["id"]]
    assert found["total"] == 2 and found["items"][0]["name"] == "张伟"

    card = created[1]["id_card"]
    by_card = client.post("/api/v1/archives/search", json={"id_card": card.lower()}, headers=doctor).get_json()
    assert [item["id"] for item in by_card["items"]] == [created[1]["id"]]

    staff = login("township_staff", TOWNSHIP)
    township_wide = client.post("/api/v1/archives/search", json={"name": "张伟"}, headers=staff).get_json()
    assert township_wide["total"] == 3
    one_village = client.post("/api/v1/archives/search", json={"name": "张伟", "village": NEIGHBOUR},
                             headers=staff).get_json()
    assert [item["village_code"] for item in one_village["items"]] == [NEIGHBOUR]


def test_names_and_id_cards_are_refused_in_a_url(client, db, doctor, archive_id):
    """Access logs keep URLs: a name or ID card there is refused, and the answer says
    where the search takes them; nothing is searched or shown."""
    card = resident()["id_card"]
    assert client.get("/", query_string={"name": "李秀英"}).status_code == 400  # a page: the error page
    for path in ("/api/v1/archives", "/api/v1/followups/due", "/api/v1/access-requests"):
        for query in ({"name": "李秀英"}, {"id_card": card}, {"name": "李秀英", "id_card": card}):
            response = client.get(path, query_string=query, headers=doctor)
            assert response.status_code == 400, (path, query)
            body = response.get_json()
            assert sorted(body["errors"]) == sorted(query)
            assert "POST /api/v1/archives/search" in body["errors"][next(iter(query))][0]
    assert db.audit.count_documents({"action": "archive.search"}) == 0
    found = client.post("/api/v1/archives/search", json={"name": "李秀英"}, headers=doctor).get_json()
    assert [item["id"] for item in found["items"]] == [archive_id]


def test_search_pages_through_results(app, client, doctor):
    for n in range(5):
        post_archive(client, doctor, n=n)
    first = client.get("/api/v1/archives", query_string={"per_page": 2}, headers=doctor).get_json()
    last = client.get("/api/v1/archives", query_string={"per_page": 2, "page": 3}, headers=doctor).get_json()
    assert first["total"] == last["total"] == 5
    assert [item["id"] for item in first["items"]] == [code(1), code(2)]
    assert [item["id"][-4:] for item in last["items"]] == ["0005"]
    app.config["PAGE_SIZE"] = 4
    assert len(client.get("/api/v1/archives", headers=doctor).get_json()["items"]) == 4


def test_search_input_errors_are_named(client, doctor):
    assert_invalid(client.post("/api/v1/archives/search", json={"id_card": "123"}, headers=doctor), "id_card")
    assert_invalid(client.get("/api/v1/archives", query_string={"per_page": 1000}, headers=doctor), "per_page")
    assert_invalid(client.get("/api/v1/archives", query_string={"village": "4114"}, headers=doctor), "village")


# --- Close ---------------------------------------------------------------------------

def test_closed_archive_stays_readable_and_cannot_change(client, db, doctor):
    created = post_archive(client, doctor)
    url = f"/api/v1/archives/{created.get_json()['id']}"
    closed = client.post(f"{url}/close", json={"reason": "death", "date": today().isoformat(),
                                               "note": "家中病逝"}, headers=doctor)
    assert closed.status_code == 200, closed.get_json()
    body = client.get(url, headers=doctor).get_json()
    assert body["status"] == "closed" and body["name"] == "李秀英"
    assert body["closed"]["reason"] == "death" and body["closed"]["note"] == "家中病逝"
    change = client.patch(url, json={"phone": "13800002222"}, headers=if_match(doctor, closed))
    assert change.status_code == 409 and "closed" in change.get_json()["detail"]
    again = client.post(f"{url}/close", json={"reason": "other", "date": "2024-01-01", "note": "x"}, headers=doctor)
    assert again.status_code == 409
    # Death keeps the card: one lifelong archive.
    assert post_archive(client, doctor, n=0).status_code == 409
    assert db.archives.count_documents({}) == 1


def test_moved_away_hands_the_card_on(client, doctor, login):
    created = post_archive(client, doctor).get_json()
    response = client.post(f"/api/v1/archives/{created['id']}/close",
                           json={"reason": "moved_away", "date": "2025-03-01"}, headers=doctor)
    assert response.status_code == 200
    far = login("village_doctor", FAR, username="far.doctor")
    moved = post_archive(client, far, village_code=FAR)
    assert moved.status_code == 201
    # Both archives keep the card for search within their own scope.
    found = client.post("/api/v1/archives/search", json={"id_card": created["id_card"]}, headers=doctor).get_json()
    assert [item["status"] for item in found["items"]] == ["closed"]


def test_close_input_is_checked(client, db, doctor):
    created = post_archive(client, doctor).get_json()
    url = f"/api/v1/archives/{created['id']}/close"
    assert_invalid(client.post(url, json={"reason": "vanished", "date": "2025-01-01"}, headers=doctor), "reason")
    assert_invalid(client.post(url, json={"reason": "other", "date": "2025-01-01"}, headers=doctor), "note")
    assert_invalid(client.post(url, json={"reason": "duplicate", "date": "2025-01-01"}, headers=doctor),
                   "duplicate_of")
    assert_invalid(client.post(url, json={"reason": "duplicate", "date": "2025-01-01", "duplicate_of": created["id"]},
                               headers=doctor), "duplicate_of")
    future = (today() + timedelta(days=2)).isoformat()
    assert_invalid(client.post(url, json={"reason": "death", "date": future}, headers=doctor), "date")
    assert_invalid(client.post(url, json={"reason": "death", "date": "1950-01-01"}, headers=doctor), "date")
    assert db.archives.find_one()["status"] == "open"


def test_closing_a_duplicate_names_the_archive_kept(client, doctor):
    kept = post_archive(client, doctor).get_json()
    duplicate = post_archive(client, doctor, n=1, id_card=None, born=date(1958, 4, 12),
                       guardian={"name": "李军", "relation": "child"}).get_json()
    response = client.post(f"/api/v1/archives/{duplicate['id']}/close",
                           json={"reason": "duplicate", "date": today().isoformat(), "duplicate_of": kept["id"]},
                           headers=doctor)
    assert response.status_code == 200
    assert response.get_json()["closed"]["duplicate_of"] == kept["id"]


# --- Review --------------------------------------------------------------------------

def test_township_review_and_the_doctor_sees_what_to_correct(client, doctor, township):
    complete = post_archive(client, doctor).get_json()
    lacking = post_archive(client, doctor, n=1, address=None).get_json()
    qualified = client.post(f"/api/v1/archives/{complete['id']}/review", json={"verdict": "qualified"},
                            headers=township)
    assert qualified.status_code == 200
    assert qualified.get_json()["review"]["verdict"] == "qualified"
    refused = client.post(f"/api/v1/archives/{lacking['id']}/review", json={"verdict": "qualified"},
                          headers=township)
    assert_invalid(refused, "verdict")
    assert "address" in refused.get_json()["detail"]
    no_note = client.post(f"/api/v1/archives/{lacking['id']}/review", json={"verdict": "needs_correction"},
                          headers=township)
    assert_invalid(no_note, "note")
    response = client.post(f"/api/v1/archives/{lacking['id']}/review",
                           json={"verdict": "needs_correction", "note": "补充家庭住址"}, headers=township)
    assert response.status_code == 200

    to_fix = client.get("/api/v1/archives", query_string={"review": "needs_correction"}, headers=doctor).get_json()
    assert [item["id"] for item in to_fix["items"]] == [lacking["id"]]
    review = client.get(f"/api/v1/archives/{lacking['id']}", headers=doctor).get_json()["review"]
    assert review["note"] == "补充家庭住址" and review["by"] == "township101"
    unreviewed = client.get("/api/v1/archives", query_string={"review": "none"}, headers=doctor).get_json()
    assert unreviewed["total"] == 0


def test_review_makes_a_new_version(client, doctor, township):
    created = post_archive(client, doctor)
    url = f"/api/v1/archives/{created.get_json()['id']}"
    reviewed = client.post(f"{url}/review", json={"verdict": "qualified"}, headers=township).get_json()
    assert reviewed["version"] == 2 and reviewed["review"]["version"] == 2
    # The doctor's edit made on the version before the review must be redone.
    assert client.patch(url, json={"phone": "13800002222"}, headers=if_match(doctor, created)).status_code == 412


# --- Audit ---------------------------------------------------------------------------

def test_every_read_write_and_denial_is_audited(client, db, doctor, login):
    created = post_archive(client, doctor)
    archive_id = created.get_json()["id"]
    url = f"/api/v1/archives/{archive_id}"
    client.get(url, headers=doctor)
    client.patch(url, json={"allergies": ["花粉"]}, headers=if_match(doctor, created))
    client.post("/api/v1/archives/search", json={"name": "李秀英"}, headers=doctor)
    outsider = login("village_doctor", NEIGHBOUR)
    client.get(url, headers=outsider)
    entries = list(db.audit.find({"action": {"$regex": "^archive"}}).sort("at", 1))
    assert [(e["action"], e["outcome"], e["actor"]) for e in entries] == [
        ("archive.create", "ok", "village101"),
        ("archive.read", "ok", "village101"),
        ("archive.update", "ok", "village101"),
        ("archive.search", "ok", "village101"),
        ("archive.read", "denied", "village102"),
    ]
    assert all(e["region"] == VILLAGE for e in entries)
    assert entries[2]["detail"] == {"fields": ["allergies"], "version": 2}
    assert entries[3]["detail"]["filters"] == ["name"] and entries[3]["detail"]["shown"] == [archive_id]
    assert entries[1]["purpose"] == "jurisdiction" and entries[1]["ip"] == "127.0.0.1"  # the test client's
    assert all(e["archive_id"] == archive_id for e in entries if e["action"] != "archive.search")
