"""Faults between a write and its audit entry: the honest 503, the repeat with the same
Idempotency-Key, and `flask archives reconcile` (docs/concurrency.md)."""

import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from pymongo.errors import AutoReconnect

from healthrec import clock
from healthrec.archives import locks, service
from healthrec.audit import chain, pending
from tests.factories import (
    SELF_SIGNED,
    SIGNED,
    TOWNSHIP,
    URBAN,
    VILLAGE,
    amend,
    checkup,
    days_ago,
    draw_sample,
    if_match,
    make_archive,
    make_record,
    make_team,
    post_archive,
    post_record,
)
from tests.problems import assert_invalid
from tests.querycheck import unsupported, watched

NEWBORN = {"born": clock.today() - timedelta(days=20), "sex": "male", "id_card": None, "phone": None,
           "guardian": {"name": "王芳", "relation": "mother", "phone": "13700001111"}}


def cut_off_audit(monkeypatch, action):
    """The database fails on the audit append of `action`, after the write landed."""
    append = chain.append

    def failing(db, fields, name, tails):
        if fields["action"] == action:
            raise AutoReconnect("connection closed")
        return append(db, fields, name, tails)
    monkeypatch.setattr(chain, "append", failing)


def later(monkeypatch, by=pending.ABANDONED):
    at = clock.utcnow() + by + timedelta(seconds=1)
    monkeypatch.setattr(clock, "utcnow", lambda: at)


def entries(db, action, archive_id):
    return db.audit.count_documents({"action": action, "archive_id": archive_id})


def verified(runner):
    result = runner.invoke(args=["audit", "verify"])
    return result.exit_code == 0


def test_a_write_cut_off_before_its_audit_entry_answers_an_honest_503(client, db, doctor, monkeypatch):
    cut_off_audit(monkeypatch, "archive.create")
    response = post_archive(client, doctor, key="reg-1", **NEWBORN)
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    detail = response.get_json()["detail"]
    assert "may or may not have been applied" in detail and "same Idempotency-Key" in detail
    # The archive landed, carrying the entry it still needs.
    [archive] = db.archives.find()
    assert archive["pending_audit"]["entry"]["action"] == "archive.create"
    assert entries(db, "archive.create", archive["_id"]) == 0


def down(*args, **kwargs):
    raise AutoReconnect("connection closed")


def test_a_read_cut_off_says_nothing_changed(client, doctor, archive_id, monkeypatch):
    monkeypatch.setattr(service, "archive_for", down)
    response = client.get(f"/api/v1/archives/{archive_id}", headers=doctor)
    assert response.status_code == 503
    assert "nothing was changed" in response.get_json()["detail"]


def test_the_repeat_of_a_cut_off_registration_answers_its_archive_once(client, db, doctor, runner, monkeypatch):
    with monkeypatch.context() as patched:
        cut_off_audit(patched, "archive.create")
        assert post_archive(client, doctor, key="reg-1", **NEWBORN).status_code == 503
    [made] = db.archives.find({}, {"_id": 1})
    # Sent again at once: the first request might still be running, so its entry is left
    # to it (or to reconcile); the archive is answered, nothing is written twice.
    again = post_archive(client, doctor, key="reg-1", **NEWBORN)
    assert again.status_code == 200 and again.get_json()["id"] == made["_id"]
    assert entries(db, "archive.create", made["_id"]) == 0
    # A minute on, the first is surely dead: the repeat appends its entry, once.
    later(monkeypatch)
    for _ in range(2):
        repeat = post_archive(client, doctor, key="reg-1", **NEWBORN)
        assert repeat.status_code == 200 and repeat.get_json()["id"] == made["_id"]
    assert db.archives.count_documents({}) == 1
    assert entries(db, "archive.create", made["_id"]) == 1
    assert "pending_audit" not in db.archives.find_one({"_id": made["_id"]})
    assert verified(runner)


