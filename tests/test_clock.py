"""One clock: stored times in UTC, the days people write on forms in China time. At 01:00
in Beijing a UTC server is still on the day before, and "today" must be Beijing's."""

from datetime import UTC, datetime, time, timedelta

import pytest

from healthrec import clock

VILLAGE = "411423101101"


@pytest.fixture
def one_in_the_morning(monkeypatch):
    """Pin the clock to 01:00 Beijing time: 17:00 UTC of the day before."""
    utc_day = datetime.now(UTC).date()
    pinned = datetime.combine(utc_day, time(17, 0), tzinfo=UTC)
    monkeypatch.setattr(clock, "utcnow", lambda: pinned)
    beijing_today = clock.today()
    assert beijing_today > utc_day and clock.local(pinned).hour == 1
    return beijing_today


def test_a_baby_born_today_in_beijing_is_registered_and_closed_today(client, login, one_in_the_morning):
    doctor = login("village_doctor", VILLAGE)
    today = one_in_the_morning.isoformat()
    created = client.post("/api/v1/archives", headers=doctor, json={
        "village_code": VILLAGE, "name": "张小宝", "sex": "male", "birth_date": today,
        "guardian": {"name": "张伟", "relation": "father", "phone": "13912345678"}})
    assert created.status_code == 201, created.get_json()
    archive = created.get_json()
    assert "child" in archive["key_populations"]

    visit = client.post(f"/api/v1/archives/{archive['id']}/records", headers=doctor, json={
        "kind": "encounter", "date": today, "assessment": "新生儿访视，一般情况好"})
    assert visit.status_code == 201, visit.get_json()

    closed = client.post(f"/api/v1/archives/{archive['id']}/close", headers=doctor,
                         json={"reason": "other", "date": today, "note": "随父母迁往外省"})
    assert closed.status_code == 200, closed.get_json()
    assert closed.get_json()["closed"]["date"] == today


def test_a_day_after_beijing_today_is_still_the_future(client, login, one_in_the_morning):
    doctor = login("village_doctor", VILLAGE)
    tomorrow = one_in_the_morning + timedelta(days=1)
    response = client.post("/api/v1/archives", headers=doctor, json={
        "village_code": VILLAGE, "name": "张小宝", "sex": "male", "birth_date": tomorrow.isoformat(),
        "guardian": {"name": "张伟", "relation": "father"}})
    assert response.status_code == 422
    assert "future" in response.get_json()["errors"]["birth_date"][0]
