"""Transfers under concurrent writers and crashes, against the real dev database: two
requests or two decisions at once let one win, a change racing a confirmation is not lost,
and what a dead request leaves behind is finished by the next one."""

import threading

from healthrec.custody import moves
from healthrec.records import writes
from tests.factories import (
    URBAN,
    URBAN_TOWNSHIP,
    VILLAGE,
    ask_transfer,
    days_ago,
    decide_transfer,
    hypertension,
    if_match,
    make_archive,
    make_record,
    post_record,
)


def at_once(app, calls):
    """Run each call(client) in its own thread, released together; the responses."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i):
        client = app.test_client()
        barrier.wait()
        results[i] = calls[i](client)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_requests_for_one_archive_at_once_let_one_win(app, client, db, people, login):
    archive_id = make_archive(client, people["doc"])
    askers = [people["urban_doc"], people["town2"], login("village_doctor", "411424101101", "far")]
    targets = [URBAN, URBAN, "411424101101"]
    for _round in range(3):
        responses = at_once(app, [lambda c, h=h, t=t: ask_transfer(c, h, archive_id, t)
                                  for h, t in zip(askers, targets, strict=True)])
        statuses = sorted(response.status_code for response in responses)
        assert statuses == [201, 409, 409], [response.get_json() for response in responses]
        winner = next(response.get_json() for response in responses if response.status_code == 201)
        assert decide_transfer(client, people["staff"], winner["id"], "refuse", note="核实后未迁出").status_code == 200
    assert db.transfers.count_documents({}) == 3
    assert db.transfers.count_documents({"status": "pending"}) == 0


def test_two_confirmations_at_once_move_the_archive_once(app, client, db, people, login):
    archive_id = make_archive(client, people["doc"])
    pending = ask_transfer(client, people["urban_doc"], archive_id, URBAN).get_json()
    staff = [people["staff"], people["staff2"], login("township_staff", "411423101", "staff3")]
    responses = at_once(app, [lambda c, h=h: decide_transfer(c, h, pending["id"]) for h in staff])
    assert sorted(response.status_code for response in responses) == [200, 409, 409]
    archive = db.archives.find_one({"_id": archive_id})
    assert (archive["village"], archive["version"]) == (URBAN, 2)
    assert db.archive_versions.count_documents({"archive_id": archive_id}) == 1
    assert db.audit.count_documents({"action": "transfer.confirm", "outcome": "ok"}) == 2  # one per township


def test_an_edit_racing_a_confirmation_is_kept_and_custody_moves(app, client, db, people):
    for round_ in range(3):
        archive_id = make_archive(client, people["doc"], n=round_)
        shown = client.get(f"/api/v1/archives/{archive_id}", headers=people["doc"])
        pending = ask_transfer(client, people["urban_doc"], archive_id, URBAN).get_json()
        responses = at_once(app, [
            lambda c, t=pending["id"]: decide_transfer(c, people["staff"], t),
            lambda c, a=archive_id, s=shown: c.patch(f"/api/v1/archives/{a}", json={"phone": "13800001111"},
                                                     headers=if_match(people["doc"], s)),
        ])
        assert responses[0].status_code == 200, responses[0].get_json()
        # The edit lands, or was made on the version before the move (412), or came after it (403).
        assert responses[1].status_code in (200, 403, 412), responses[1].get_json()
        archive = db.archives.find_one({"_id": archive_id})
        assert (archive["village"], archive["township"]) == (URBAN, URBAN_TOWNSHIP)
        phone_changed = responses[1].status_code == 200
        assert archive["version"] == (3 if phone_changed else 2)
        if phone_changed:
            assert client.get(f"/api/v1/archives/{archive_id}", headers=people["urban_doc"]).get_json()[
                "phone"] == "13800001111"


def test_a_confirmation_whose_request_died_is_finished_by_the_next_read(client, db, people, monkeypatch):
    archive_id = make_archive(client, people["doc"])
    make_record(client, people["doc"], archive_id, hypertension(days_ago(10)))
    pending = ask_transfer(client, people["urban_doc"], archive_id, URBAN).get_json()

    def dies(*args, **kwargs):
        raise ConnectionResetError("the worker was killed")

    monkeypatch.setattr(moves, "_follow", dies)
    assert decide_transfer(client, people["staff"], pending["id"]).status_code == 500
    # The decision was claimed and the archive moved; its records had not followed yet.
    assert db.archives.find_one({"_id": archive_id})["village"] == URBAN
    assert db.records.find_one({"archive_id": archive_id})["village"] == VILLAGE
    monkeypatch.undo()

    shown = client.get(f"/api/v1/transfers/{pending['id']}", headers=people["urban_doc"]).get_json()
    assert shown["status"] == "done"
    assert db.records.find_one({"archive_id": archive_id})["village"] == URBAN
    assert db.archive_versions.count_documents({"archive_id": archive_id}) == 1
    again = decide_transfer(client, people["staff"], pending["id"])
    assert again.status_code == 409 and again.get_json()["transfer_status"] == "done"


def test_a_record_written_while_the_archive_moves_follows_it(client, db, people, monkeypatch):
    archive_id = make_archive(client, people["doc"])
    pending = ask_transfer(client, people["urban_doc"], archive_id, URBAN).get_json()
    real_now = writes.now

    def confirmed_meanwhile():
        # The confirmation lands after the doctor's write was allowed and before it is stored.
        monkeypatch.setattr(writes, "now", real_now)
        assert decide_transfer(client, people["staff"], pending["id"]).status_code == 200
        return real_now()

    monkeypatch.setattr(writes, "now", confirmed_meanwhile)
    response = post_record(client, people["doc"], archive_id, hypertension(days_ago(1)))
    assert response.status_code == 201, response.get_json()
    assert (response.get_json()["village"], response.get_json()["recorded_in"]) == (URBAN, VILLAGE)
    stored = db.records.find_one({"archive_id": archive_id})
    assert (stored["village"], stored["township"]) == (URBAN, URBAN_TOWNSHIP)