def test_a_newborn_sent_twice_with_one_key_gets_one_archive(client, db, doctor):
    first = post_archive(client, doctor, key="newborn-7", **NEWBORN)
    assert first.status_code == 201, first.get_json()
    again = post_archive(client, doctor, key="newborn-7", **NEWBORN)
    assert again.status_code == 200 and again.get_json()["id"] == first.get_json()["id"]
    assert db.archives.count_documents({}) == 1
    assert entries(db, "archive.create", first.get_json()["id"]) == 1
    # Without a key the service cannot tell a resend from a twin: a second archive.
    assert post_archive(client, doctor, **NEWBORN).status_code == 201
    assert db.archives.count_documents({}) == 2


def test_a_key_is_for_one_request_and_one_user(client, db, doctor, login):
    assert post_archive(client, doctor, key="k-1", **NEWBORN).status_code == 201
    other_body = post_archive(client, doctor, key="k-1", **{**NEWBORN, "sex": "female"})
    assert_invalid(other_body, **{"Idempotency-Key": "different request"})
    assert_invalid(post_archive(client, doctor, key="k ey", **NEWBORN), **{"Idempotency-Key": "visible ASCII"})
    assert db.archives.count_documents({}) == 1
    # The same key from someone else is their own.
    colleague = login("village_doctor", "411423101101", "zhao.doctor")
    assert post_archive(client, colleague, key="k-1", **NEWBORN).status_code == 201
    assert db.archives.count_documents({}) == 2


def test_a_refused_request_frees_its_key(client, db, doctor):
    holder = post_archive(client, doctor, n=3)
    assert holder.status_code == 201
    # The ID card has an archive: 409, nothing written, and the key may be used again.
    assert post_archive(client, doctor, n=3, key="k-2").status_code == 409
    assert db.idempotency_keys.count_documents({}) == 0
    assert post_archive(client, doctor, n=4, key="k-2").status_code == 201


def test_a_repeat_while_the_first_may_still_run_is_told_to_wait(client, db, doctor, monkeypatch):
    with monkeypatch.context() as patched:
        patched.setattr(locks, "insert_numbered", down)  # cut off before the archive is written
        assert post_archive(client, doctor, key="reg-2", **NEWBORN).status_code == 503
    waiting = post_archive(client, doctor, key="reg-2", **NEWBORN)
    assert waiting.status_code == 409 and "in a minute" in waiting.get_json()["detail"]
    later(monkeypatch)
    # Nothing was made under the key: the repeat takes it over.
    assert post_archive(client, doctor, key="reg-2", **NEWBORN).status_code == 201
    assert db.archives.count_documents({}) == 1


def test_reconcile_appends_the_entry_a_cut_off_record_carries(client, db, doctor, archive_id, runner, monkeypatch):
    with monkeypatch.context() as patched:
        cut_off_audit(patched, "record.create")
        assert post_record(client, doctor, archive_id, checkup()).status_code == 503
    [record] = db.records.find({"archive_id": archive_id})
    assert entries(db, "record.create", archive_id) == 0
    young = runner.invoke(args=["archives", "reconcile"])
    assert "No write was waiting" in young.output and db.records.find_one({"pending_audit": {"$exists": True}})
    result = runner.invoke(args=["archives", "reconcile", "--grace-minutes", "0"])
    assert result.exit_code == 0, result.output
    assert "Settled 1 writes waiting for their audit entry (records 1): appended 1 missing entries" in result.output
    [entry] = db.audit.find({"action": "record.create", "archive_id": archive_id})
    assert entry["detail"]["records"] == [record["record_id"]] and entry["actor"] == "village101"
    assert db.records.count_documents({"pending_audit": {"$exists": True}}) == 0
    again = runner.invoke(args=["archives", "reconcile", "--grace-minutes", "0"])
    assert "No write was waiting" in again.output
    assert entries(db, "record.create", archive_id) == 1
    assert verified(runner)


