"""The consent log: append-only, per archive, enrolment and access consent alike."""

from tests.factories import GUARDIAN_VERBAL, SELF_SIGNED, approve, code, file_request, post_archive, step


def consents(client, headers, archive_id):
    return client.get(f"/api/v1/archives/{archive_id}/consents", headers=headers)


def test_enrolment_consent_is_logged_and_its_names_sealed(client, db, people, archive_id):
    response = client.post(f"/api/v1/archives/{archive_id}/consents", headers=people["doc"],
                           json=GUARDIAN_VERBAL)
    assert response.status_code == 201, response.get_json()
    entry = response.get_json()
    assert entry["kind"] == "enrolment" and entry["recorded_by"] == "doc"
    assert entry["guardian_name"] == "赵建国" and entry["witness"] == "孙丽"

    everything = str(list(db.consents.find())) + str(list(db.audit.find()))
    assert "赵建国" not in everything and "孙丽" not in everything
    log = consents(client, people["staff"], archive_id).get_json()
    assert [(e["kind"], e["decision"], e["relation"]) for e in log] == [("enrolment", "granted", "儿子")]


def test_incomplete_consent_names_each_missing_field_and_writes_nothing(client, db, people, archive_id):
    response = client.post(f"/api/v1/archives/{archive_id}/consents", headers=people["doc"],
                           json={"decision": "granted", "given_by": "guardian", "method": "verbal_witnessed"})
    assert response.status_code == 422
    assert set(response.get_json()["errors"]) == {"guardian_name", "relation", "witness"}
    wrong = client.post(f"/api/v1/archives/{archive_id}/consents", headers=people["doc"],
                        json={"decision": "maybe", "given_by": "self", "method": "fax"})
    assert set(wrong.get_json()["errors"]) == {"decision", "method"}
    assert db.consents.count_documents({}) == 0


def test_only_the_archives_own_staff_record_enrolment_consent(client, db, people, archive_id):
    for who in ("doc2", "town2", "sup"):
        response = client.post(f"/api/v1/archives/{archive_id}/consents", headers=people[who],
                               json=SELF_SIGNED)
        assert response.status_code == 403
    assert db.consents.count_documents({}) == 0
    assert db.audit.count_documents({"action": "consent.enrolment_granted", "outcome": "denied"}) == 3


def test_withdrawal_is_a_new_entry_and_the_grant_ends(client, db, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    approve(client, people["staff"], created["id"])
    step(client, people["doc"], created["id"], "consent", GUARDIAN_VERBAL)
    granted = db.consents.find_one({"request_id": created["id"]})

    withdrawn = step(client, people["staff"], created["id"], "consent",
                     {"decision": "withdrawn", "given_by": "self", "method": "signature"})
    assert withdrawn.status_code == 200
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert withdrawn.get_json()["ended_by"] == "staff"

    assert db.consents.find_one({"_id": granted["_id"]}) == granted
    at_rest = str(list(db.consents.find())) + str(list(db.access_events.find()))
    assert "赵建国" not in at_rest and "孙丽" not in at_rest
    log = consents(client, people["doc"], archive_id).get_json()
    assert [(e["decision"], e["given_by"], e["recorded_by"]) for e in log] == [
        ("granted", "guardian", "doc"), ("withdrawn", "self", "staff")]
    assert {e["request_id"] for e in log} == {created["id"]}
    assert log[0]["purpose"] == created["purpose"]
    again = step(client, people["staff"], created["id"], "consent",
                 {"decision": "withdrawn", "given_by": "self", "method": "signature"})
    assert again.status_code == 409
    assert db.consents.count_documents({}) == 2


def test_consent_log_is_for_those_who_may_read_the_archive(client, db, people, archive_id):
    assert consents(client, people["doc"], archive_id).status_code == 200
    for who in ("doc2", "town2", "sup"):
        assert consents(client, people[who], archive_id).status_code == 404
    assert consents(client, people["doc"], code(9999)).status_code == 404
    reads = list(db.audit.find({"action": "consent.read"}))
    assert sorted(e["outcome"] for e in reads) == ["denied"] * 3 + ["not_found", "ok"]


def test_consent_given_at_creation_opens_the_log(client, db, people):
    response = post_archive(client, people["doc"], n=1,
                            enrolment_consent={"given_by": "self", "method": "thumbprint"})
    assert response.status_code == 201, response.get_json()
    log = consents(client, people["staff"], response.get_json()["id"]).get_json()
    assert [(e["kind"], e["decision"], e["method"], e["recorded_by"]) for e in log] == [
        ("enrolment", "granted", "thumbprint", "doc")]


def test_refused_enrolment_creates_no_archive(client, db, people):
    response = post_archive(client, people["doc"], n=1, enrolment_consent={
        "decision": "refused", "given_by": "self", "method": "verbal_witnessed", "witness": "孙丽"})
    assert response.status_code == 422
    assert "consent" in response.get_json()["errors"]["enrolment_consent.decision"][0]
    assert db.archives.count_documents({}) == 0 and db.consents.count_documents({}) == 0
