"""Reading an archive under a grant: the plan's "approved AND consented", end to end."""

from datetime import UTC, datetime, timedelta

from healthrec.clock import today
from tests.factories import COUNTY, SELF_SIGNED, approve, file_request, granted, make_archive, resident, step


def read(client, headers, archive_id):
    return client.get(f"/api/v1/archives/{archive_id}", headers=headers)


def test_supervisor_reads_only_after_approval_and_consent_until_revoked(client, db, people, archive_id):
    record = client.post(f"/api/v1/archives/{archive_id}/records", headers=people["doc"], json={
        "kind": "encounter", "date": today().isoformat(), "assessment": "高血压复诊"})
    assert record.status_code == 201, record.get_json()

    def reads():
        archive = read(client, people["sup"], archive_id)
        records = client.get(f"/api/v1/archives/{archive_id}/records", headers=people["sup"])
        assert archive.status_code == records.status_code
        return archive

    created = file_request(client, people["sup"], archive_id)
    assert reads().status_code == 404

    assert approve(client, people["staff"], created["id"]).get_json()["status"] == "awaiting_consent"
    assert reads().status_code == 404

    assert step(client, people["doc"], created["id"], "consent", SELF_SIGNED).get_json()["status"] == "active"
    response = reads()
    assert response.status_code == 200
    assert response.get_json()["name"] == resident()["name"]
    timeline = client.get(f"/api/v1/archives/{archive_id}/records", headers=people["sup"]).get_json()
    assert [r["assessment"] for r in timeline["items"]] == ["高血压复诊"]

    assert step(client, people["staff"], created["id"], "revoke").get_json()["status"] == "revoked"
    assert reads().status_code == 404

    archive_reads = list(db.audit.find({"action": "archive.read", "actor": "sup"}).sort("at", 1))
    assert [e["outcome"] for e in archive_reads] == ["denied", "denied", "ok", "denied"]
    under_grant = list(db.audit.find({"actor": "sup", "outcome": "ok", "archive_id": archive_id,
                                      "action": {"$in": ["archive.read", "record.list"]}}))
    assert len(under_grant) == 3
    assert {(e["grant"], e["purpose"]) for e in under_grant} == {(created["id"], created["purpose"])}


def test_a_rejected_request_cannot_be_consented_or_used(client, db, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    step(client, people["staff"], created["id"], "decision", {"decision": "reject", "note": "用途不明"})
    response = step(client, people["doc"], created["id"], "consent", SELF_SIGNED)
    assert response.status_code == 409
    assert "rejected" in response.get_json()["detail"]
    assert read(client, people["sup"], archive_id).status_code == 404
    assert db.consents.count_documents({}) == 0


def test_the_next_read_after_expiry_or_withdrawal_is_404(client, db, people, archive_id):
    expiring = granted(client, people, archive_id)
    assert read(client, people["sup"], archive_id).status_code == 200
    db.access_requests.update_one({"_id": expiring["id"]},
                                  {"$set": {"valid_until": datetime.now(UTC) - timedelta(seconds=1)}})
    assert read(client, people["sup"], archive_id).status_code == 404

    withdrawing = granted(client, people, archive_id, who="far")
    assert read(client, people["far"], archive_id).status_code == 200
    step(client, people["doc"], withdrawing["id"], "consent",
         {"decision": "withdrawn", "given_by": "self", "method": "signature"})
    assert read(client, people["far"], archive_id).status_code == 404


def test_a_grant_is_the_requesters_alone_and_for_reading_only(client, login, people, archive_id):
    granted(client, people, archive_id, who="far")
    other = login("supervisor", COUNTY, "sup.other")
    assert read(client, other, archive_id).status_code == 404
    current = read(client, people["far"], archive_id)
    assert current.status_code == 200
    headers = {**people["far"], "If-Match": current.headers["ETag"]}
    change = client.patch(f"/api/v1/archives/{archive_id}", headers=headers, json={"phone": "13812345678"})
    assert change.status_code == 403  # it may read the archive, so it hears why not


def test_a_grant_does_not_reach_other_archives(client, people, archive_id):
    granted(client, people, archive_id)
    second = make_archive(client, people["doc"], n=1)
    assert read(client, people["sup"], second).status_code == 404
    assert read(client, people["sup"], archive_id).status_code == 200


def test_the_grant_holder_sees_the_consent_log_under_the_grant(client, db, people, archive_id):
    created = granted(client, people, archive_id)
    response = client.get(f"/api/v1/archives/{archive_id}/consents", headers=people["sup"])
    assert response.status_code == 200
    assert [e["decision"] for e in response.get_json()] == ["granted"]
    entry = db.audit.find_one({"action": "consent.read", "outcome": "ok"})
    assert entry["grant"] == created["id"]
