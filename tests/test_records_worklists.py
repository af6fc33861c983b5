"""What the records feed: the village doctor's due list, the usage rate's "service record
within the last year", and an index behind every query the records service sends."""

import threading
from datetime import date, timedelta

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
    transferred,
    years_ago,
)
from tests.querycheck import unsupported, watched


def adult(client, headers, n, **changes):
    """The archive id of resident `n`, aged 50: neither elderly nor a child."""
    return make_archive(client, headers, n, born=years_ago(50, days=n), **changes)


def due(client, headers, village=VILLAGE, reasons=None, within=None):
    """The due list (of `reasons` only, when given), in its order: (archive id, reason) -> item."""
    query = {"village": village, **({"within": within} if within is not None else {})}
    response = client.get("/api/v1/followups/due", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return {(item["archive_id"], item["reason"]): item for item in response.get_json()["items"]
            if reasons is None or item["reason"] in reasons}


def urgent(client, headers, region=None):
    """The urgent list's items, in its order."""
    response = client.get("/api/v1/followups/urgent", query_string={"region": region} if region else {},
                          headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


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

    items = due(client, doctor, reasons=("hypertension", "diabetes", "elderly_checkup"))
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
    assert list(due(client, doctor, reasons=("hypertension", "diabetes"))) == [(both, "hypertension")]


def test_an_amended_date_moves_the_follow_up(client, doctor):
    patient = adult(client, doctor, 1, key_populations=["hypertension"])
    record = make_record(client, doctor, patient, hypertension(days_ago(3)))
    assert due(client, doctor, reasons=("hypertension",)) == {}
    amend(client, doctor, patient, record["id"], {"date": days_ago(130)}, "日期录入错误")
    assert list(due(client, doctor, reasons=("hypertension",))) == [(patient, "hypertension")]


def test_closed_archives_leave_the_due_list(client, doctor):
    patient = adult(client, doctor, 1, key_populations=["hypertension"])
    assert (patient, "hypertension") in due(client, doctor)
    closed = client.post(f"/api/v1/archives/{patient}/close", json={"reason": "death", "date": days_ago(1)},
                         headers=doctor)
    assert closed.status_code == 200, closed.get_json()
    assert due(client, doctor) == {}


def test_the_due_list_is_for_staff_of_the_village_and_audited(client, db, doctor, township, login):
    patient = adult(client, doctor, 1, key_populations=["hypertension"])
    assert list(due(client, township, reasons=("hypertension",))) == [(patient, "hypertension")]
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


# --- Rechecks, visit points and sealed forms ---------------------------------------------

def test_an_uncontrolled_patient_seen_today_is_due_again_within_14_days(client, doctor):
    patient = adult(client, doctor, 1, key_populations=["hypertension"])
    make_record(client, doctor, patient, hypertension(today().isoformat(), control="unsatisfactory",
                                                      blood_pressure={"systolic": 152, "diastolic": 94}))
    reasons = ("hypertension", "hypertension_recheck")
    assert due(client, doctor, reasons=reasons) == {}
    assert due(client, doctor, reasons=reasons, within=13) == {}
    [item] = due(client, doctor, reasons=reasons, within=14).values()
    assert (item["reason"], item["due_on"], item["since"]) == (
        "hypertension_recheck", (today() + timedelta(days=14)).isoformat(), today().isoformat())


def test_children_and_pregnant_women_are_due_by_their_schedule(client, doctor):
    baby = make_archive(client, doctor, 1, born=years_ago(0, days=20), id_card=None,
                        guardian={"name": "赵强", "relation": "father", "phone": "13700001111"})
    mother = make_archive(client, doctor, 2, born=years_ago(27), key_populations=["maternal"])
    reasons = ("child_visit", "maternal_visit")
    # Both never seen: the one due longest first (the newborn visit is due a week after birth).
    assert [(key, item["visit"]) for key, item in due(client, doctor, reasons=reasons).items()] == [
        ((baby, "child_visit"), "newborn"), ((mother, "maternal_visit"), "first_prenatal")]
    make_record(client, doctor, baby, record_body("followup", "child", date=days_ago(15), visit="newborn",
                                                  weight=3.6, height=52, head_circumference=35,
                                                  newborn={"birth_weight": 3.3}))
    make_record(client, doctor, mother, record_body("followup", "maternal", visit="first_prenatal",
                                                    gestational_week=10, date=days_ago(0)))
    assert due(client, doctor, reasons=reasons) == {}
    later = due(client, doctor, reasons=reasons, within=60)
    assert later[baby, "child_visit"]["visit"] == "month_1"
    assert later[mother, "maternal_visit"]["due_on"] == (today() + timedelta(weeks=6)).isoformat()  # week 16


def test_the_due_list_reads_what_the_sealed_forms_say(client, doctor):
    patient = adult(client, doctor, 1, key_populations=["severe_mental_disorder", "tuberculosis"])
    make_record(client, doctor, patient, record_body("followup", "severe_mental_disorder", date=days_ago(0),
                                                     classification="unstable"))
    make_record(client, doctor, patient, record_body("followup", "tuberculosis", date=days_ago(0), treatment_month=1))
    items = due(client, doctor, within=14, reasons=("severe_mental_disorder_recheck", "tuberculosis"))
    assert {reason: item["due_on"] for (_, reason), item in items.items()} == {
        "severe_mental_disorder_recheck": (today() + timedelta(days=14)).isoformat(),
        "tuberculosis": (today() + timedelta(days=10)).isoformat()}


def test_phone_calls_leave_the_face_to_face_visit_due(client, doctor):
    patient = adult(client, doctor, 1, key_populations=["diabetes"])
    body = record_body("followup", "diabetes", date=today().isoformat(), method="phone")
    make_record(client, doctor, patient, body)
    assert list(due(client, doctor, reasons=("diabetes_face_to_face",))) == [(patient, "diabetes_face_to_face")]
    make_record(client, doctor, patient, {**body, "method": "clinic"})
    assert due(client, doctor, reasons=("diabetes_face_to_face",)) == {}


# --- The urgent list ----------------------------------------------------------------------

DANGER = {"blood_pressure": {"systolic": 190, "diastolic": 115}, "control": "unsatisfactory"}


def test_a_danger_value_keeps_the_patient_on_top_until_a_referral_is_recorded(client, db, doctor, township, login):
    calm = adult(client, doctor, 1, key_populations=["hypertension"])
    patient = adult(client, doctor, 2, key_populations=["hypertension"])
    make_record(client, doctor, calm, hypertension(days_ago(200)))
    record = make_record(client, doctor, patient, hypertension(days_ago(1), **DANGER))
    [item] = urgent(client, township)
    assert (item["archive_id"], item["name"], item["record_id"], item["since"]) == (
        patient, "李秀英2", record["id"], days_ago(1))
    assert "190/115" in item["detail"]
    assert urgent(client, doctor, VILLAGE) == [item]  # the village doctor, for their village
    assert list(due(client, doctor))[0] == (patient, "urgent_referral")
    neighbour = login("village_doctor", NEIGHBOUR)
    assert urgent(client, neighbour) == []  # their own village's
    for headers, region in ((doctor, TOWNSHIP), (login("supervisor", COUNTY), TOWNSHIP), (neighbour, VILLAGE)):
        refused = client.get("/api/v1/followups/urgent", query_string={"region": region}, headers=headers)
        assert refused.status_code == 403
    assert "190/115" not in repr(list(db.urgent.find()))  # the detail is sealed

    # A referral dated before the danger value does not count; one on the day or later does.
    make_record(client, doctor, patient, record_body("referral", date=days_ago(3)))
    assert len(urgent(client, township)) == 1
    make_record(client, doctor, patient, record_body("referral", date=days_ago(0)))
    assert urgent(client, township) == []
    assert (patient, "urgent_referral") not in due(client, doctor)
    outcomes = {(e["actor"], e["outcome"]) for e in db.audit.find({"action": "followups.urgent"})}
    assert outcomes == {("township101", "ok"), ("village101", "ok"), ("village101", "denied"),
                        ("supervisor423", "denied"), ("village102", "ok"), ("village102", "denied")}


def test_a_referral_made_at_the_same_visit_resolves_it_at_once(client, doctor, township):
    patient = adult(client, doctor, 1, key_populations=["hypertension", "diabetes"])
    visit = [hypertension(days_ago(0), **DANGER), record_body("referral", date=days_ago(0))]
    response = client.post(f"/api/v1/archives/{patient}/records/batch", json={"records": visit}, headers=doctor)
    assert response.status_code == 201, response.get_json()
    referred_here = record_body("followup", "diabetes", date=days_ago(0), fasting_glucose=18.2,
                                control="unsatisfactory", referral={"reason": "血糖过高", "institution": "县人民医院"})
    assert make_record(client, doctor, patient, referred_here)["alerts"][0]["code"] == "urgent_referral"
    assert urgent(client, township) == []


def test_correcting_the_reading_takes_the_patient_off_and_a_closed_archive_leaves(client, doctor, township):
    typo = adult(client, doctor, 1, key_populations=["hypertension"])
    died = adult(client, doctor, 2, key_populations=["hypertension"])
    record = make_record(client, doctor, typo, hypertension(days_ago(1), **DANGER))
    make_record(client, doctor, died, hypertension(days_ago(1), **DANGER))
    assert {item["archive_id"] for item in urgent(client, township)} == {typo, died}
    corrected = amend(client, doctor, typo, record["id"], {"blood_pressure": {"systolic": 150, "diastolic": 95}})
    assert corrected.status_code == 200, corrected.get_json()
    client.post(f"/api/v1/archives/{died}/close", json={"reason": "death", "date": days_ago(0)}, headers=doctor)
    assert urgent(client, township) == []
    amend(client, doctor, typo, record["id"], {"blood_pressure": DANGER["blood_pressure"]}, "改回原值")
    assert [item["archive_id"] for item in urgent(client, township)] == [typo]


def test_an_open_urgent_case_follows_the_archive_to_its_new_township(client, people):
    patient = make_archive(client, people["doc"], 1, key_populations=["hypertension"])
    make_record(client, people["doc"], patient, hypertension(days_ago(1), **DANGER))
    transferred(client, people, patient)
    assert urgent(client, people["staff"]) == []
    assert [item["archive_id"] for item in urgent(client, people["town2"])] == [patient]
    assert [item["archive_id"] for item in urgent(client, people["urban_doc"])] == [patient]


def test_concurrent_repeats_of_a_danger_value_open_one_case(app, db, doctor, township):
    patient = adult(app.test_client(), doctor, 1, key_populations=["hypertension"])
    barrier, answers = threading.Barrier(4), []

    def send():
        client = app.test_client()
        barrier.wait()
        answers.append(post_record(client, doctor, patient, hypertension(days_ago(0), **DANGER), key="bp-190"))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200, 200, 200, 201]
    assert db.urgent.count_documents({"archive_id": patient}) == 1
    assert len(urgent(app.test_client(), township)) == 1


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
        danger = make_record(client, doctor, patient, hypertension(days_ago(1), **DANGER))
        amend(client, doctor, patient, danger["id"], {"blood_pressure": {"systolic": 185, "diastolic": 100}})
        urgent(client, township)
        urgent(client, doctor, VILLAGE)
        due(client, doctor, within=30)
        make_record(client, doctor, patient, record_body("referral", date=days_ago(0)))
        with app.app_context():
            worklists.archives_with_service_since(TOWNSHIP, date.fromisoformat(days_ago(365)))
    ours = ("records", "idempotency_keys", "urgent")
    shapes = list(listener.shapes(ours))
    assert {c for c, _q, _s in shapes} == set(ours)
    assert len(shapes) >= 10
    assert unsupported(listener, ours) == []
