"""Nothing half-written: a failed step undoes its lock, and the locks left by a request
that died between two writes block only briefly and are removed by the next request that
meets them or by `flask archives reconcile`."""

from datetime import date, timedelta

import pytest

from healthrec.archives import locks
from healthrec.clock import now
from tests.factories import if_match, post_archive, resident


class Killed(BaseException):
    """The process dies here: no except clause runs, as after a kill or power cut."""


def killed(*args, **kwargs):
    raise Killed


def backdate(collection, minutes=10):
    collection.update_many({}, {"$set": {"at": now() - timedelta(minutes=minutes)}})


def test_a_request_killed_after_claiming_the_card_leaves_a_claim_reconcile_removes(
        client, db, runner, doctor, monkeypatch):
    monkeypatch.setattr(locks, "insert_numbered", killed)
    with pytest.raises(Killed):
        post_archive(client, doctor)
    monkeypatch.undo()
    assert db.identities.count_documents({}) == 1 and db.archives.count_documents({}) == 0

    # A young claim may belong to a request still running: the same card waits.
    waiting = post_archive(client, doctor)
    assert waiting.status_code == 409
    assert "try again in a minute" in waiting.get_json()["detail"]
    kept = runner.invoke(args=["archives", "reconcile"])
    assert kept.exit_code == 0 and "Removed 0 orphan ID-card locks" in kept.output

    result = runner.invoke(args=["archives", "reconcile", "--grace-minutes", "0"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 orphan ID-card locks and 0 unfinished version locks" in result.output
    assert db.identities.count_documents({}) == 0
    assert db.audit.count_documents({"action": "archive.reconcile"}) == 1
    assert post_archive(client, doctor).status_code == 201


def test_the_next_registration_removes_an_old_orphan_claim_itself(client, db, doctor, monkeypatch):
    monkeypatch.setattr(locks, "insert_numbered", killed)
    with pytest.raises(Killed):
        post_archive(client, doctor)
    monkeypatch.undo()
    backdate(db.identities)
    response = post_archive(client, doctor)
    assert response.status_code == 201
    assert db.identities.count_documents({}) == 1


def test_reconcile_keeps_the_locks_of_real_archives(client, db, runner, doctor):
    created = post_archive(client, doctor)
    post_archive(client, doctor, n=1)
    client.patch(f"/api/v1/archives/{created.get_json()['id']}", json={"phone": "13800002222"},
                 headers=if_match(doctor, created))
    backdate(db.identities)
    backdate(db.archive_versions)
    result = runner.invoke(args=["archives", "reconcile", "--grace-minutes", "0"])
    assert "Removed 0 orphan ID-card locks and 0 unfinished version locks" in result.output
    assert db.identities.count_documents({}) == 2 and db.archive_versions.count_documents({}) == 1


def test_a_version_claimed_by_a_request_that_died_is_released(client, db, runner, doctor):
    created = post_archive(client, doctor)
    archive_id = created.get_json()["id"]
    url = f"/api/v1/archives/{archive_id}"
    # What a PATCH killed between claiming version 2 and writing it leaves behind.
    db.archive_versions.insert_one({"_id": f"{archive_id}:2", "archive_id": archive_id, "version": 2,
                                    "by": "village101", "at": now(), "fields": ["phone"]})
    blocked = client.patch(url, json={"phone": "13800002222"}, headers=if_match(doctor, created))
    assert blocked.status_code == 412
    result = runner.invoke(args=["archives", "reconcile", "--grace-minutes", "0"])
    assert "0 orphan ID-card locks and 1 unfinished version locks" in result.output
    response = client.patch(url, json={"phone": "13800002222"}, headers=if_match(doctor, created))
    assert response.status_code == 200 and response.get_json()["version"] == 2


def test_the_next_change_releases_an_old_unfinished_version_itself(client, db, doctor):
    created = post_archive(client, doctor)
    archive_id = created.get_json()["id"]
    db.archive_versions.insert_one({"_id": f"{archive_id}:2", "archive_id": archive_id, "version": 2,
                                    "by": "village101", "at": now() - timedelta(minutes=10),
                                    "fields": ["phone"]})
    response = client.patch(f"/api/v1/archives/{archive_id}", json={"phone": "13800002222"},
                            headers=if_match(doctor, created))
    assert response.status_code == 200


def test_a_change_that_loses_its_version_lets_go_of_the_new_card(client, db, doctor):
    created = post_archive(client, doctor, id_card=None, guardian={"name": "李军", "relation": "child"})
    archive_id = created.get_json()["id"]
    card = resident()["id_card"]
    # Another writer holds version 2 right now.
    db.archive_versions.insert_one({"_id": f"{archive_id}:2", "archive_id": archive_id, "version": 2,
                                    "by": "village101", "at": now(), "fields": ["phone"]})
    lost = client.patch(f"/api/v1/archives/{archive_id}", json={"id_card": card}, headers=if_match(doctor, created))
    assert lost.status_code == 412
    assert db.identities.count_documents({}) == 0
    # Nothing holds the card: another archive may take it.
    assert post_archive(client, doctor, n=1, id_card=card, born=date(1958, 4, 12)).status_code == 201
