"""Verification samples: a reproducible uniform draw, checkers who read exactly the drawn
archives while the sample is open (every read audited with the sample), and results
claimed once per archive."""

import random
import threading
from datetime import timedelta

from healthrec.access.grants import SAMPLE_PURPOSE
from healthrec.clock import today
from healthrec.metrics.samples import frame_digest
from tests.factories import (
    COUNTY,
    NEIGHBOUR,
    TOWNSHIP,
    URBAN,
    VILLAGE,
    check,
    days_ago,
    draw_sample,
    make_archive,
    make_record,
    record_body,
)
from tests.querycheck import unsupported, watched


def archives(client, headers, count, first=0, village=VILLAGE):
    return [make_archive(client, headers, n, village_code=village) for n in range(first, first + count)]


def read(client, headers, archive_id):
    return client.get(f"/api/v1/archives/{archive_id}", headers=headers)


def post(client, headers, body):
    return client.post("/api/v1/metrics/samples", json=body, headers=headers)


def test_a_seeded_draw_is_uniform_over_the_archived_and_can_be_repeated(client, db, people):
    made = archives(client, people["doc"], 6) + archives(client, people["doc2"], 2, first=6, village=NEIGHBOUR)
    closed = made[0]
    assert client.post(f"/api/v1/archives/{closed}/close", headers=people["doc"],
                       json={"reason": "death", "date": days_ago(1)}).status_code == 200
    frame = sorted(made[1:])  # the township's archived archives, in code order

    sample = draw_sample(client, people["sup"], TOWNSHIP, 4, seed=20260601)
    assert sample["archives"] == sorted(random.Random(20260601).sample(frame, 4))
    assert sample["frame"] == {"count": 7, "sha256": frame_digest(frame)}
    assert (sample["region"], sample["size"], sample["seed"], sample["status"], sample["checkers"]) == (
        TOWNSHIP, 4, 20260601, "open", ["sup"])
    assert sample["due"] == (today() + timedelta(days=30)).isoformat()
    again = draw_sample(client, people["sup"], TOWNSHIP, 4, seed=20260601)
    assert again["archives"] == sample["archives"] and again["id"] != sample["id"]
    unseeded = draw_sample(client, people["sup"], TOWNSHIP, 7)
    assert unseeded["archives"] == frame and isinstance(unseeded["seed"], int)
    entry = db.audit.find_one({"action": "sample.create", "grant": sample["id"]})
    assert entry["detail"]["seed"] == 20260601 and entry["detail"]["shown"] == sample["archives"]


def test_a_checker_reads_exactly_the_drawn_archives_while_the_sample_is_open(client, db, people):
    drawn, other = archives(client, people["doc"], 2)
    make_record(client, people["doc"], drawn, record_body("encounter"))
    # A seed that draws `drawn` of the two.
    seed = next(s for s in range(100) if random.Random(s).sample(sorted([drawn, other]), 1) == [drawn])
    sample = draw_sample(client, people["sup"], VILLAGE, 1, seed=seed)
    assert sample["archives"] == [drawn]

    assert read(client, people["sup"], drawn).status_code == 200
    assert client.get(f"/api/v1/archives/{drawn}/records", headers=people["sup"]).status_code == 200
    assert read(client, people["sup"], other).status_code == 404
    reads = list(db.audit.find({"actor": "sup", "archive_id": drawn, "outcome": "ok"}))
    assert {(entry["action"], entry["grant"], entry["purpose"]) for entry in reads} == {
        ("archive.read", sample["id"], SAMPLE_PURPOSE), ("record.list", sample["id"], SAMPLE_PURPOSE)}
    # Reading, not writing: the sample grants no change.
    current = read(client, people["sup"], drawn)
    change = client.patch(f"/api/v1/archives/{drawn}", json={"phone": "13812345678"},
                          headers={**people["sup"], "If-Match": current.headers["ETag"]})
    assert change.status_code == 403

    closed = client.post(f"/api/v1/metrics/samples/{sample['id']}/close", headers=people["sup"])
    assert closed.status_code == 200 and closed.get_json()["status"] == "closed"
    assert read(client, people["sup"], drawn).status_code == 404
    assert check(client, people["sup"], sample["id"], drawn).status_code == 409
    again = client.post(f"/api/v1/metrics/samples/{sample['id']}/close", headers=people["sup"])
    assert again.status_code == 409


