"""Transfers: a resident moves to a village of another township and their archive goes with
them — the same code, the whole history, the new village's doctor in charge, the old one
out, and both townships seeing it in their audit trail."""

from datetime import timedelta

import pytest

from healthrec.clock import now
from healthrec.settings import SettingsError, finalise, from_env
from tests.factories import (
    FAR,
    NEIGHBOUR,
    PASSWORD,
    SELF_SIGNED,
    URBAN,
    URBAN_TOWNSHIP,
    VILLAGE,
    approve,
    ask_transfer,
    days_ago,
    decide_transfer,
    file_request,
    hypertension,
    make_archive,
    make_record,
    post_archive,
    step,
    timeline,
    transferred,
)
from tests.querycheck import unsupported, watched


def audit_of(client, headers, **query):
    response = client.get("/api/v1/audit", query_string={"per_page": 200, **query}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [(item["actor"], item["action"], item["outcome"]) for item in response.get_json()["items"]]


def test_a_resident_moving_to_another_township_keeps_their_archive(client, runner, people):
    archive_id = make_archive(client, people["doc"], key_populations=["hypertension"])
    before = make_record(client, people["doc"], archive_id, hypertension(days_ago(120)))

    asked = ask_transfer(client, people["urban_doc"], archive_id, URBAN)
    assert asked.status_code == 201, asked.get_json()
    pending = asked.get_json()
    assert (pending["status"], pending["from_village"], pending["to_village"]) == ("pending", VILLAGE, URBAN)
    assert pending["reason"] == "随子女迁居"
    # Asking gives nothing yet: the releasing township has to confirm.
    assert client.get(f"/api/v1/archives/{archive_id}", headers=people["urban_doc"]).status_code == 404

    done = decide_transfer(client, people["staff"], pending["id"])
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["status"], done.get_json()["decided_by"]) == ("done", "staff")

    archive = client.get(f"/api/v1/archives/{archive_id}", headers=people["urban_doc"])
    assert archive.status_code == 200
    body = archive.get_json()
    assert (body["id"], body["village"], body["township"], body["village_code"]) == (
        archive_id, URBAN, URBAN_TOWNSHIP, URBAN)
    after = make_record(client, people["urban_doc"], archive_id, hypertension(days_ago(1)))
    assert (after["village"], after["recorded_in"]) == (URBAN, URBAN)

    refused = client.get(f"/api/v1/archives/{archive_id}", headers=people["doc"])
    assert refused.status_code == 404  # as for any archive one may not read
    assert client.post(f"/api/v1/archives/{archive_id}/records", json=hypertension(days_ago(0)),
                       headers=people["doc"]).status_code == 404

    items = timeline(client, people["urban_doc"], archive_id)["items"]
    assert [(item["id"], item["recorded_in"], item["village"]) for item in items] == [
        (after["id"], URBAN, URBAN), (before["id"], VILLAGE, URBAN)]

    # Lists follow custody: the archive left the old village's list for the new one's.
    def listed(headers, village):
        return [item["id"] for item in client.get("/api/v1/archives", query_string={"village": village},
                                                  headers=headers).get_json()["items"]]
    assert listed(people["urban_doc"], URBAN) == [archive_id]
    assert listed(people["doc"], VILLAGE) == []

    transfer_steps = [("urban_doc", "transfer.request", "ok"), ("staff", "transfer.confirm", "ok")]
    old_side = audit_of(client, people["staff"], archive_id=archive_id)
    new_side = audit_of(client, people["town2"], archive_id=archive_id)
    assert set(transfer_steps) <= set(old_side) and set(transfer_steps) <= set(new_side)
    assert ("urban_doc", "record.create", "ok") in new_side and ("urban_doc", "record.create", "ok") not in old_side
    assert ("doc", "record.create", "ok") in old_side and ("doc", "archive.read", "denied") in new_side

    # The resident's disclosure report, now made by the new township, shows both villages' uses,
    # each transfer step once.
    report = client.get(f"/api/v1/archives/{archive_id}/disclosures", headers=people["town2"]).get_json()
    actions = [(item["actor"], item["action"]) for item in report["items"]]
    assert actions.count(("staff", "transfer.confirm")) == 1 and ("doc", "archive.create") in actions
    assert (report["village"], report["township"]) == (URBAN, URBAN_TOWNSHIP)
    assert client.get(f"/api/v1/archives/{archive_id}/disclosures", headers=people["staff"]).status_code == 403

    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output

    # The printed report names the village and township managing the archive now.
    assert client.post("/login", data={"username": "town2", "password": PASSWORD}).status_code == 302
    page = client.get(f"/archives/{archive_id}/disclosures").get_data(as_text=True)
    assert "城关街道 东关社区" in page and "申请转入档案" in page and "居民迁居，档案随迁" in page


