"""Access requests: the state machine, who may take each step, and what a refusal leaves."""

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tests.factories import SELF_SIGNED, TOWNSHIP, approve, code, file_request, step
from tests.querycheck import unsupported, watched


def stored(db, request_id):
    return db.access_requests.find_one({"_id": request_id})


def denials(db, action):
    return list(db.audit.find({"action": action, "outcome": "denied"}))


def test_request_goes_pending_approved_consented_active(client, db, people, archive_id):
    created = file_request(client, people["sup"], archive_id, days=10)
    assert created["status"] == "pending"
    assert created["requester"] == "sup" and created["days"] == 10

    approved = approve(client, people["staff"], created["id"])
    assert approved.status_code == 200
    assert approved.get_json()["status"] == "awaiting_consent"
    assert approved.get_json()["decided_by"] == "staff"

    consented = step(client, people["doc"], created["id"], "consent", SELF_SIGNED)
    assert consented.status_code == 200, consented.get_json()
    body = consented.get_json()
    assert body["status"] == "active"
    until = datetime.fromisoformat(body["valid_until"])
    assert timedelta(days=9, hours=23) < until - datetime.now(UTC) <= timedelta(days=10)

    actions = [e["action"] for e in db.audit.find({"grant": created["id"]}).sort("_id", 1)]
    assert actions == ["access.request", "access.approve", "access.consent_granted"]


