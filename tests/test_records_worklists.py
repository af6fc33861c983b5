"""What the records feed: the village doctor's due list, the usage rate's "service record
within the last year", and an index behind every query the records service sends."""

from datetime import date

from healthrec.clock import today
from healthrec.records import worklists
from tests.factories import (
    COUNTY,
    NEIGHBOUR,
    TOWNSHIP,
    VILLAGE,
    amend,
    checkup,
    days_ago,
    hypertension,
    make_archive,
    make_record,
    post_record,
    receive,
    record_body,
    timeline,
    years_ago,
)
from tests.querycheck import unsupported, watched


def adult(client, headers, n, **changes):
    """The archive id of resident `n`, aged 50: neither elderly nor a child."""
    return make_archive(client, headers, n, born=years_ago(50, days=n), **changes)


def due(client, headers, village=VILLAGE):
    """The due list, in its order: (archive id, reason) -> item."""
    response = client.get("/api/v1/followups/due", query_string={"village": village}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return {(item["archive_id"], item["reason"]): item for item in response.get_json()["items"]}


def tenth(months_back):
    """The 10th of the month `months_back` months before this one."""
    year, month = divmod(today().year * 12 + today().month - 1 - months_back, 12)
    return date(year, month + 1, 10)


def test_the_due_list_names_who_needs_a_visit(client, doctor):
    overdue = adult(client, doctor, 1, key_populations=["hypertension"])
    last_week = adult(client, doctor, 2, key_populations=["hypertension"])
    never = adult(client, doctor, 3, key_populations=["diabetes"])
    elderly = make_archive(client, doctor, 4, born=years_ago(70))
    elderly_checked = make_archive(client, doctor, 5, born=years_ago(72))
    adult(client, doctor, 6)  # neither chronic nor elderly
    last_year = date(today().year - 1, 1, 10)  # before tenth(5) whatever today is
    make_record(client, doctor, overdue, hypertension(tenth(7).isoformat()))
    make_record(client, doctor, overdue, hypertension(tenth(5).isoformat()))
    make_record(client, doctor, last_week, hypertension(days_ago(7)))
    make_record(client, doctor, elderly, checkup(date=last_year.isoformat()))
    make_record(client, doctor, elderly_checked, checkup(date=today().isoformat()))

    items = due(client, doctor)
    # Never seen first, then the longest overdue; last_week and elderly_checked are not due.
    assert list(items) == [(never, "diabetes"), (elderly, "elderly_checkup"), (overdue, "hypertension")]
    assert [(item["name"], item["last_date"], item["due_since"]) for item in items.values()] == [
        ("李秀英3", None, None),
        ("李秀英4", last_year.isoformat(), f"{today().year}-01-01"),  # no checkup this year
        ("李秀英1", tenth(5).isoformat(), tenth(2).isoformat()),  # three months after the last follow-up
    ]


def test_a_diabetes_follow_up_does_not_count_for_hypertension(client, doctor):
    both = adult(client, doctor, 1, key_populations=["hypertension", "diabetes"])
    post_record(client, doctor, both, {"kind": "followup", "population": "diabetes", "date": days_ago(3),
                                "fasting_glucose": 6.1, "adherence": "regular", "control": "satisfactory"})
    assert list(due(client, doctor)) == [(both, "hypertension")]


def test_an_amended_date_moves_the_follow_up(client, doctor):
    patient = adult(client, doctor, 1, key_populations=["hypertension"])
    record = make_record(client, doctor, patient, hypertension(days_ago(3)))
    assert due(client, doctor) == {}
    amend(client, doctor, patient, record["id"], {"date": days_ago(130)}, "日期录入错误")
    assert list(due(client, doctor)) == [(patient, "hypertension")]


def test_closed_archives_leave_the_due_list(client, doctor):
    patient = adult(client, doctor, 1, key_populations=["hypertension"])
    assert list(due(client, doctor)) == [(patient, "hypertension")]
    closed = client.post(f"/api/v1/archives/{patient}/close", json={"reason": "death", "date": days_ago(1)},
                         headers=doctor)
    assert closed.status_code == 200, closed.get_json()
    assert due(client, doctor) == {}


def test_the_due_list_is_for_staff_of_the_village_and_audited(client, db, doctor, township, login):
    patient = adult(client, doctor, 1, key_populations=["hypertension"])
    assert list(due(client, township)) == [(patient, "hypertension")]
    for role, region in (("village_doctor", NEIGHBOUR), ("supervisor", COUNTY)):
        response = client.get("/api/v1/followups/due", query_string={"village": VILLAGE},
                              headers=login(role, region))
        assert response.status_code == 403
    bad = client.get("/api/v1/followups/due", query_string={"village": "4114"}, headers=doctor)
    assert bad.status_code == 422 and "village" in bad.get_json()["errors"]
    outcomes = {(e["actor"], e["outcome"]) for e in db.audit.find({"action": "followups.due"})}
    assert outcomes == {("township101", "ok"), ("village102", "denied"), ("supervisor423", "denied")}


def test_service_in_the_last_year_comes_from_the_records(app, client, doctor, login):
    recent = adult(client, doctor, 1)
    stale = adult(client, doctor, 2)
    adult(client, doctor, 3)  # no record at all
    neighbour_doctor = login("village_doctor", NEIGHBOUR)
    neighbour = adult(client, neighbour_doctor, 4, village_code=NEIGHBOUR)
    post_record(client, doctor, recent, {"kind": "encounter", "date": days_ago(30), "assessment": "感冒"})
    post_record(client, doctor, stale, {"kind": "encounter", "date": days_ago(400), "assessment": "感冒"})
    post_record(client, neighbour_doctor, neighbour, hypertension(days_ago(10)))
    year_ago = date.fromisoformat(days_ago(365))
    with app.app_context():
        assert worklists.archives_with_service_since(VILLAGE, year_ago) == {recent}
        assert worklists.archives_with_service_since(TOWNSHIP, year_ago) == {recent, neighbour}
        # An indicator as of an earlier day counts what was dated up to that day.
        as_of = date.fromisoformat(days_ago(20))
        assert worklists.archives_with_service_since(TOWNSHIP, date.fromisoformat(days_ago(385)), as_of) == {recent}


# --- Every query shape has an index ---------------------------------------------------

def test_every_records_query_has_a_supporting_index(app, client, devdb, doctor, township):
    with watched(app, devdb) as listener:
        patient = adult(client, doctor, 1, key_populations=["hypertension"])
        record = post_record(client, doctor, patient, checkup(), key="k1").get_json()
        post_record(client, doctor, patient, checkup(), key="k1")
        amend(client, doctor, patient, record["id"], {"general": {"weight": 70}})
        timeline(client, doctor, patient, kind="checkup", population="hypertension", since=days_ago(30))
        timeline(client, doctor, patient, history="true", page=2, per_page=1)
        client.get(f"/api/v1/archives/{patient}/records/{record['id']}", headers=doctor)
        sent = make_record(client, doctor, patient, record_body("referral"))
        client.get("/api/v1/referrals/incoming", headers=township)
        receive(client, township, patient, sent["id"])
        due(client, doctor)
        with app.app_context():
            worklists.archives_with_service_since(TOWNSHIP, date.fromisoformat(days_ago(365)))
    ours = ("records", "idempotency_keys")
    shapes = list(listener.shapes(ours))
    assert {c for c, _q, _s in shapes} == set(ours)
    assert len(shapes) >= 10
    assert unsupported(listener, ours) == []