def test_the_last_day_passing_ends_the_access(client, db, people):
    (drawn,) = archives(client, people["doc"], 1)
    sample = draw_sample(client, people["sup"], VILLAGE, 1, due=today().isoformat())
    assert read(client, people["sup"], drawn).status_code == 200
    db.samples.update_one({"_id": sample["id"]}, {"$set": {"due": days_ago(1)}})
    assert read(client, people["sup"], drawn).status_code == 404
    shown = client.get(f"/api/v1/metrics/samples/{sample['id']}", headers=people["sup"]).get_json()
    assert shown["status"] == "expired"
    refused = check(client, people["sup"], sample["id"], drawn)
    assert refused.status_code == 409 and "expired" in refused.get_json()["detail"]


def test_named_checkers_read_and_record_others_do_not(client, db, people, login):
    (drawn,) = archives(client, people["doc"], 1)
    checker = login("supervisor", COUNTY, "checker")
    people["town2"]  # another township's staff: cross-checking is allowed
    sample = draw_sample(client, people["sup"], COUNTY, 1, checkers=["checker", "town2"])
    assert sorted(sample["checkers"]) == ["checker", "town2"]
    assert read(client, checker, drawn).status_code == 200
    assert read(client, people["town2"], drawn).status_code == 200
    assert read(client, people["sup"], drawn).status_code == 404  # drew it, does not check it
    assert check(client, people["sup"], sample["id"], drawn).status_code == 403
    assert check(client, checker, sample["id"], drawn).status_code == 200
    shown = client.get(f"/api/v1/metrics/samples/{sample['id']}", headers=people["sup"]).get_json()
    assert [(result["archive_id"], result["checked_by"]) for result in shown["results"]] == [(drawn, "checker")]
    mine = client.get("/api/v1/metrics/samples", headers=checker).get_json()
    assert [item["id"] for item in mine["items"]] == [sample["id"]]
    assert client.get(f"/api/v1/metrics/samples/{sample['id']}", headers=people["doc"]).status_code == 403