def test_reconcile_finds_an_entry_appended_just_before_the_cut(client, db, doctor, runner):
    created = post_archive(client, doctor, key="reg-3", **NEWBORN).get_json()["id"]
    [entry] = db.audit.find({"action": "archive.create", "archive_id": created})
    # Cut off between appending the entry and clearing the mark: the mark is still there.
    mark = {"id": entry["intent"], "at": entry["at"], "chain": entry["chain"], "entry": {}}
    db.archives.update_one({"_id": created}, {"$set": {"pending_audit": mark}})
    result = runner.invoke(args=["archives", "reconcile", "--grace-minutes", "0"])
    assert "Settled 1 writes waiting for their audit entry (archives 1): appended 0 missing entries" in result.output
    assert entries(db, "archive.create", created) == 1
    assert "pending_audit" not in db.archives.find_one({"_id": created})


def test_stopping_the_database_mid_stream_loses_and_doubles_nothing(app, client, db, doctor, archive_id, devdb,
                                                                   runner):
    """Fault injection: writes stream in while the dev database is stopped and started
    again; each is retried with its key until answered, as a client would."""
    if devdb.external:
        pytest.skip("the server named by MONGO_URI is not ours to stop")
    acknowledged, answers, done = {}, [], threading.Event()

    def send(n):
        key = f"stream-{n}"
        for _ in range(40):
            if n % 3 == 0:
                response = post_record(client, doctor, archive_id, checkup(), key=key)
            else:
                response = post_archive(client, doctor, n=100 + n, key=key,
                                        **(NEWBORN if n % 3 == 1 else {}))
            answers.append(response.status_code)
            if response.status_code < 300:
                return response.get_json()
            time.sleep(0.25)
        raise AssertionError(f"write {n} never answered: {response.get_json()}")

    def stream():
        n = 0
        while not done.is_set() or n < 12:
            acknowledged[n] = send(n)
            n += 1

    writer = threading.Thread(target=stream)
    writer.start()
    time.sleep(1.5)
    devdb.stop()
    time.sleep(1.5)
    devdb.start()
    time.sleep(1)
    done.set()
    writer.join(60)
    assert not writer.is_alive()
    assert 503 in answers  # the stream did meet the outage
    result = runner.invoke(args=["archives", "reconcile", "--grace-minutes", "0"])
    assert result.exit_code == 0, result.output
    archives = {n: answer["id"] for n, answer in acknowledged.items() if n % 3}
    records = {n: answer["id"] for n, answer in acknowledged.items() if n % 3 == 0}
    # Every acknowledged write is there once, and nothing else was written.
    assert {doc["_id"] for doc in db.archives.find({"_id": {"$ne": archive_id}})} == set(archives.values())
    assert {doc["record_id"] for doc in db.records.find({"archive_id": archive_id})} == set(records.values())
    for collection in ("archives", "records"):
        assert db[collection].count_documents({"pending_audit": {"$exists": True}}) == 0
    # Each has exactly one audit entry.
    for code in archives.values():
        assert entries(db, "archive.create", code) == 1, code
    logged = [record for entry in db.audit.find({"action": "record.create", "archive_id": archive_id})
              for record in entry["detail"]["records"]]
    assert sorted(logged) == sorted(records.values())
    assert verified(runner)


