"""Service records as village doctors use them: append a checked form, resubmit safely,
correct with history, read the timeline; referrals confirmed by the receiving side."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from healthrec.clock import today
from tests.factories import (
    COUNTY,
    FORMS,
    NEIGHBOUR,
    URBAN_TOWNSHIP,
    VILLAGE,
    amend,
    checkup,
    code,
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
from tests.problems import assert_invalid

# --- Appending a record ---------------------------------------------------------------

def test_a_valid_checkup_is_201_with_bmi_and_reads_back(client, doctor, archive_id):
    response = post_record(client, doctor, archive_id, checkup())
    assert response.status_code == 201, response.get_json()
    record = response.get_json()
    assert record["kind"] == "checkup" and record["version"] == 1 and record["current"] is True
    assert record["general"]["bmi"] == 25.0  # 72.3 / 1.70²
    assert record["author"] == "village101" and record["archive_id"] == archive_id
    assert record["village"] == VILLAGE
    assert timedelta(0) <= datetime.now(UTC) - datetime.fromisoformat(record["created_at"]) < timedelta(minutes=1)
    [listed] = timeline(client, doctor, archive_id)["items"]
    assert listed == record
    assert listed["medications"][0]["name"] == "硝苯地平缓释片"


def test_free_text_and_diagnoses_are_encrypted_at_rest(client, db, doctor, archive_id):
    post_record(client, doctor, archive_id, checkup())
    post_record(client, doctor, archive_id, {"kind": "encounter", "date": days_ago(1), "subjective": "头晕三天",
                                      "assessment": "高血压2级", "plan": "调整用药"})
    stored = list(db.records.find({"archive_id": archive_id}))
    raw = repr(stored)
    for secret in ("原发性高血压", "硝苯地平", "血压偏高", "低盐饮食", "头晕三天", "高血压2级", "调整用药"):
        assert secret not in raw
    # What the due list, indicators and routing need stays plain.
    assert {doc["kind"] for doc in stored} == {"checkup", "encounter"}
    checkup_doc = next(doc for doc in stored if doc["kind"] == "checkup")
    assert checkup_doc["general"]["blood_pressure_left"]["systolic"] == 148


def test_systolic_400_is_422_naming_the_field_and_range_and_writes_nothing(client, db, doctor, archive_id):
    body = checkup(general={"height": 170, "weight": 72, "blood_pressure_left": {"systolic": 400, "diastolic": 90}})
    errors = assert_invalid(post_record(client, doctor, archive_id, body),
                            general__blood_pressure_left__systolic="between 50 and 300 mmHg")
    assert list(errors) == ["general.blood_pressure_left.systolic"]
    assert db.records.count_documents({}) == 0


@pytest.mark.parametrize(("body", "field", "text"), [
    # Two days ahead: still in the future if the run crosses midnight after collection.
    (checkup(date=(today() + timedelta(days=2)).isoformat()), "date", "and today"),
    (checkup(general={"pulse": 10}), "general.pulse", "between 30 and 220 beats/min"),
    (checkup(general={"height": 170, "weight": 900}), "general.weight", "between 2 and 300 kg"),
    (checkup(general={"blood_pressure_left": {"systolic": 120, "diastolic": 130}}),
     "general.blood_pressure_left.diastolic", "lower than the systolic"),
    (checkup(general={"bmi": 24}), "general.bmi", "Leave this field out: it is computed"),
    (checkup(evaluation={"result": "abnormal"}), "evaluation.abnormal_items", "Name each abnormal"),
    (checkup(medications=[{"dose": "5mg"}]), "medications.0.name", "required"),
    (checkup(symptoms=["none", "headache"]), "symptoms", "'none' cannot"),
    ({"kind": "hospitalization", "date": days_ago(3), "hospital": "县人民医院", "admitted": days_ago(3),
      "discharged": days_ago(10), "diagnosis": "肺炎"}, "discharged", "before the admission date"),
    (hypertension(days_ago(1), next_followup=days_ago(1)), "next_followup", "after the follow-up date"),
    ({"kind": "followup", "population": "diabetes", "date": days_ago(1), "fasting_glucose": 80,
      "adherence": "regular", "control": "satisfactory"}, "fasting_glucose", "between 1 and 35 mmol/L"),
    ({"kind": "followup", "population": "maternal", "date": days_ago(1), "visit": "prenatal"},
     "gestational_week", "1 to 45 weeks"),
    ({"kind": "followup", "population": "elderly", "date": days_ago(1), "self_care_score": 40},
     "self_care_score", "between 0 and 37"),
    ({"kind": "followup", "date": days_ago(1)}, "population", "hypertension, diabetes"),
    ({"kind": "lab", "date": days_ago(1)}, "kind", "checkup, encounter, followup"),
    ({"kind": "referral", "date": days_ago(1), "direction": "up", "from_institution": "柳河村卫生室",
      "to_institution": "柳河镇卫生院", "to_region": "411423199", "reason": "血压控制不佳"},
     "to_region", "no region 411423199"),
])
def test_range_and_logic_errors_name_the_field(client, db, doctor, archive_id, body, field, text):
    assert_invalid(post_record(client, doctor, archive_id, body), **{field: text})
    assert db.records.count_documents({}) == 0


def test_every_kind_is_accepted(client, doctor, archive_id):
    # The woman of archive_id for everything but the child's form, which goes to a toddler's archive.
    toddler = make_archive(client, doctor, 1, born=years_ago(1, days=10))
    changes: dict[tuple[str, str | None], dict] = {
        ("followup", "hypertension"): {"height": 170, "weight": 70, "next_followup": days_ago(-90),
                                       "medications": [{"name": "氨氯地平"}]},
        ("followup", "diabetes"): {"adherence": "intermittent", "control": "unsatisfactory", "fasting_glucose": 8.4,
                                   "insulin": "诺和灵30R 早12U"},
        ("followup", "elderly"): {"self_care_score": 5},
    }
    for form in FORMS:
        resident = toddler if form == ("followup", "child") else archive_id
        response = post_record(client, doctor, resident, record_body(*form, **changes.get(form, {})))
        assert response.status_code == 201, (form, response.get_json())
    records = {(r["kind"], r.get("population")): r for resident in (archive_id, toddler)
               for r in timeline(client, doctor, resident)["items"]}
    assert set(records) == {("checkup", None), ("encounter", None), ("referral", None), ("consultation", None),
                            ("hospitalization", None), *(("followup", population) for population in
                                                         ("hypertension", "diabetes", "child", "maternal", "elderly",
                                                          "severe_mental_disorder", "tuberculosis"))}
    assert records[("followup", "hypertension")]["bmi"] == 24.2
    assert records[("followup", "elderly")]["self_care_level"] == "mildly_dependent"
    assert records[("referral", None)]["status"] == "sent"
    assert records[("followup", "diabetes")]["insulin"] == "诺和灵30R 早12U"


# --- Idempotency-Key ------------------------------------------------------------------

def test_the_same_idempotency_key_twice_gives_one_record(client, db, doctor, archive_id):
    first = post_record(client, doctor, archive_id, checkup(), key="visit-7f3a")
    again = post_record(client, doctor, archive_id, checkup(), key="visit-7f3a")
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json() == first.get_json()
    assert db.records.count_documents({"archive_id": archive_id}) == 1
    other = post_record(client, doctor, archive_id, checkup(), key="visit-8b21")
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]


def test_the_same_key_with_a_different_body_is_422(client, db, doctor, archive_id):
    post_record(client, doctor, archive_id, checkup(), key="visit-1")
    changed = checkup(general={"height": 170, "weight": 73})
    errors = assert_invalid(post_record(client, doctor, archive_id, changed, key="visit-1"),
                            **{"Idempotency-Key": "different request"})
    assert list(errors) == ["Idempotency-Key"]
    assert db.records.count_documents({}) == 1


def test_concurrent_repeats_of_a_key_make_one_record(app, db, doctor, archive_id):
    rounds, threads_per_round = 4, 4
    for n in range(rounds):
        barrier = threading.Barrier(threads_per_round)
        answers: list = []

        def send(key=f"flaky-{n}", barrier=barrier, answers=answers):
            client = app.test_client()
            barrier.wait()
            answers.append(post_record(client, doctor, archive_id, checkup(), key=key))

        threads = [threading.Thread(target=send) for _ in range(threads_per_round)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(a.status_code for a in answers) == [200] * (threads_per_round - 1) + [201]
        assert len({a.get_json()["id"] for a in answers}) == 1
    assert db.records.count_documents({"archive_id": archive_id}) == rounds


def test_a_malformed_idempotency_key_is_422(client, db, doctor, archive_id):
    assert_invalid(post_record(client, doctor, archive_id, checkup(), key="x" * 200), **{"Idempotency-Key": "1 to 128"})
    assert db.records.count_documents({}) == 0


def test_the_forms_of_one_visit_go_in_together(client, db, doctor, archive_id):
    visit = [checkup(), hypertension(days_ago(2), next_followup=days_ago(-88)),
             {"kind": "followup", "population": "elderly", "date": days_ago(2), "self_care_score": 2}]
    url = f"/api/v1/archives/{archive_id}/records/batch"
    response = client.post(url, json={"records": visit}, headers={**doctor, "Idempotency-Key": "visit-42"})
    assert response.status_code == 201, response.get_json()
    made = response.get_json()["items"]
    assert [(r["kind"], r.get("population")) for r in made] == [
        ("checkup", None), ("followup", "hypertension"), ("followup", "elderly")]
    again = client.post(url, json={"records": visit}, headers={**doctor, "Idempotency-Key": "visit-42"})
    assert again.status_code == 200 and again.get_json()["items"] == made
    assert db.records.count_documents({"archive_id": archive_id}) == 3
    # The repeat writes nothing and adds no second entry.
    [entry] = db.audit.find({"action": "record.create", "archive_id": archive_id})
    assert entry["detail"]["records"] == [r["id"] for r in made]


def test_one_bad_form_keeps_the_whole_visit_out(client, db, doctor, archive_id):
    visit = [checkup(), {"kind": "followup", "population": "diabetes", "date": days_ago(1), "fasting_glucose": 80,
                         "adherence": "regular", "control": "satisfactory"}]
    response = client.post(f"/api/v1/archives/{archive_id}/records/batch", json={"records": visit}, headers=doctor)
    assert_invalid(response, **{"records.1.fasting_glucose": "between 1 and 35 mmol/L"})
    empty = client.post(f"/api/v1/archives/{archive_id}/records/batch", json={"records": []}, headers=doctor)
    assert_invalid(empty, records="1 to 20")
    assert db.records.count_documents({}) == 0


# --- Amendments -----------------------------------------------------------------------

def test_an_amendment_keeps_both_versions(client, db, doctor, archive_id):
    first = make_record(client, doctor, archive_id, checkup())
    response = amend(client, doctor, archive_id, first["id"], {"general": {"weight": 62.3}}, "体重录入错误")
    assert response.status_code == 200, response.get_json()
    second = response.get_json()
    assert second["id"] == first["id"] and second["version"] == 2
    assert second["general"]["weight"] == 62.3 and second["general"]["bmi"] == 21.6
    assert second["general"]["pulse"] == 78  # merged, not replaced
    assert second["change"]["reason"] == "体重录入错误" and second["change"]["by"] == "village101"
    assert second["author"] == first["author"] and second["created_at"] == first["created_at"]
    # The timeline shows the current version; the history holds both.
    [current] = timeline(client, doctor, archive_id)["items"]
    assert current["version"] == 2
    everything = timeline(client, doctor, archive_id, history="true")["items"]
    assert [(r["version"], r["current"]) for r in everything] == [(2, True), (1, False)]
    assert everything[1]["general"]["weight"] == 72.3
    one = client.get(f"/api/v1/archives/{archive_id}/records/{first['id']}", headers=doctor).get_json()
    assert one["version"] == 2 and [old["version"] for old in one["history"]] == [1]
    assert db.records.count_documents({"record_id": first["id"]}) == 2
    assert "体重录入错误" not in repr(list(db.records.find()))


def test_an_amendment_is_checked_like_a_new_record(client, db, doctor, archive_id):
    record = make_record(client, doctor, archive_id, checkup())
    assert_invalid(amend(client, doctor, archive_id, record["id"], {"general": {"weight": 900}}),
                   changes__general__weight="between 2 and 300 kg")
    assert_invalid(amend(client, doctor, archive_id, record["id"], {"kind": "encounter"}),
                   changes__kind="cannot change")
    assert_invalid(amend(client, doctor, archive_id, record["id"], {"general": {"weight": 72.3}}),
                   changes="nothing was amended")
    # null removes an optional field
    cleared = amend(client, doctor, archive_id, record["id"], {"guidance": None})
    assert cleared.status_code == 200 and "guidance" not in cleared.get_json()
    missing = amend(client, doctor, archive_id, "nosuchrecord", {"note": "x"}, etag='"nosuchrecord.1"')
    assert missing.status_code == 404
    assert db.records.count_documents({"record_id": record["id"]}) == 2


def test_an_amendment_is_made_on_the_version_read(client, db, doctor, archive_id):
    record = make_record(client, doctor, archive_id, checkup())
    path = f"/api/v1/archives/{archive_id}/records/{record['id']}"
    read = client.get(path, headers=doctor)
    assert read.headers["ETag"] == f'"{record["id"]}.1"'
    body = {"changes": {"general": {"weight": 61}}, "reason": "录入错误"}
    for headers in (doctor, {**doctor, "If-Match": "*"}):
        unguarded = client.post(f"{path}/amend", json=body, headers=headers)
        assert unguarded.status_code == 428 and "If-Match" in unguarded.get_json()["detail"]
    first = client.post(f"{path}/amend", json=body, headers={**doctor, "If-Match": read.headers["ETag"]})
    assert first.status_code == 200 and first.headers["ETag"] == f'"{record["id"]}.2"'
    # A second change made on what the first read showed would undo the first: refused.
    stale = client.post(f"{path}/amend", json={"changes": {"general": {"weight": 65}}, "reason": "录入错误"},
                        headers={**doctor, "If-Match": read.headers["ETag"]})
    assert stale.status_code == 412 and stale.get_json()["current_version"] == 2
    assert sorted(doc["version"] for doc in db.records.find({"record_id": record["id"]})) == [1, 2]
    assert db.audit.count_documents({"action": "record.amend", "outcome": "ok"}) == 1


def test_an_amended_referral_goes_to_a_current_region(client, db, doctor, archive_id):
    referral = make_record(client, doctor, archive_id, record_body("referral", to_region=URBAN_TOWNSHIP))
    assert_invalid(amend(client, doctor, archive_id, referral["id"], {"to_region": "411423101199"}),
                   changes__to_region="There is no region 411423101199")
    yesterday = (today() - timedelta(days=1)).isoformat()
    db.regions.update_one({"_id": URBAN_TOWNSHIP}, {"$set": {"valid_to": yesterday}})
    # The whole record is checked again, not only what changed.
    assert_invalid(amend(client, doctor, archive_id, referral["id"], {"reason": "血压控制不佳,头痛"}),
                   changes__to_region="retired")
    assert db.records.count_documents({"record_id": referral["id"]}) == 1


def test_concurrent_amendments_never_share_a_version(app, db, doctor, archive_id):
    client = app.test_client()
    record = make_record(client, doctor, archive_id, checkup())
    etag = client.get(f"/api/v1/archives/{archive_id}/records/{record['id']}", headers=doctor).headers["ETag"]
    barrier = threading.Barrier(4)
    statuses = []

    def change(weight):
        barrier.wait()
        statuses.append(amend(app.test_client(), doctor, archive_id, record["id"], {"general": {"weight": weight}},
                              etag=etag).status_code)

    threads = [threading.Thread(target=change, args=(60 + n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # All made on version 1: one wins, the others are told it changed (412) or changed at once (409).
    assert set(statuses) <= {200, 409, 412} and statuses.count(200) == 1
    versions = [doc["version"] for doc in db.records.find({"record_id": record["id"]})]
    assert sorted(versions) == [1, 2]
    assert db.records.count_documents({"record_id": record["id"], "current": True}) == 1


# --- Timeline -------------------------------------------------------------------------

def test_timeline_is_newest_first_filtered_and_paged(client, doctor, archive_id):
    for days in (40, 10, 25, 3):
        post_record(client, doctor, archive_id, hypertension(days_ago(days)))
    post_record(client, doctor, archive_id, {"kind": "encounter", "date": days_ago(5), "assessment": "感冒"})
    all_records = timeline(client, doctor, archive_id)
    assert [r["date"] for r in all_records["items"]] == [days_ago(d) for d in (3, 5, 10, 25, 40)]
    assert all_records["total"] == 5
    followups = timeline(client, doctor, archive_id, kind="followup", since=days_ago(26))["items"]
    assert [r["date"] for r in followups] == [days_ago(d) for d in (3, 10, 25)]
    page = timeline(client, doctor, archive_id, per_page=2, page=2)
    assert [r["date"] for r in page["items"]] == [days_ago(10), days_ago(25)] and page["total"] == 5
    last = timeline(client, doctor, archive_id, per_page=2, page=3)
    assert [r["date"] for r in last["items"]] == [days_ago(40)]
    bad = client.get(f"/api/v1/archives/{archive_id}/records?kind=lab&per_page=500", headers=doctor)
    assert_invalid(bad, kind="checkup", per_page="between 1 and 200")


# --- Scope and audit ------------------------------------------------------------------

def test_only_in_scope_users_read_and_write_and_everything_is_audited(client, db, doctor, township, archive_id,
                                                                     login):
    record = make_record(client, doctor, archive_id, checkup())
    timeline(client, doctor, archive_id)
    assert len(timeline(client, township, archive_id)["items"]) == 1
    for role, region in (("village_doctor", NEIGHBOUR), ("supervisor", COUNTY), ("admin", COUNTY)):
        headers = login(role, region)
        assert post_record(client, headers, archive_id, checkup()).status_code == 404
        assert client.get(f"/api/v1/archives/{archive_id}/records", headers=headers).status_code == 404
        assert amend(client, headers, archive_id, record["id"], {"note": "x"}, etag=f'"{record["id"]}.1"'
                     ).status_code == 404
    assert db.records.count_documents({}) == 1
    entries = list(db.audit.find({"archive_id": archive_id, "action": {"$regex": "^record"}}))
    outcomes = sorted((e["action"], e["actor"], e["outcome"]) for e in entries)
    assert outcomes == sorted([
        ("record.create", "village101", "ok"), ("record.list", "village101", "ok"),
        ("record.list", "township101", "ok"),
        *((action, actor, "denied") for actor in ("village102", "supervisor423", "admin423")
          for action in ("record.create", "record.list", "record.amend")),
    ])
    assert "原发性高血压" not in repr(list(db.audit.find()))


def test_unknown_archive_is_404(client, doctor):
    response = client.get(f"/api/v1/archives/{code(9999)}/records", headers=doctor)
    assert response.status_code == 404


def test_no_record_dated_after_the_closing_can_be_added(client, doctor, archive_id):
    post_record(client, doctor, archive_id, checkup())
    closed = client.post(f"/api/v1/archives/{archive_id}/close",
                         json={"reason": "death", "date": days_ago(1)}, headers=doctor)
    assert closed.status_code == 200, closed.get_json()
    refused = post_record(client, doctor, archive_id, checkup(date=days_ago(0)))
    assert refused.status_code == 409 and "dated on or before that day" in refused.get_json()["detail"]
    assert len(timeline(client, doctor, archive_id)["items"]) == 1


# --- Referrals ------------------------------------------------------------------------

def test_a_referral_is_sent_then_received_by_the_receiving_side(client, db, doctor, township, archive_id, login):
    sent = make_record(client, doctor, archive_id, record_body("referral"))
    assert sent["status"] == "sent"
    incoming = client.get("/api/v1/referrals/incoming", headers=township).get_json()
    assert [(r["id"], r["archive_id"], r["status"]) for r in incoming["items"]] == [(sent["id"], archive_id, "sent")]
    assert "reason" not in incoming["items"][0]  # routing only; the content is read via the archive

    assert receive(client, doctor, archive_id, sent["id"]).status_code == 403  # the sender
    other = login("township_staff", URBAN_TOWNSHIP)
    assert receive(client, other, archive_id, sent["id"]).status_code == 403
    response = receive(client, township, archive_id, sent["id"])
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "received" and response.get_json()["received_by"] == "township101"
    assert receive(client, township, archive_id, sent["id"]).status_code == 409

    [current] = timeline(client, doctor, archive_id)["items"]
    assert (current["status"], current["version"], current["change"]["type"]) == ("received", 2, "receipt")
    assert current["preliminary_diagnosis"] == "高血压3级"  # re-sealed under the new version
    assert client.get("/api/v1/referrals/incoming", headers=township).get_json()["items"] == []
    assert db.audit.count_documents({"action": "referral.receive", "actor": "township101", "outcome": "ok"}) == 1


def test_a_referral_to_the_county_hospital_is_confirmed_from_its_receipt_slip(client, doctor, township, archive_id,
                                                                              login):
    sent = make_record(client, doctor, archive_id, record_body("referral", to_region=COUNTY))
    assert receive(client, login("supervisor", COUNTY), archive_id, sent["id"]).status_code == 403
    assert receive(client, township, archive_id, sent["id"]).status_code == 200


def test_a_referral_receipt_survives_a_later_amendment(client, doctor, township, archive_id):
    sent = make_record(client, doctor, archive_id, record_body("referral"))
    receive(client, township, archive_id, sent["id"])
    amended = amend(client, doctor, archive_id, sent["id"], {"reason": "血压控制不佳，伴头痛"}).get_json()
    assert amended["version"] == 3 and amended["status"] == "received"
    assert_invalid(amend(client, doctor, archive_id, sent["id"], {"status": "sent"}),
                   changes__status="Leave this field out")
