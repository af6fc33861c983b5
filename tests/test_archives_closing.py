"""Closing an archive as practice does: death with its cause, moved away with where to,
lost to follow-up (失访), duplicate of the archive kept, other. The archive stays, and paper
forms dated before the closing can still be entered, marked late."""

import pytest

from tests.factories import checkup, days_ago, hypertension, make_record, post_archive, post_record


def close(client, headers, archive_id, **body):
    return client.post(f"/api/v1/archives/{archive_id}/close", json=body, headers=headers)


def test_a_death_keeps_its_cause_sealed(client, db, doctor, archive_id):
    closed = close(client, doctor, archive_id, reason="death", date=days_ago(3), cause="脑出血")
    assert closed.status_code == 200, closed.get_json()
    assert (closed.get_json()["closed"]["reason"], closed.get_json()["closed"]["cause"]) == ("death", "脑出血")
    stored = db.archives.find_one({"_id": archive_id})
    assert "脑出血" not in repr(stored) and set(stored["closed"]["cause"]) == {"k", "n", "c"}
    assert client.get(f"/api/v1/archives/{archive_id}", headers=doctor).get_json()["closed"]["cause"] == "脑出血"


def test_moved_away_says_where_to_and_lets_the_person_register_there(client, db, doctor, archive_id):
    closed = close(client, doctor, archive_id, reason="moved_away", date=days_ago(3), destination="浙江省杭州市")
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["closed"]["destination"] == "浙江省杭州市"
    assert "杭州" not in repr(db.archives.find_one({"_id": archive_id}))
    assert db.identities.count_documents({}) == 0


def test_lost_to_follow_up_keeps_the_person_on_this_archive(client, db, doctor, archive_id):
    closed = close(client, doctor, archive_id, reason="lost_to_follow_up", date=days_ago(3))
    assert closed.status_code == 200, closed.get_json()
    again = post_archive(client, doctor)
    assert again.status_code == 409 and again.get_json()["existing_id"] == archive_id


@pytest.mark.parametrize("body, field, says", [
    ({"reason": "other", "cause": "不详", "note": "外出"}, "cause", "only when the reason is death"),
    ({"reason": "death", "destination": "杭州"}, "destination", "only when the reason is moved_away"),
    ({"reason": "lost"}, "reason", "Must be one of"),
    ({"reason": "death", "cause": "x" * 201}, "cause", "Must be 1 to 200 characters"),
])
def test_a_closing_that_does_not_fit_its_reason_is_a_422_and_closes_nothing(client, db, doctor, archive_id,
                                                                           body, field, says):
    response = close(client, doctor, archive_id, date=days_ago(3), **body)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert says in response.get_json()["errors"][field][0]
    assert db.archives.find_one({"_id": archive_id})["status"] == "open"


def test_paper_forms_dated_before_the_closing_are_entered_late(client, doctor, archive_id):
    kept = make_record(client, doctor, archive_id, hypertension(days_ago(20)))
    assert kept.get("late") is None
    assert close(client, doctor, archive_id, reason="death", date=days_ago(5)).status_code == 200

    late = make_record(client, doctor, archive_id, checkup(date=days_ago(6)))
    assert late["late"] is True
    on_the_day = make_record(client, doctor, archive_id, hypertension(days_ago(5)))
    assert on_the_day["late"] is True
    after = post_record(client, doctor, archive_id, hypertension(days_ago(4)))
    assert after.status_code == 409 and "dated on or before that day" in after.get_json()["detail"]
    visit = client.post(f"/api/v1/archives/{archive_id}/records/batch", headers=doctor,
                        json={"records": [checkup(date=days_ago(6)), hypertension(days_ago(4))]})
    assert visit.status_code == 409  # one form of the visit is dated after the closing
    amended = client.post(f"/api/v1/archives/{archive_id}/records/{late['id']}/amend", headers=doctor,
                          json={"changes": {"symptoms": []}, "reason": "录入错误"})
    assert amended.status_code == 409  # a closed archive is kept as it is

    items = client.get(f"/api/v1/archives/{archive_id}/records", headers=doctor).get_json()["items"]
    assert sorted((item["date"], item.get("late", False)) for item in items) == [
        (days_ago(20), False), (days_ago(6), True), (days_ago(5), True)]


def test_late_forms_are_for_the_archives_own_staff_only(client, login, doctor, archive_id):
    assert close(client, doctor, archive_id, reason="death", date=days_ago(5)).status_code == 200
    outsider = login("village_doctor", "411423101102")
    assert post_record(client, outsider, archive_id, checkup(date=days_ago(6))).status_code == 404