# Every other POST that creates something: (who sends it, its URL, its body, a changed
# body, the collection written, the audit action), from a world of one archive, a team
# of its township and a sample drawn over its village.
CREATES: dict[str, tuple[str, str, Callable[[dict], dict], dict, str, str]] = {
    "access request": ("sup", "/api/v1/access-requests",
                       lambda w: {"archive_id": w["archive"], "purpose": "慢病管理质量抽查", "days": 7,
                                  "application": "县卫健委慢病科申请查阅该档案。"},
                       {"days": 8}, "access_requests", "access.request"),
    "enrolment consent": ("doctor", "/api/v1/archives/{archive}/consents",
                          lambda w: SELF_SIGNED, {"method": "verbal_witnessed", "witness": "孙丽"}, "consents",
                          "consent.enrolment_granted"),
    "break-glass opening": ("urban_doc", "/api/v1/archives/{archive}/break-glass", lambda w: {"reason": "急诊昏迷"},
                            {"reason": "车祸急救"}, "break_glass", "break_glass.open"),
    "team": ("township", "/api/v1/teams",
             lambda w: {"township": TOWNSHIP, "name": "柳河镇第二家庭医生团队", "lead": "township101",
                        "members": ["village101"]},
             {"name": "柳河镇第三家庭医生团队"}, "teams", "team.create"),
    "contract": ("township", "/api/v1/archives/{archive}/contracts",
                 lambda w: {"team": w["team"], "package": "basic", "consent": SIGNED}, {"package": "chronic_disease"},
                 "contracts", "contract.sign"),
    "transfer": ("urban_doc", "/api/v1/archives/{archive}/transfers",
                 lambda w: {"to_village": URBAN, "reason": "随子女迁居", "moved_on": days_ago(3)},
                 {"reason": "投靠亲属"}, "transfers", "transfer.request"),
    "sample": ("township", "/api/v1/metrics/samples", lambda w: {"region": VILLAGE, "size": 1},
               {"seed": 7}, "samples", "sample.create"),
    "sample result": ("township", "/api/v1/metrics/samples/{sample}/results",
                      lambda w: {"archive_id": w["archive"], "qualified": True, "authentic": True, "method": "phone"},
                      {"note": "电话未接通"}, "sample_results", "sample.result"),
}


@pytest.mark.parametrize("what", CREATES)
def test_every_creation_takes_an_idempotency_key(what, client, db, doctor, township, people):
    who, url, body, change, collection, action = CREATES[what]
    world = {"archive": make_archive(client, doctor)}
    world["team"] = make_team(client, township)
    world["sample"] = draw_sample(client, township, VILLAGE, 1)["id"]
    sender = {"doctor": doctor, "township": township}.get(who) or people[who]
    headers = {**sender, "Idempotency-Key": what.replace(" ", "-")}
    url = url.format(**world)
    # A transfer's entry has a copy in the receiving township's chain: the entries, not the copies.
    logged_as = {"action": action, "detail.copy_of": {"$exists": False}}
    before, logged = db[collection].count_documents({}), db.audit.count_documents(logged_as)
    first = client.post(url, json=body(world), headers=headers)
    assert first.status_code in (200, 201), first.get_json()
    again = client.post(url, json=body(world), headers=headers)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert db[collection].count_documents({}) == before + 1
    assert db.audit.count_documents(logged_as) == logged + 1
    other = client.post(url, json={**body(world), **change}, headers=headers)
    assert_invalid(other, **{"Idempotency-Key": "different request"})
    assert db[collection].count_documents({}) == before + 1


def test_reconcile_appends_both_townships_entries_of_a_cut_off_transfer(client, db, doctor, people, runner,
                                                                       monkeypatch):
    archive_id = make_archive(client, doctor)
    with monkeypatch.context() as patched:
        cut_off_audit(patched, "transfer.request")
        asked = client.post(f"/api/v1/archives/{archive_id}/transfers", headers=people["urban_doc"],
                            json={"to_village": URBAN, "reason": "随子女迁居", "moved_on": days_ago(3)})
        assert asked.status_code == 503
    [transfer] = db.transfers.find()
    assert entries(db, "transfer.request", archive_id) == 0
    result = runner.invoke(args=["archives", "reconcile", "--grace-minutes", "0"])
    assert "(transfers 1): appended 1 missing entries" in result.output
    first, copy = sorted(db.audit.find({"action": "transfer.request"}), key=lambda entry: entry["chain"] != TOWNSHIP)
    assert (first["chain"], copy["chain"]) == (TOWNSHIP, URBAN[:9])
    assert copy["detail"] == {**first["detail"], "copy_of": first["_id"]}
    assert first["detail"]["transfer"] == transfer["_id"] and first["actor"] == copy["actor"]
    assert verified(runner)