def test_the_new_village_doctor_finds_the_follow_up_history_in_the_due_list(client, people):
    archive_id = make_archive(client, people["doc"], key_populations=["hypertension"])
    make_record(client, people["doc"], archive_id, hypertension(days_ago(100)))
    transferred(client, people, archive_id)
    due = client.get("/api/v1/followups/due", query_string={"village": URBAN}, headers=people["urban_doc"])
    assert due.status_code == 200, due.get_json()
    hypertensive = [item for item in due.get_json()["items"] if item["reason"] == "hypertension"]
    assert [(item["archive_id"], item["last_date"]) for item in hypertensive] == [(archive_id, days_ago(100))]
    assert client.get("/api/v1/followups/due", query_string={"village": VILLAGE},
                      headers=people["doc"]).get_json()["items"] == []


def test_the_id_card_stays_with_its_archive_after_a_transfer(client, db, people):
    archive_id = make_archive(client, people["doc"])
    transferred(client, people, archive_id)
    lock = db.identities.find_one({})
    assert lock["village"] == URBAN
    again = post_archive(client, people["urban_doc"], village_code=URBAN)
    assert again.status_code == 409 and again.get_json()["existing_id"] == archive_id
    assert db.archives.count_documents({}) == 1


# --- Bad input, who may, and the state a transfer must be in -------------------------------

