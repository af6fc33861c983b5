"""Break-glass: emergency opening outside one's scope within one's county, its time limit,
the day's limit and the alert before it, review and counts; an archive out of reach is
answered as one that does not exist."""

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from tests.factories import (
    COUNTY,
    FAR_COUNTY,
    NEIGHBOUR,
    TOWNSHIP,
    URBAN,
    URBAN_TOWNSHIP,
    code,
    make_archive,
    resident,
)

REASON = "车祸送急诊,患者昏迷,需查过敏史和既往史"


def open_glass(client, headers, archive_id, reason=REASON):
    return client.post(f"/api/v1/archives/{archive_id}/break-glass", headers=headers,
                       json={"reason": reason})


def test_clinician_outside_scope_opens_reads_and_is_audited(client, db, people, archive_id, app):
    assert client.get(f"/api/v1/archives/{archive_id}", headers=people["doc2"]).status_code == 404
    response = open_glass(client, people["doc2"], archive_id)
    assert response.status_code == 201, response.get_json()
    opening = response.get_json()
    left = datetime.fromisoformat(opening["valid_until"]) - datetime.now(UTC)
    hours = app.config["BREAK_GLASS_HOURS"]
    assert timedelta(hours=hours) - timedelta(minutes=1) < left <= timedelta(hours=hours)
    assert opening["status"] == "unreviewed"

    read = client.get(f"/api/v1/archives/{archive_id}", headers=people["doc2"])
    assert read.status_code == 200
    assert read.get_json()["name"] == resident()["name"]
    entry = db.audit.find_one({"action": "archive.read", "actor": "doc2", "outcome": "ok"})
    assert entry["grant"] == opening["id"] and "break-glass" in entry["purpose"]
    opened = db.audit.find_one({"action": "break_glass.open", "grant": opening["id"]})
    assert (opened["actor"], opened["outcome"], opened["archive_id"]) == ("doc2", "ok", archive_id)
    assert REASON not in str(list(db.break_glass.find())) + str(list(db.audit.find()))


def test_the_opening_ends_after_its_hours(client, db, people, archive_id):
    opening = open_glass(client, people["doc2"], archive_id).get_json()
    db.break_glass.update_one({"_id": opening["id"]},
                              {"$set": {"valid_until": datetime.now(UTC) - timedelta(seconds=1)}})
    read = client.get(f"/api/v1/archives/{archive_id}", headers=people["doc2"])
    assert read.status_code == 404
    [refused] = db.audit.find({"action": "archive.read", "actor": "doc2", "outcome": "denied"})
    assert refused["archive_id"] == archive_id


def test_hours_are_configurable(client, people, archive_id, app):
    app.config["BREAK_GLASS_HOURS"] = 1
    opening = open_glass(client, people["doc2"], archive_id).get_json()
    left = datetime.fromisoformat(opening["valid_until"]) - datetime.now(UTC)
    assert timedelta(minutes=59) < left <= timedelta(hours=1)


def test_a_reason_is_mandatory(client, db, people, archive_id):
    for body in ({}, {"reason": "   "}):
        response = client.post(f"/api/v1/archives/{archive_id}/break-glass", headers=people["doc2"], json=body)
        assert response.status_code == 422
        assert "reason" in response.get_json()["errors"]
    assert db.break_glass.count_documents({}) == 0
    assert client.get(f"/api/v1/archives/{archive_id}", headers=people["doc2"]).status_code == 404


def test_who_may_not_break_glass(client, db, people, archive_id):
    for who in ("sup", "admin"):
        response = open_glass(client, people[who], archive_id)
        assert response.status_code == 403
        assert "clinicians" in response.get_json()["detail"]
    own = open_glass(client, people["staff"], archive_id)
    assert own.status_code == 409 and "your own scope" in own.get_json()["detail"]
    assert db.break_glass.count_documents({}) == 0
    assert db.audit.count_documents({"action": "break_glass.open", "outcome": "denied"}) == 3


def test_openings_wait_in_the_townships_review_queue(client, db, people, archive_id):
    opening = open_glass(client, people["doc2"], archive_id).get_json()
    again = open_glass(client, people["doc2"], archive_id)
    assert again.status_code == 409

    def queue(who, query="?status=unreviewed"):
        response = client.get(f"/api/v1/break-glass{query}", headers=people[who])
        assert response.status_code == 200
        return response.get_json()["items"]

    waiting = queue("staff")
    assert [o["id"] for o in waiting] == [opening["id"]]
    assert waiting[0]["reason"] == REASON and waiting[0]["opened_by"] == "doc2"
    assert queue("town2") == [] and [o["id"] for o in queue("doc2", "")] == [opening["id"]]
    # The reasons tell what happened to the resident: reading them is in the resident's report.
    listed = db.audit.find_one({"action": "break_glass.list", "actor": "staff"})
    assert listed["detail"]["shown"] == [archive_id]

    path = f"/api/v1/break-glass/{opening['id']}/acknowledge"
    assert client.post(path, headers=people["town2"], json={}).status_code == 403
    assert client.post(path, headers=people["doc2"], json={}).status_code == 403
    done = client.post(path, headers=people["staff"], json={"note": "已电话核实,属实"})
    assert done.status_code == 200
    assert done.get_json()["status"] == "acknowledged"
    assert done.get_json()["acknowledged_by"] == "staff" and done.get_json()["note"] == "已电话核实,属实"
    twice = client.post(path, headers=people["staff2"], json={})
    assert twice.status_code == 409 and "staff" in twice.get_json()["detail"]
    assert queue("staff") == []
    assert [o["id"] for o in queue("staff", "?status=acknowledged")] == [opening["id"]]
    assert "电话核实" not in str(list(db.break_glass.find())) + str(list(db.access_events.find()))