def test_a_result_is_recorded_once(app, client, db, people, login):
    (drawn,) = archives(client, people["doc"], 1)
    people["staff"]
    sample = draw_sample(client, people["sup"], VILLAGE, 1, checkers=["sup", "staff"])
    first = check(client, people["sup"], sample["id"], drawn, qualified=False, missing=["phone", "address"],
                  note="电话空号")
    assert first.status_code == 200
    assert (first.get_json()["missing"], first.get_json()["note"], first.get_json()["village"]) == (
        ["address", "phone"], "电话空号", VILLAGE)
    # Sent again over a poor connection: the same answer.
    repeat = check(client, people["sup"], sample["id"], drawn, qualified=False, missing=["address", "phone"],
                   note="电话空号")
    assert repeat.status_code == 200 and repeat.get_json()["checked_at"] == first.get_json()["checked_at"]
    other = check(client, people["staff"], sample["id"], drawn)
    assert other.status_code == 409 and "sup already recorded" in other.get_json()["detail"]
    assert db.sample_results.count_documents({}) == 1
    stored = db.sample_results.find_one()
    assert set(stored["note"]) == {"k", "n", "c"}  # sealed

    # Two checkers at the same moment: one result.
    (second,) = archives(client, people["doc"], 1, first=1)
    both = draw_sample(client, people["sup"], VILLAGE, 2, checkers=["sup", "staff"])
    barrier = threading.Barrier(2)
    codes = []

    def answer(headers, authentic):
        barrier.wait()
        codes.append(check(app.test_client(), headers, both["id"], second, authentic=authentic).status_code)

    threads = [threading.Thread(target=answer, args=(people[name], name == "sup")) for name in ("sup", "staff")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == [200, 409]
    assert db.sample_results.count_documents({"sample": both["id"]}) == 1


def test_bad_draws_are_422_or_403_and_write_nothing(client, db, people, login):
    archives(client, people["doc"], 2)
    login("admin", COUNTY, "someadmin")
    bad = [
        ({"region": VILLAGE, "size": 3}, "size"),
        ({"region": VILLAGE, "size": 0}, "size"),
        ({"region": "4114231", "size": 1}, "region"),
        ({"region": VILLAGE, "size": 1, "seed": -1}, "seed"),
        ({"region": VILLAGE, "size": 1, "checkers": ["nobody"]}, "checkers.0"),
        ({"region": VILLAGE, "size": 1, "checkers": ["sup", "someadmin"]}, "checkers.1"),
        ({"region": VILLAGE, "size": 1, "due": days_ago(1)}, "due"),
        ({"region": VILLAGE, "size": 1, "due": (today() + timedelta(days=31)).isoformat()}, "due"),
    ]
    for body, field in bad:
        response = post(client, people["sup"], body)
        assert response.status_code == 422, (body, response.get_json())
        assert response.mimetype == "application/problem+json"
        assert list(response.get_json()["errors"]) == [field], body
    far_township = login("township_staff", "411424101")
    for headers, region in ((people["doc"], VILLAGE), (people["staff"], URBAN), (far_township, VILLAGE),
                            (people["sup"], "411424"), (people["admin"], COUNTY)):
        assert post(client, headers, {"region": region, "size": 1}).status_code == 403
    assert db.samples.count_documents({}) == 0
    assert db.audit.count_documents({"action": "sample.create", "outcome": "ok"}) == 0
    assert db.audit.count_documents({"action": "sample.create", "outcome": "denied"}) == 5
    # Township staff draw within their own township.
    assert draw_sample(client, people["staff"], VILLAGE, 1)["checkers"] == ["staff"]


def test_bad_results_are_422_and_write_nothing(client, db, people):
    made = archives(client, people["doc"], 2)
    sample = draw_sample(client, people["sup"], VILLAGE, 1)
    (drawn,) = sample["archives"]
    (other,) = set(made) - {drawn}
    bad = [
        ({"archive_id": other}, "archive_id"),
        ({"archive_id": "4114231011"}, "archive_id"),
        ({"archive_id": drawn, "qualified": False}, "missing"),
        ({"archive_id": drawn, "missing": ["phone"]}, "missing"),
        ({"archive_id": drawn, "method": "letter"}, "method"),
        ({"archive_id": drawn, "authentic": None}, "authentic"),
    ]
    for body, field in bad:
        response = check(client, people["sup"], sample["id"], **body)
        assert response.status_code == 422, (body, response.get_json())
        assert list(response.get_json()["errors"]) == [field], body
    assert db.sample_results.count_documents({}) == 0
    assert client.get("/api/v1/metrics/samples/nosuchsample", headers=people["sup"]).status_code == 404


def test_every_sample_query_has_a_supporting_index(app, client, devdb, people):
    made = archives(client, people["doc"], 2)
    people["staff"]
    with watched(app, devdb) as listener:
        sample = draw_sample(client, people["sup"], TOWNSHIP, 1, checkers=["sup", "staff"])
        (drawn,) = sample["archives"]
        read(client, people["sup"], drawn)
        read(client, people["sup"], next(code for code in made if code != drawn))
        check(client, people["staff"], sample["id"], drawn)
        client.get(f"/api/v1/metrics/samples/{sample['id']}", headers=people["sup"])
        client.get("/api/v1/metrics/samples", query_string={"status": "open"}, headers=people["staff"])
        client.post(f"/api/v1/metrics/samples/{sample['id']}/close", headers=people["sup"])
        read(client, people["sup"], drawn)
    ours = ("samples", "sample_results", "archives", "users", "access_events")
    assert {collection for collection, _query, _sort in listener.shapes(ours)} == set(ours)
    assert unsupported(listener, ours) == []
