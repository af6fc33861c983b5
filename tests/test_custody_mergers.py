"""Mergers: a township's archives, villages and staff pass to another township by an
operator's command that can die halfway and resume, and that ends by counting the archives
per custodian before and after and failing loudly on any difference."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from healthrec.clock import today
from healthrec.custody import mergers
from healthrec.records import worklists
from healthrec.regions import service as regions
from tests.factories import (
    NEIGHBOUR,
    STONE_BRIDGE,
    STONE_VILLAGE,
    TOWNSHIP,
    VILLAGE,
    add_stone_bridge,
    ask_transfer,
    bearer,
    coverage,
    days_ago,
    file_request,
    hypertension,
    if_match,
    make_archive,
    make_record,
    post_archive,
)
from tests.querycheck import unsupported, watched


@pytest.fixture
def county(client, runner, tmp_path, people, login):
    """Five archives in 柳河镇 (one closed, one with a record, one asked for by a supervisor)
    and one in 石桥乡, the township it is merged into."""
    add_stone_bridge(runner, tmp_path)
    ids = [make_archive(client, people["doc"], n=n) for n in range(3)]
    ids += [make_archive(client, people["doc2"], n=n, village_code=NEIGHBOUR) for n in (3, 4)]
    make_record(client, people["doc"], ids[0], hypertension(days_ago(30)))
    assert client.post(f"/api/v1/archives/{ids[2]}/close", headers=people["doc"],
                       json={"reason": "death", "date": days_ago(5)}).status_code == 200
    request = file_request(client, people["sup"], ids[1])
    assert people["staff"]  # 柳河镇's staff account, before the merger
    stone = login("township_staff", STONE_BRIDGE, "stone.staff")
    stone_doctor = login("village_doctor", STONE_VILLAGE, "stone.doctor")
    own = make_archive(client, stone_doctor, n=5, village_code=STONE_VILLAGE)
    return {"ids": ids, "own": own, "request": request["id"], "stone": stone}


def merge(runner, township=TOWNSHIP, into=STONE_BRIDGE, effective=None):
    return runner.invoke(args=["custody", "merge", township, "--into", into,
                               "--effective", (effective or today()).isoformat(), "--reason", "县政府〔2026〕12号"])


def test_a_merger_moves_every_archive_and_the_counts_before_and_after_match(client, db, runner, people, county):
    versions = {doc["_id"]: doc["version"] for doc in db.archives.find({"township": TOWNSHIP})}
    result = merge(runner)
    assert result.exit_code == 0, result.output
    assert f"{TOWNSHIP} 柳河镇: 5 before, 0 after" in result.output
    assert f"{STONE_BRIDGE} 石桥乡: 0 before, 5 after" in result.output
    # Per custodian over the whole townships: the new one holds the sum of both.
    assert f"{STONE_BRIDGE} 石桥乡: 1 before, 6 after" in result.output
    assert "Complete: every archive of the 2 villages is with 411423102." in result.output

    for archive_id, version in versions.items():
        archive = db.archives.find_one({"_id": archive_id})
        assert (archive["township"], archive["county"], archive["version"]) == (STONE_BRIDGE, "411423", version + 1)
    assert db.archives.count_documents({"township": STONE_BRIDGE}) == 6
    assert db.records.find_one({"archive_id": county["ids"][0]})["township"] == STONE_BRIDGE
    assert worklists_usage(client, db) == {county["ids"][0]}

    yesterday = (today() - timedelta(days=1)).isoformat()
    village = client.get(f"/api/v1/regions/{VILLAGE}", headers=people["sup"]).get_json()
    assert (village["parent"], village["former_parents"]) == (STONE_BRIDGE, [{"code": TOWNSHIP, "until": yesterday}])
    old = client.get(f"/api/v1/regions/{TOWNSHIP}", headers=people["sup"]).get_json()
    assert (old["valid_to"], old["successor"]) == (yesterday, STONE_BRIDGE)

    # The new township's staff manage them all, and see the old township's trail.
    listed = client.get("/api/v1/archives", query_string={"per_page": 200}, headers=county["stone"]).get_json()
    assert {item["id"] for item in listed["items"]} == {*county["ids"], county["own"]}
    # The indicators count them under the new township, with the villages it was handed
    # (the closed archive is no longer archived).
    township = coverage(client, county["stone"])
    villages = {row["region"]: row["archived"] for row in township["children"]}
    assert (township["archived"], villages) == (5, {VILLAGE: 2, NEIGHBOUR: 2, STONE_VILLAGE: 1})
    assert coverage(client, county["stone"], region=VILLAGE)["archived"] == 2  # its code names 柳河镇
    rows = {row["region"]: row["archived"] for row in coverage(client, people["sup"], region="411423")["children"]}
    assert rows[STONE_BRIDGE] == 5 and TOWNSHIP not in rows
    trail = client.get("/api/v1/audit", query_string={"per_page": 200}, headers=county["stone"]).get_json()
    chains = {item["chain"] for item in trail["items"]}
    assert chains == {TOWNSHIP, STONE_BRIDGE}
    assert db.audit.count_documents({"action": "custody.move", "chain": STONE_BRIDGE}) == 5
    assert db.audit.count_documents({"action": "custody.summary"}) == 2
    # The old township's staff now serve the merged one, once signed in again (a token carries
    # the scope it was issued for); the village doctors keep their villages.
    assert db.users.find_one({"_id": "staff"})["region"] == STONE_BRIDGE
    assert client.get(f"/api/v1/archives/{county['own']}", headers=people["staff"]).status_code == 401
    assert client.get(f"/api/v1/archives/{county['own']}", headers=bearer(client, "staff")).status_code == 200
    assert client.get(f"/api/v1/archives/{county['ids'][0]}", headers=people["doc"]).status_code == 200
    # The open access request is decided by the township that manages the archive now.
    approved = client.post(f"/api/v1/access-requests/{county['request']}/decision", headers=county["stone"],
                           json={"decision": "approve"})
    assert approved.status_code == 200, approved.get_json()

    created = runner.invoke(args=["users", "create", "late.staff", "--role", "township_staff", "--region", TOWNSHIP,
                                  "--password-stdin"], input="correct horse battery\n")
    assert created.exit_code == 1 and "retired on" in created.output and "use 411423102" in created.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def worklists_usage(client, db):
    """The usage query of the indicators, for the new township."""
    with client.application.app_context():
        return worklists.archives_with_service_since(STONE_BRIDGE, date.fromisoformat(days_ago(365)))


def test_a_merger_that_dies_halfway_resumes_without_moving_anything_twice(client, db, runner, people, county,
                                                                         monkeypatch):
    real_record = mergers.record
    calls = []

    def dies_on_the_third(*args, **kwargs):
        calls.append(args)
        if len(calls) == 3:
            raise ConnectionResetError("the server went away")  # the third archive moved, its entry not written
        return real_record(*args, **kwargs)

    monkeypatch.setattr(mergers, "record", dies_on_the_third)
    died = merge(runner)
    assert died.exit_code != 0 and isinstance(died.exception, ConnectionResetError)
    assert db.archives.count_documents({"township": STONE_BRIDGE}) == 4  # three moved, and its own
    # Until the move is finished nothing new goes into its villages.
    blocked = post_archive(client, people["doc"], n=9)
    assert blocked.status_code == 409 and "being handed to another township" in blocked.get_json()["detail"]
    assert ask_transfer(client, county["stone"], county["ids"][3], STONE_VILLAGE).status_code == 409
    monkeypatch.undo()

    resumed = merge(runner)
    assert resumed.exit_code == 0, resumed.output
    for archive_id in county["ids"]:
        assert db.audit.count_documents({"archive_id": archive_id, "action": "custody.move"}) == 1, archive_id
        assert db.archive_versions.count_documents({"archive_id": archive_id, "fields": ["custody"]}) == 1
    assert db.archives.count_documents({"township": STONE_BRIDGE}) == 6
    assert db.region_locks.count_documents({}) == 0
    assert post_archive(client, people["doc"], n=9).status_code == 201
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_the_completeness_check_fails_loudly_on_a_difference(db, runner, county):
    assert merge(runner).exit_code == 0
    [plan] = mergers_list(runner)
    left_behind = county["ids"][4]
    # Stands in for a write that put an archive back under the old township.
    db.archives.update_one({"_id": left_behind}, {"$set": {"township": TOWNSHIP}})
    checked = runner.invoke(args=["custody", "check", plan])
    assert checked.exit_code == 1
    assert "COMPLETENESS CHECK FAILED" in checked.output
    assert f"1 archive(s) still with another township: {left_behind}" in checked.output
    assert f"{TOWNSHIP} 柳河镇: 5 before, 1 after" in checked.output
    assert db.custody_moves.find_one({"_id": plan})["status"] == "check_failed"


def mergers_list(runner):
    listed = runner.invoke(args=["custody", "list"])
    assert listed.exit_code == 0, listed.output
    return [line.split("\t")[0] for line in listed.output.splitlines()]


def test_handing_one_village_over_leaves_the_township_and_its_staff_in_place(client, db, runner, people, county):
    moved = runner.invoke(args=["custody", "move", "--village", NEIGHBOUR, "--to", STONE_BRIDGE,
                                "--effective", today().isoformat()])
    assert moved.exit_code == 0, moved.output
    assert db.regions.find_one({"_id": TOWNSHIP}).get("valid_to") is None
    assert db.users.find_one({"_id": "staff"})["region"] == TOWNSHIP
    assert client.get(f"/api/v1/archives/{county['ids'][3]}", headers=people["staff"]).status_code == 404
    assert client.get(f"/api/v1/archives/{county['ids'][3]}", headers=county["stone"]).status_code == 200
    assert client.get(f"/api/v1/archives/{county['ids'][0]}", headers=people["staff"]).status_code == 200
    # New archives of the village are the new township's from the start.
    created = post_archive(client, people["doc2"], n=8, village_code=NEIGHBOUR)
    assert created.status_code == 201 and created.get_json()["township"] == STONE_BRIDGE
    # A later population import does not undo the move.
    path_text = f"{NEIGHBOUR},前营村,820,2027\n"
    import_file = runner.invoke(args=["regions", "import", "/dev/stdin"], input=path_text)
    assert import_file.exit_code == 0, import_file.output
    assert db.regions.find_one({"_id": NEIGHBOUR})["parent"] == STONE_BRIDGE


@pytest.mark.parametrize("args, says", [
    (["merge", TOWNSHIP, "--into", STONE_BRIDGE, "--effective", "2999-01-01"],
     "effective: Run a move on or after its effective day."),
    (["merge", TOWNSHIP, "--into", "411423199", "--effective", "2026-01-01"], "to: There is no township 411423199"),
    (["merge", TOWNSHIP, "--into", TOWNSHIP, "--effective", "2026-01-01"], "cannot be merged into itself"),
    (["move", "--village", VILLAGE, "--to", TOWNSHIP, "--effective", "2026-01-01"], "belongs to 411423101 already"),
    (["move", "--village", "411423101199", "--to", STONE_BRIDGE, "--effective", "2026-01-01"],
     "There is no village 411423101199"),
])
def test_a_move_that_cannot_start_says_why_and_writes_nothing(db, runner, county, args, says):
    audit_before = db.audit.count_documents({})
    result = runner.invoke(args=["custody", *args])
    assert result.exit_code == 1 and says in result.output, result.output
    assert db.custody_moves.count_documents({}) == 0 and db.region_locks.count_documents({}) == 0
    assert db.audit.count_documents({}) == audit_before
    assert db.archives.count_documents({"township": STONE_BRIDGE}) == 1


def test_every_query_of_a_merger_has_an_index(app, devdb, runner, county):
    with watched(app, devdb) as listener:
        assert merge(runner).exit_code == 0
        assert runner.invoke(args=["custody", "check", mergers_list(runner)[0]]).exit_code == 0
    collections = ("archives", "records", "identities", "access_requests", "regions", "region_locks", "users",
                   "custody_moves", "custody_claims", "audit", "archive_versions")
    assert len(list(listener.shapes(collections))) > 40
    assert unsupported(listener, collections) == []



def test_a_merger_waits_until_every_process_has_seen_its_locks_and_again_for_the_new_township(
        app, db, runner, county, monkeypatch):
    # Service processes keep regions and village locks for this long (regions.cache).
    app.config["REGIONS_CACHE_SECONDS"] = 7
    seen = []

    def sleep(seconds):  # what another process could still believe when the merger waits
        village = db.regions.find_one({"_id": VILLAGE})
        seen.append((seconds, db.region_locks.count_documents({"_id": VILLAGE}), village["parent"]))

    # Only the regions service's clock: the database driver's threads sleep too.
    monkeypatch.setattr(regions, "time", SimpleNamespace(sleep=sleep))
    assert merge(runner).exit_code == 0
    # Locked before any archive moves; still locked once the village has its new township.
    assert seen == [(7, 1, TOWNSHIP), (7, 1, STONE_BRIDGE)]
    assert db.region_locks.count_documents({}) == 0


def test_after_a_merger_the_merged_townships_staff_may_be_responsible_doctors(client, runner, people, county):
    assert merge(runner).exit_code == 0
    url = f"/api/v1/archives/{county['ids'][0]}"
    read = client.get(url, headers=county["stone"])
    # 柳河镇's staff account now serves 石桥乡, which manages the moved village: the village's
    # code still names 柳河镇, so only custody says they serve it.
    changed = client.patch(url, json={"responsible_doctor": "staff"}, headers=if_match(county["stone"], read))
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["responsible_doctor"] == "staff"