def test_a_decision_cut_off_before_its_entry_is_completed_by_reconcile(client, db, doctor, people, runner,
                                                                        monkeypatch):
    archive_id = make_archive(client, doctor)
    request_id = client.post("/api/v1/access-requests", headers=people["sup"], json={
        "archive_id": archive_id, "purpose": "慢病管理质量抽查", "days": 7,
        "application": "县卫健委慢病科申请查阅该档案。"}).get_json()["id"]
    with monkeypatch.context() as patched:
        cut_off_audit(patched, "access.approve")
        decided = client.post(f"/api/v1/access-requests/{request_id}/decision", headers=people["staff"],
                              json={"decision": "approve"})
        assert decided.status_code == 503
    # The claimed step carries the entry; the request moved on all the same.
    assert client.get(f"/api/v1/access-requests/{request_id}", headers=people["sup"]).get_json()["status"] == \
        "awaiting_consent"
    result = runner.invoke(args=["archives", "reconcile", "--grace-minutes", "0"])
    assert "(access_events 1): appended 1 missing entries" in result.output
    [entry] = db.audit.find({"action": "access.approve"})
    assert entry["grant"] == request_id and entry["actor"] == "staff"
    assert verified(runner)


def test_keys_marks_and_reconcile_query_by_declared_indexes(app, devdb, client, doctor, people, monkeypatch):
    watched_collections = (*pending.MARKED, "audit", "idempotency_keys")
    with watched(app, devdb) as listener:
        with monkeypatch.context() as patched:
            cut_off_audit(patched, "archive.create")
            assert post_archive(client, doctor, key="reg-9", **NEWBORN).status_code == 503
        later(monkeypatch)  # the repeat settles the abandoned mark
        assert post_archive(client, doctor, key="reg-9", **NEWBORN).status_code == 200
        assert post_archive(client, doctor, key="reg-9", **{**NEWBORN, "sex": "female"}).status_code == 422
        archive_id = make_archive(client, doctor, n=5)
        assert post_record(client, doctor, archive_id, checkup(), key="visit-9").status_code == 201
        assert post_record(client, doctor, archive_id, checkup(), key="visit-9").status_code == 200
        with app.app_context():
            locks.reconcile(timedelta(0))
        assert len(list(listener.shapes(watched_collections))) > 10
        assert unsupported(listener, watched_collections) == []


def test_a_change_cut_off_before_its_entry_leaves_the_next_change_possible(client, db, doctor, archive_id, runner,
                                                                          monkeypatch):
    record = make_record(client, doctor, archive_id, checkup())
    read = client.get(f"/api/v1/archives/{archive_id}", headers=doctor)
    with monkeypatch.context() as patched:
        cut_off_audit(patched, "record.amend")
        cut_off_audit(patched, "archive.update")
        assert amend(client, doctor, archive_id, record["id"], {"general": {"weight": 70}}).status_code == 503
        changed = client.patch(f"/api/v1/archives/{archive_id}", json={"phone": "13800002222"},
                               headers=if_match(doctor, read))
        assert changed.status_code == 503
    # The versions landed, each carrying its entry; the next changes go ahead all the same.
    assert amend(client, doctor, archive_id, record["id"], {"general": {"weight": 71}}).status_code == 200
    again = client.get(f"/api/v1/archives/{archive_id}", headers=doctor)
    assert again.get_json()["phone"] == "13800002222"
    assert client.patch(f"/api/v1/archives/{archive_id}", json={"phone": "13800003333"},
                        headers=if_match(doctor, again)).status_code == 200
    # The archive's next change appended the entry its mark held before taking its place.
    assert entries(db, "archive.update", archive_id) == 2
    assert runner.invoke(args=["archives", "reconcile", "--grace-minutes", "0"]).exit_code == 0
    assert entries(db, "record.amend", archive_id) == 2
    assert verified(runner)