@pytest.fixture
def retired_village(runner, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text("411423001002,西关社区,3000,2026,,2001-01-01,2025-06-30\n", encoding="utf-8")
    assert runner.invoke(args=["regions", "import", str(path)]).exit_code == 0
    return "411423001002"


@pytest.mark.parametrize("body, field, says", [
    ({"to_village": "411423001099"}, "to_village", "There is no village 411423001099"),
    ({"to_village": "retired"}, "to_village", "was retired on 2025-06-30"),
    ({"to_village": VILLAGE}, "to_village", "manages this archive already"),
    ({"to_village": "4114230010"}, "to_village", "12-digit code"),
    ({"moved_on": "tomorrow"}, "moved_on", "moved_on"),
    ({"moved_on": "2999-01-01"}, "moved_on", "lies in the future"),
    ({"reason": ""}, "reason", "reason"),
])
def test_a_bad_transfer_request_is_a_422_that_names_the_field_and_writes_nothing(
        client, db, people, retired_village, body, field, says):
    archive_id = make_archive(client, people["doc"])
    asker = people["urban_doc"]
    audit_before = db.audit.count_documents({})
    body = {"to_village": URBAN, "reason": "随子女迁居", "moved_on": days_ago(3), **body}
    if body["to_village"] == "retired":
        body["to_village"] = retired_village
    response = client.post(f"/api/v1/archives/{archive_id}/transfers", json=body, headers=asker)
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert list(errors) == [field]
    assert says in errors[field][0] or says in response.get_json()["detail"]
    assert db.transfers.count_documents({}) == 0
    assert db.audit.count_documents({}) == audit_before


def test_only_the_receiving_side_asks_and_only_the_releasing_township_decides(client, db, people, login):
    archive_id = make_archive(client, people["doc"])
    for who in ("doc", "staff", "sup", "admin", "doc2"):
        refused = ask_transfer(client, people[who], archive_id, URBAN)
        assert refused.status_code == 403, who
    assert "receiving side" in ask_transfer(client, people["doc"], archive_id, URBAN).get_json()["detail"]
    assert db.transfers.count_documents({}) == 0

    pending = ask_transfer(client, people["town2"], archive_id, URBAN).get_json()
    for who in ("town2", "urban_doc", "doc", "sup"):
        response = decide_transfer(client, people[who], pending["id"])
        assert response.status_code == 403, who
    assert "Only staff of township health centre 411423101" in decide_transfer(
        client, people["doc"], pending["id"]).get_json()["detail"]
    assert client.get(f"/api/v1/transfers/{pending['id']}", headers=people["doc2"]).status_code == 403
    assert client.get(f"/api/v1/transfers/{pending['id']}", headers=people["doc"]).status_code == 200
    assert db.archives.find_one({"_id": archive_id})["village"] == VILLAGE
    denied = {(entry["actor"], entry["action"]) for entry in db.audit.find({"outcome": "denied"})}
    assert {("doc", "transfer.request"), ("sup", "transfer.request"), ("urban_doc", "transfer.confirm"),
            ("doc2", "transfer.read")} <= denied


def test_a_refusal_says_why_and_moves_nothing(client, db, people):
    archive_id = make_archive(client, people["doc"])
    pending = ask_transfer(client, people["urban_doc"], archive_id, URBAN).get_json()
    no_note = decide_transfer(client, people["staff"], pending["id"], "refuse")
    assert no_note.status_code == 422 and "note" in no_note.get_json()["errors"]
    refused = decide_transfer(client, people["staff"], pending["id"], "refuse", note="居民仍在本村居住")
    assert refused.status_code == 200
    assert (refused.get_json()["status"], refused.get_json()["note"]) == ("refused", "居民仍在本村居住")
    again = decide_transfer(client, people["staff"], pending["id"])
    assert again.status_code == 409 and again.get_json()["transfer_status"] == "refused"
    assert db.archives.find_one({"_id": archive_id})["village"] == VILLAGE
    assert ("staff", "transfer.refuse", "ok") in audit_of(client, people["town2"], archive_id=archive_id)


def test_one_open_transfer_at_a_time_and_none_for_a_closed_archive(client, db, people, login):
    archive_id = make_archive(client, people["doc"])
    first = ask_transfer(client, people["urban_doc"], archive_id, URBAN)
    assert first.status_code == 201
    far = login("village_doctor", FAR, "far")
    second = ask_transfer(client, far, archive_id, FAR)
    assert second.status_code == 409 and second.get_json()["transfer_id"] == first.get_json()["id"]

    closed_id = make_archive(client, people["doc"], n=1)
    closed = client.post(f"/api/v1/archives/{closed_id}/close", headers=people["doc"],
                         json={"reason": "death", "date": days_ago(1)})
    assert closed.status_code == 200
    refused = ask_transfer(client, people["urban_doc"], closed_id, URBAN)
    assert refused.status_code == 409 and "closed" in refused.get_json()["detail"]
    assert db.transfers.count_documents({}) == 1


def test_a_pending_transfer_runs_out(client, db, people):
    archive_id = make_archive(client, people["doc"])
    pending = ask_transfer(client, people["urban_doc"], archive_id, URBAN).get_json()
    # Stands in for HEALTHREC_TRANSFER_DAYS passing without an answer.
    db.transfers.update_one({"_id": pending["id"]}, {"$set": {"expires_at": now() - timedelta(minutes=1)}})
    shown = client.get(f"/api/v1/transfers/{pending['id']}", headers=people["staff"]).get_json()
    assert shown["status"] == "expired"
    late = decide_transfer(client, people["staff"], pending["id"])
    assert late.status_code == 409 and late.get_json()["transfer_status"] == "expired"
    assert db.archives.find_one({"_id": archive_id})["village"] == VILLAGE
    # A confirmation checked just before the end may still be landing: a new request waits a little ...
    assert ask_transfer(client, people["urban_doc"], archive_id, URBAN).status_code == 409
    db.transfers.update_one({"_id": pending["id"]}, {"$set": {"expires_at": now() - timedelta(minutes=6)}})
    # ... and then goes ahead as the next attempt.
    again = ask_transfer(client, people["urban_doc"], archive_id, URBAN)
    assert again.status_code == 201 and again.get_json()["id"] == f"{archive_id}-2"
    listed = client.get("/api/v1/transfers", query_string={"status": "expired"}, headers=people["staff"])
    assert [item["id"] for item in listed.get_json()["items"]] == [pending["id"]]


def test_each_township_lists_its_incoming_outgoing_and_done_transfers(client, people, login):
    moving = make_archive(client, people["doc"])
    staying = make_archive(client, people["doc"], n=1)
    done = transferred(client, people, moving)
    pending = ask_transfer(client, people["town2"], staying, URBAN).get_json()
    within = make_archive(client, people["doc"], n=2)
    local = ask_transfer(client, people["doc2"], within, NEIGHBOUR).get_json()

    def ids(headers, **query):
        response = client.get("/api/v1/transfers", query_string=query, headers=headers)
        assert response.status_code == 200, response.get_json()
        return [item["id"] for item in response.get_json()["items"]]

    assert ids(people["staff"], direction="outgoing") == [local["id"], pending["id"], done["id"]]
    assert ids(people["staff"], direction="incoming") == [local["id"]]  # within the township
    assert ids(people["town2"], direction="incoming") == [pending["id"], done["id"]]
    assert ids(people["town2"], direction="outgoing") == []
    assert ids(people["town2"], status="done") == [done["id"]]
    assert ids(people["town2"], status="pending") == [pending["id"]]
    assert ids(people["doc"]) == [local["id"], pending["id"], done["id"]]  # the doctor's own village
    assert ids(people["doc2"], direction="incoming") == [local["id"]]
    assert client.get("/api/v1/transfers", headers=people["sup"]).status_code == 403
    bad = client.get("/api/v1/transfers", query_string={"direction": "sideways"}, headers=people["staff"])
    assert bad.status_code == 422 and "direction" in bad.get_json()["errors"]


def test_an_open_access_request_follows_the_archive_to_its_new_township(client, people):
    archive_id = make_archive(client, people["doc"])
    request = file_request(client, people["sup"], archive_id)
    transferred(client, people, archive_id)
    assert approve(client, people["staff"], request["id"]).status_code == 403
    assert approve(client, people["town2"], request["id"]).status_code == 200
    consented = step(client, people["urban_doc"], request["id"], "consent", SELF_SIGNED)
    assert consented.get_json()["status"] == "active", consented.get_json()
    assert client.get(f"/api/v1/archives/{archive_id}", headers=people["sup"]).status_code == 200


def test_every_transfer_query_has_an_index(app, devdb, client, people):
    archive_id = make_archive(client, people["doc"], key_populations=["hypertension"])
    make_record(client, people["doc"], archive_id, hypertension(days_ago(100)))
    with watched(app, devdb) as listener:
        pending = ask_transfer(client, people["urban_doc"], archive_id, URBAN).get_json()
        client.get(f"/api/v1/transfers/{pending['id']}", headers=people["staff"])
        decide_transfer(client, people["staff"], pending["id"])
        for headers in (people["staff"], people["urban_doc"]):
            for query in ({}, {"direction": "incoming"}, {"direction": "outgoing", "status": "pending"},
                          {"status": "expired"}, {"status": "done"}):
                assert client.get("/api/v1/transfers", query_string=query, headers=headers).status_code == 200
        make_record(client, people["urban_doc"], archive_id, hypertension(days_ago(1)))
        client.get("/api/v1/followups/due", query_string={"village": URBAN}, headers=people["urban_doc"])
        client.get(f"/api/v1/archives/{archive_id}/disclosures", headers=people["town2"])
    collections = ("transfers", "custody_claims", "archives", "records", "identities", "access_requests",
                   "regions", "region_locks", "audit")
    assert len(list(listener.shapes(collections))) > 30
    assert unsupported(listener, collections) == []


def test_a_village_code_typed_in_full_width_digits_is_understood(client, people):
    archive_id = make_archive(client, people["doc"])
    typed = URBAN.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    asked = ask_transfer(client, people["urban_doc"], archive_id, typed)
    assert asked.status_code == 201, asked.get_json()
    assert asked.get_json()["to_village"] == URBAN


def test_the_days_a_transfer_waits_are_a_checked_setting():
    with pytest.raises(SettingsError, match="HEALTHREC_TRANSFER_DAYS must be at least 1"):
        finalise(from_env({"HEALTHREC_TRANSFER_DAYS": "0", "HEALTHREC_SECRET_KEY": "x"}))
