"""Numbering and concurrent writers, against the real dev database: codes are claimed by
insert, so many writers at once neither collide nor leave gaps."""

import threading

import pytest

from healthrec import clock
from healthrec.archives import locks
from healthrec.settings import SettingsError, finalise, from_env
from tests.factories import (
    LAYOUT,
    NEIGHBOUR,
    VILLAGE,
    code,
    if_match,
    import_file,
    legacy_row,
    post_archive,
    resident,
    restarted,
)


def at_once(count, work):
    """Run work(i) in `count` threads released together; the results, or the errors."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as error:  # the test shows it
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_twenty_creators_in_one_village_get_twenty_gapless_codes(app, db, doctor):
    responses = at_once(20, lambda i: app.test_client().post("/api/v1/archives", json=resident(i), headers=doctor))
    assert [response.status_code for response in responses] == [201] * 20
    assert sorted(response.get_json()["id"] for response in responses) == [code(n) for n in range(1, 21)]
    assert db.archives.count_documents({}) == 20
    assert db.audit.count_documents({"action": "archive.create", "outcome": "ok"}) == 20


def test_one_person_registered_five_times_at_once_gets_one_archive(app, client, db, doctor):
    statuses = at_once(5, lambda i: app.test_client().post("/api/v1/archives", json=resident(0),
                                                           headers=doctor).status_code)
    assert sorted(statuses) == [201, 409, 409, 409, 409]
    assert db.archives.count_documents({}) == 1
    assert db.identities.count_documents({}) == 1


def test_two_changes_with_one_etag_let_exactly_one_win(app, client, db, doctor):
    created = post_archive(client, doctor)
    url = f"/api/v1/archives/{created.get_json()['id']}"
    addresses = [f"柳河村{i}组{i}号" for i in range(6)]
    responses = at_once(6, lambda i: app.test_client().patch(
        url, json={"address": addresses[i]}, headers=if_match(doctor, created)))
    statuses = [response.status_code for response in responses]
    assert sorted(statuses) == [200] + [412] * 5
    winner = addresses[statuses.index(200)]
    final = client.get(url, headers=doctor).get_json()
    assert final["version"] == 2 and final["address"] == winner


def test_the_last_serial_used_up_is_409_and_leaves_nothing_behind(client, db, doctor, township):
    # Stands in for the archives numbered before: numbering resumes from this hint.
    db.archive_serials.insert_one({"_id": VILLAGE, "last": LAYOUT.max_serial - 1})
    assert post_archive(client, doctor).get_json()["id"] == code(LAYOUT.max_serial)
    full = post_archive(client, doctor, n=1)
    assert full.status_code == 409
    assert full.mimetype == "application/problem+json"
    assert f"used all {LAYOUT.max_serial} archive serials" in full.get_json()["detail"]
    assert db.archives.count_documents({}) == 1
    assert db.identities.count_documents({}) == 1  # the refused resident's card was let go
    assert post_archive(client, township, n=1, village_code=NEIGHBOUR).status_code == 201


def test_numbering_resumes_after_the_last_archive_without_or_with_a_lagging_hint(app, client, db, doctor):
    for n in range(3):
        post_archive(client, doctor, n=n)
    # Processes that start afresh know only the shared hint, or the archives themselves.
    db.archive_serials.delete_many({})
    assert post_archive(restarted(app).test_client(), doctor, n=3).get_json()["id"] == code(4)
    db.archive_serials.update_one({"_id": VILLAGE}, {"$set": {"last": 1}})
    assert post_archive(restarted(app).test_client(), doctor, n=4).get_json()["id"] == code(5)


def test_service_processes_numbering_one_village_take_turns_without_gaps(app, client, db, doctor):
    other = restarted(app).test_client()
    made = [post_archive(c, doctor, n=n).get_json()["id"] for n, c in enumerate([client, other, other, client])]
    # The first process still thought the village ended at its own archive: its insert
    # met the other's codes and moved past them.
    assert made == [code(1), code(2), code(3), code(4)]
    assert sorted(doc["_id"] for doc in db.archives.find()) == made


def test_numbering_carries_on_after_an_import_by_another_process_within_a_minute(
        app, client, doctor, township, tmp_path, monkeypatch):
    assert post_archive(client, doctor, n=0).get_json()["id"] == code(1)
    importer = restarted(app).test_cli_runner()  # `flask archives import`, a process of its own
    imported = importer.invoke(args=["archives", "import", str(import_file(tmp_path / "a.csv", [
        legacy_row(5, serial=40)])), "--by", "township101"])
    assert imported.exit_code == 0, imported.output
    # This process carries on from its own last number for a while (still free, so unique)...
    assert post_archive(client, doctor, n=1).get_json()["id"] == code(2)
    # ...and once it reads the shared hint again, after the paper archive's number.
    later = clock.utcnow() + locks.HINT_SECONDS
    monkeypatch.setattr(clock, "utcnow", lambda: later)
    assert post_archive(client, doctor, n=2).get_json()["id"] == code(41)


def test_a_site_on_the_17_digit_layout_is_one_setting(app, client, doctor):
    app.config["ARCHIVE_SERIAL_DIGITS"] = 5
    created = post_archive(client, doctor).get_json()
    assert created["id"] == VILLAGE + "00001"
    assert client.get(f"/api/v1/archives/{created['id']}", headers=doctor).status_code == 200


def test_a_layout_other_than_16_or_17_digits_is_refused_at_start():
    values = from_env({"HEALTHREC_ARCHIVE_SERIAL_DIGITS": "6", "HEALTHREC_SECRET_KEY": "x"})
    with pytest.raises(SettingsError, match="ARCHIVE_SERIAL_DIGITS must be 4"):
        finalise(values)