def test_supervisors_see_counts_per_township(client, db, people, archive_id):
    urban = make_archive(client, people["town2"], n=1, village_code=URBAN)
    first = open_glass(client, people["doc2"], archive_id).get_json()
    open_glass(client, people["doc"], urban)
    open_glass(client, people["urban_doc"], archive_id)
    client.post(f"/api/v1/break-glass/{first['id']}/acknowledge", headers=people["staff"], json={})

    response = client.get("/api/v1/break-glass/counts", headers=people["sup"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["region"] == COUNTY
    assert body["townships"] == [
        {"township": URBAN_TOWNSHIP, "name": "城关街道", "openings": 1, "unreviewed": 1},
        {"township": TOWNSHIP, "name": "柳河镇", "openings": 2, "unreviewed": 1},
    ]
    one = client.get(f"/api/v1/break-glass/counts?region={TOWNSHIP}", headers=people["sup"]).get_json()
    assert [t["township"] for t in one["townships"]] == [TOWNSHIP]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    later = client.get(f"/api/v1/break-glass/counts?since={tomorrow}", headers=people["sup"]).get_json()
    assert later["townships"] == []


def test_counts_are_for_supervisors_of_the_region(client, login, people):
    other = login("supervisor", FAR_COUNTY, "sup424")
    assert client.get(f"/api/v1/break-glass/counts?region={COUNTY}", headers=other).status_code == 403
    assert client.get("/api/v1/break-glass/counts", headers=people["staff"]).status_code == 403
    bad = client.get("/api/v1/break-glass/counts?region=41x", headers=people["sup"])
    assert bad.status_code == 422 and "region" in bad.get_json()["errors"]


def test_an_archive_out_of_reach_is_answered_as_one_that_does_not_exist(client, db, people, archive_id):
    """Trying codes must not tell which residents have archives: another county's
    clinician gets for an existing archive exactly what a code nobody holds gets, when
    reading it and when opening it in an emergency."""
    missing = code(9999)

    def same(first, second):
        assert first.status_code == second.status_code == 404
        assert first.get_json() == {**second.get_json(), "detail": second.get_json()["detail"].replace(missing,
                                                                                                       archive_id)}

    for path in ("", "/records", "/consents"):
        same(client.get(f"/api/v1/archives/{archive_id}{path}", headers=people["far"]),
             client.get(f"/api/v1/archives/{missing}{path}", headers=people["far"]))
    same(client.patch(f"/api/v1/archives/{archive_id}", headers={**people["far"], "If-Match": "*"}, json={}),
         client.patch(f"/api/v1/archives/{missing}", headers={**people["far"], "If-Match": "*"}, json={}))
    same(open_glass(client, people["far"], archive_id), open_glass(client, people["far"], missing))
    assert "your own county" in open_glass(client, people["far"], archive_id).get_json()["detail"]
    assert db.break_glass.count_documents({}) == 0
    # The trail still tells the two apart, for the township that manages the archive.
    assert db.audit.count_documents({"action": "break_glass.open", "archive_id": archive_id,
                                     "outcome": "denied"}) == 2
    assert db.audit.count_documents({"action": "break_glass.open", "archive_id": missing,
                                     "outcome": "not_found"}) == 1


def test_the_days_openings_are_limited_and_the_township_and_supervisor_told(client, db, people, app):
    app.config["BREAK_GLASS_PER_DAY"] = 3
    ids = [make_archive(client, people["doc"], n) for n in range(4)]
    assert [open_glass(client, people["doc2"], ids[n]).status_code for n in range(2)] == [201, 201]

    def alerts(who):
        response = client.get("/api/v1/break-glass/alerts", headers=people[who])
        assert response.status_code == 200, response.get_json()
        return response.get_json()["items"]

    # All but one used: the clinician's township health centre and the county's supervisor see it.
    for who in ("staff", "sup"):
        [alert] = alerts(who)
        assert (alert["clinician"], alert["openings"], alert["limit"], alert["region"]) == ("doc2", 2, 3, NEIGHBOUR)
    assert alerts("town2") == []
    assert client.get("/api/v1/break-glass/alerts", headers=people["doc"]).status_code == 403
    assert db.audit.count_documents({"action": "alert.break_glass_limit_near", "actor": "doc2"}) == 1

    assert open_glass(client, people["doc2"], ids[2]).status_code == 201
    assert len(alerts("staff")) == 1  # told once a day
    over = open_glass(client, people["doc2"], ids[3])
    assert over.status_code == 429
    assert "3 emergency openings today" in over.get_json()["detail"]
    assert 0 < int(over.headers["Retry-After"]) <= 24 * 3600
    assert db.break_glass.count_documents({"archive_id": ids[3]}) == 0
    assert client.get(f"/api/v1/archives/{ids[3]}", headers=people["doc2"]).status_code == 404
    assert db.audit.count_documents({"action": "break_glass.open", "archive_id": ids[3], "outcome": "denied"}) == 1
    # The limit is each clinician's own.
    assert open_glass(client, people["urban_doc"], ids[3]).status_code == 201


def test_the_limit_holds_when_openings_come_at_once(client, db, people, app):
    app.config["BREAK_GLASS_PER_DAY"] = 1
    ids = [make_archive(client, people["doc"], n) for n in range(4)]
    clients, doc2 = [app.test_client() for _ in ids], people["doc2"]
    with ThreadPoolExecutor(len(ids)) as pool:
        answers = list(pool.map(lambda pair: open_glass(pair[0], doc2, pair[1]).status_code,
                                zip(clients, ids, strict=True)))
    assert sorted(answers) == [201, 429, 429, 429]
    assert db.break_glass.count_documents({"opened_by": "doc2"}) == 1