def test_application_and_notes_are_stored_encrypted(client, db, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    step(client, people["staff"], created["id"], "decision",
         {"decision": "reject", "note": "申请材料缺少单位盖章"})
    raw = str(stored(db, created["id"]))
    assert "高血压随访" not in raw and "盖章" not in raw
    shown = client.get(f"/api/v1/access-requests/{created['id']}", headers=people["sup"]).get_json()
    assert "高血压随访" in shown["application"]
    assert shown["decision_note"] == "申请材料缺少单位盖章"


def test_days_are_capped_and_bad_input_names_the_field(client, db, people, archive_id, app):
    limit = app.config["ACCESS_MAX_DAYS"]
    too_long = client.post("/api/v1/access-requests", headers=people["sup"], json={
        "archive_id": archive_id, "purpose": "抽查", "application": "申请", "days": limit + 1})
    assert too_long.status_code == 422
    assert too_long.mimetype == "application/problem+json"
    assert str(limit) in too_long.get_json()["errors"]["days"][0]

    empty = client.post("/api/v1/access-requests", headers=people["sup"], json={
        "archive_id": "41142310110", "purpose": " ", "days": 0})
    assert empty.status_code == 422
    assert set(empty.get_json()["errors"]) == {"archive_id", "purpose", "application", "days"}
    assert db.access_requests.count_documents({}) == 0


def test_request_for_a_missing_archive_is_404(client, db, people):
    response = client.post("/api/v1/access-requests", headers=people["sup"], json={
        "archive_id": code(9999), "purpose": "抽查", "application": "申请", "days": 3})
    assert response.status_code == 404
    assert db.access_requests.count_documents({}) == 0


def test_admin_cannot_request_clinical_data(client, db, people, archive_id):
    response = client.post("/api/v1/access-requests", headers=people["admin"], json={
        "archive_id": archive_id, "purpose": "抽查", "application": "申请", "days": 3})
    assert response.status_code == 403
    assert db.access_requests.count_documents({}) == 0
    assert [(e["actor"], e["archive_id"]) for e in denials(db, "access.request")] == [("admin", archive_id)]


def test_rejection_needs_a_reason(client, db, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    response = step(client, people["staff"], created["id"], "decision", {"decision": "reject"})
    assert response.status_code == 422
    assert "note" in response.get_json()["errors"]
    assert stored(db, created["id"])["status"] == "pending"


@pytest.mark.parametrize("who", ["town2", "doc", "sup", "admin", "far"])
def test_only_the_archives_township_decides(client, db, people, archive_id, who):
    created = file_request(client, people["sup" if who != "sup" else "doc2"], archive_id)
    response = approve(client, people[who], created["id"])
    assert response.status_code == 403
    assert TOWNSHIP in response.get_json()["detail"]
    assert stored(db, created["id"])["status"] == "pending"
    assert denials(db, "access.approve")[0]["actor"] == who


def test_requester_cannot_decide_or_consent_their_own_request(client, db, people, archive_id):
    created = file_request(client, people["staff"], archive_id)
    own = approve(client, people["staff"], created["id"])
    assert own.status_code == 403
    assert "another staff member" in own.get_json()["detail"]
    assert approve(client, people["staff2"], created["id"]).status_code == 200
    own_consent = step(client, people["staff"], created["id"], "consent", SELF_SIGNED)
    assert own_consent.status_code == 403
    assert stored(db, created["id"])["status"] == "awaiting_consent"
    assert db.consents.count_documents({}) == 0


@pytest.mark.parametrize("who", ["town2", "doc2", "sup", "far"])
def test_consent_is_recorded_by_the_archives_own_staff_only(client, db, people, archive_id, who):
    created = file_request(client, people["sup" if who != "sup" else "far"], archive_id)
    approve(client, people["staff"], created["id"])
    response = step(client, people[who], created["id"], "consent", SELF_SIGNED)
    assert response.status_code == 403
    assert stored(db, created["id"])["status"] == "awaiting_consent"
    assert db.consents.count_documents({}) == 0
    assert [(e["actor"], e["grant"]) for e in denials(db, "access.consent_granted")] == [(who, created["id"])]


def test_illegal_transitions_are_409_and_change_nothing(client, db, people, archive_id):
    def unchanged_after(response, request_id, status):
        before = stored(db, request_id)
        assert response.status_code == 409, response.get_json()
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["status"] == 409
        assert stored(db, request_id) == before and before["status"] == status

    pending = file_request(client, people["sup"], archive_id)
    unchanged_after(step(client, people["doc"], pending["id"], "consent", SELF_SIGNED),
                    pending["id"], "pending")
    approve(client, people["staff"], pending["id"])
    unchanged_after(approve(client, people["staff2"], pending["id"]), pending["id"], "awaiting_consent")
    unchanged_after(step(client, people["doc"], pending["id"], "consent",
                         {**SELF_SIGNED, "decision": "withdrawn"}), pending["id"], "awaiting_consent")

    revoked = file_request(client, people["sup"], archive_id)
    assert step(client, people["sup"], revoked["id"], "revoke").status_code == 200
    unchanged_after(approve(client, people["staff"], revoked["id"]), revoked["id"], "revoked")
    unchanged_after(step(client, people["sup"], revoked["id"], "revoke"), revoked["id"], "revoked")

    rejected = file_request(client, people["sup"], archive_id)
    step(client, people["staff"], rejected["id"], "decision", {"decision": "reject", "note": "用途不明"})
    unchanged_after(step(client, people["doc"], rejected["id"], "consent", SELF_SIGNED),
                    rejected["id"], "rejected")
    unchanged_after(approve(client, people["staff2"], rejected["id"]), rejected["id"], "rejected")

    assert db.consents.count_documents({}) == 0
    assert len(denials(db, "access.approve")) == 3


def test_refused_consent_ends_the_request(client, db, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    approve(client, people["staff"], created["id"])
    refused = step(client, people["doc"], created["id"], "consent", {
        "decision": "refused", "given_by": "guardian", "guardian_name": "王秀兰",
        "relation": "女儿", "method": "thumbprint"})
    assert refused.status_code == 200
    assert refused.get_json()["status"] == "refused"
    assert "valid_until" not in refused.get_json()
    again = step(client, people["doc"], created["id"], "consent", SELF_SIGNED)
    assert again.status_code == 409


def at_once(app, calls):
    """Run (headers, path, body) posts in threads released together; their status codes."""
    barrier = threading.Barrier(len(calls))
    codes = []

    def post(headers, path, body):
        client = app.test_client()
        barrier.wait()
        codes.append(client.post(path, headers=headers, json=body).status_code)

    threads = [threading.Thread(target=post, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(codes)


def test_two_staff_deciding_at_once_leave_one_winner(app, client, db, people, archive_id):
    for _ in range(8):
        request_id = file_request(client, people["sup"], archive_id)["id"]
        path = f"/api/v1/access-requests/{request_id}/decision"
        codes = at_once(app, [(people["staff"], path, {"decision": "approve"}),
                              (people["staff2"], path, {"decision": "reject", "note": "用途不明"})])
        assert codes == [200, 409]
        doc = stored(db, request_id)
        winner = db.access_events.find_one({"_id": f"{request_id}:pending"})
        assert doc["status"] == winner["to"] and doc["decided_by"] == winner["by"]


def test_revoke_by_requester_or_township_only(client, db, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    for who in ("town2", "doc"):
        assert step(client, people[who], created["id"], "revoke").status_code == 403
    revoked = step(client, people["staff"], created["id"], "revoke")
    assert revoked.status_code == 200
    assert revoked.get_json()["status"] == "revoked"
    assert revoked.get_json()["ended_by"] == "staff"


def test_expired_grant_shows_expired_and_cannot_be_revoked(client, db, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    approve(client, people["staff"], created["id"])
    step(client, people["doc"], created["id"], "consent", SELF_SIGNED)
    db.access_requests.update_one({"_id": created["id"]},
                                  {"$set": {"valid_until": datetime.now(UTC) - timedelta(minutes=1)}})
    shown = client.get(f"/api/v1/access-requests/{created['id']}", headers=people["sup"])
    assert shown.get_json()["status"] == "expired"
    listed = client.get("/api/v1/access-requests?status=expired", headers=people["sup"]).get_json()
    assert [r["id"] for r in listed["items"]] == [created["id"]]
    assert client.get("/api/v1/access-requests?status=active", headers=people["sup"]).get_json()["items"] == []
    response = step(client, people["staff"], created["id"], "revoke")
    assert response.status_code == 409
    assert "expired" in response.get_json()["detail"]


def test_list_shows_what_the_caller_made_or_must_decide(client, people, archive_id):
    mine = file_request(client, people["sup"], archive_id)
    decided = file_request(client, people["far"], archive_id)
    approve(client, people["staff"], decided["id"])

    def ids(who, query=""):
        response = client.get(f"/api/v1/access-requests{query}", headers=people[who])
        assert response.status_code == 200
        return {r["id"] for r in response.get_json()["items"]}

    assert ids("sup") == {mine["id"]}
    assert ids("far") == {decided["id"]}
    assert ids("staff") == {mine["id"], decided["id"]}
    assert ids("staff", "?status=pending") == {mine["id"]}
    assert ids("doc", "?status=awaiting_consent") == {decided["id"]}
    assert ids("town2") == ids("doc2") == set()
    bad = client.get("/api/v1/access-requests?status=maybe&per_page=0", headers=people["sup"])
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"status", "per_page"}


def test_the_list_comes_newest_first_in_pages(client, people, archive_id):
    made = [file_request(client, people["sup"], archive_id)["id"] for _ in range(3)]
    first = client.get("/api/v1/access-requests?per_page=2", headers=people["sup"]).get_json()
    second = client.get("/api/v1/access-requests?per_page=2&page=2", headers=people["sup"]).get_json()
    assert first["total"] == second["total"] == 3
    assert [r["id"] for r in first["items"] + second["items"]] == made[::-1]


def test_only_those_involved_see_a_request(client, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    assert client.get(f"/api/v1/access-requests/{created['id']}", headers=people["town2"]).status_code == 403
    assert client.get(f"/api/v1/access-requests/{created['id']}", headers=people["doc"]).status_code == 200
    assert client.get("/api/v1/access-requests/nope", headers=people["sup"]).status_code == 404


def test_a_transition_interrupted_by_a_crash_is_completed_on_next_load(client, db, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    approve(client, people["staff"], created["id"])
    # A crash after the claim: the event exists, the request still says pending.
    db.access_requests.update_one({"_id": created["id"]}, {"$set": {"status": "pending"}})
    shown = client.get(f"/api/v1/access-requests/{created['id']}", headers=people["sup"])
    assert shown.get_json()["status"] == "awaiting_consent"
    assert stored(db, created["id"])["status"] == "awaiting_consent"


def test_every_access_query_has_a_supporting_index(app, client, devdb, people, archive_id):
    with watched(app, devdb) as listener:
        created = file_request(client, people["sup"], archive_id)
        approve(client, people["staff"], created["id"])
        step(client, people["doc"], created["id"], "consent", SELF_SIGNED)
        client.get(f"/api/v1/archives/{archive_id}", headers=people["sup"])
        client.get(f"/api/v1/archives/{archive_id}/consents", headers=people["sup"])
        for who in ("sup", "staff", "doc"):
            client.get("/api/v1/access-requests?status=active", headers=people[who])
        client.get(f"/api/v1/access-requests/{created['id']}", headers=people["staff"])
        app.config["BREAK_GLASS_PER_DAY"] = 1  # the first opening is the last of the day: an alert
        opening = client.post(f"/api/v1/archives/{archive_id}/break-glass", headers=people["doc2"],
                              json={"reason": "急诊昏迷"}).get_json()
        client.get(f"/api/v1/archives/{archive_id}", headers=people["doc2"])
        for who in ("staff", "doc2"):
            client.get("/api/v1/break-glass?status=unreviewed", headers=people[who])
            client.get("/api/v1/break-glass", headers=people[who])
        for who in ("staff", "sup"):
            client.get("/api/v1/break-glass/alerts", headers=people[who])
        client.post(f"/api/v1/break-glass/{opening['id']}/acknowledge", headers=people["staff"], json={})
        client.get("/api/v1/break-glass/counts?since=2026-01-01", headers=people["sup"])
    ours = ("access_requests", "access_events", "consents", "break_glass", "alerts")
    assert {c for c, _q, _s in listener.shapes(ours)} == set(ours)
    assert unsupported(listener, ours) == []


def test_the_approver_may_not_record_the_consent_too(client, db, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    assert approve(client, people["staff"], created["id"]).status_code == 200
    same = step(client, people["staff"], created["id"], "consent", SELF_SIGNED)
    assert same.status_code == 403
    assert "another colleague" in same.get_json()["detail"]
    assert stored(db, created["id"])["status"] == "awaiting_consent"
    assert db.consents.count_documents({}) == 0
    assert len(denials(db, "access.consent_granted")) == 1
    # A colleague records it; anyone of the archive's staff may record a withdrawal.
    assert step(client, people["staff2"], created["id"], "consent", SELF_SIGNED).get_json()["status"] == "active"
    withdrawn = step(client, people["staff"], created["id"], "consent",
                     {"decision": "withdrawn", "given_by": "self", "method": "signature"})
    assert withdrawn.get_json()["status"] == "withdrawn"


@pytest.mark.parametrize("app", [{"APPROVER_MAY_RECORD_CONSENT": 1}], indirect=True)
def test_a_one_person_health_centre_may_approve_and_record_the_consent(client, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    approve(client, people["staff"], created["id"])
    assert step(client, people["staff"], created["id"], "consent", SELF_SIGNED).get_json()["status"] == "active"


def test_reading_an_application_is_audited(client, db, people, archive_id):
    created = file_request(client, people["sup"], archive_id)
    assert client.get(f"/api/v1/access-requests/{created['id']}", headers=people["staff"]).status_code == 200
    [viewed] = db.audit.find({"action": "access.view", "actor": "staff"})
    assert (viewed["outcome"], viewed["archive_id"], viewed["grant"]) == ("ok", archive_id, created["id"])
    listed = client.get("/api/v1/access-requests", headers=people["doc"]).get_json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    [entry] = db.audit.find({"action": "access.list", "actor": "doc"})
    assert entry["detail"]["shown"] == [archive_id]
    assert "高血压随访" not in str(list(db.audit.find()))
