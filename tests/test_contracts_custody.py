"""Family-doctor contracts follow custody: a transfer to another township ends the contract
in force and puts the resident on the new township's signing list; a merger hands the
township's teams and contracts over, counted before and after; a village doctor whose
village now belongs to another township works with that township's teams."""

from datetime import timedelta

import pytest
from pymongo.errors import AutoReconnect

from healthrec.clock import today
from healthrec.contracts import follow, service
from tests.factories import (
    COUNTY,
    NEIGHBOUR,
    SIGNED,
    STONE_BRIDGE,
    STONE_VILLAGE,
    TOWNSHIP,
    URBAN,
    URBAN_TOWNSHIP,
    VILLAGE,
    add_stone_bridge,
    ask_transfer,
    bearer,
    decide_transfer,
    if_match,
    make_archive,
    make_contract,
    make_team,
    sign_contract,
    transferred,
)
from tests.querycheck import unsupported, watched

YESTERDAY = timedelta(days=1)


def team_of(client, people, *members):
    """柳河镇's team: its staff member `staff` as lead, with these village doctors (CAST names)."""
    for name in members:
        assert people[name]  # the account exists before it joins a team
    return make_team(client, people["staff"], members=members, lead="staff")


def contracted(client, region, day=None):
    """{village: residents under a contract in force} of `region`, as the indicators count it."""
    with client.application.app_context():
        counted = service.contracted_by_village(region, day or today())
    return {village: figures["contracted"] for village, figures in counted.items()}


def work(client, headers, path, **query):
    response = client.get(f"/api/v1/contracts/{path}", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def trail(client, headers, archive_id):
    response = client.get("/api/v1/audit", query_string={"archive_id": archive_id, "per_page": 200}, headers=headers)
    assert response.status_code == 200, response.get_json()
    return [(item["actor"], item["action"], item["outcome"]) for item in response.get_json()["items"]]


def section(output, heading):
    """The indented lines printed under `heading`."""
    lines = output.splitlines()
    start = lines.index(heading) + 1
    found = []
    for line in lines[start:]:
        if not line.startswith("  "):
            break
        found.append(line.strip())
    return found


# --- Transfers ---------------------------------------------------------------------------

def test_a_transfer_to_another_township_ends_the_contract_and_the_new_township_signs_the_resident(
        client, db, runner, people):
    team = team_of(client, people, "doc")
    archive_id = make_archive(client, people["doc"])
    signed_on = today() - timedelta(days=100)
    contract = make_contract(client, people["doc"], archive_id, team, signed_on=signed_on.isoformat())
    done = transferred(client, people, archive_id)

    shown = client.get(f"/api/v1/contracts/{contract['id']}", headers=people["urban_doc"])
    assert shown.status_code == 200, shown.get_json()
    body = shown.get_json()
    assert (body["status"], body["termination_reason"], body["terminated_by"], body["village"]) == (
        "terminated", "transferred", "system", URBAN)
    assert (body["terminated_on"], body["ends_on"], body["valid_until"]) == (
        today().isoformat(), (today() - YESTERDAY).isoformat(), contract["valid_until"])
    assert client.get(f"/api/v1/contracts/{contract['id']}", headers=people["doc"]).status_code == 404

    # Both townships see the end once in their own trail; nothing was withdrawn in the resident's name.
    for headers in (people["staff"], people["town2"]):
        assert trail(client, headers, archive_id).count(("system", "contract.terminate", "ok")) == 1
    entry = db.audit.find_one({"action": "contract.terminate", "chain": TOWNSHIP})
    assert entry["detail"] == {"contract": contract["id"], "reason": "transferred", "transfer": done["id"],
                               "from": VILLAGE, "to": URBAN}
    assert [entry["step"] for entry in db.consents.find({"kind": "contract"})] == ["sign"]

    # The new township's signing work shows the resident; the old one has nothing left to do.
    listed = work(client, people["urban_doc"], "to-sign")
    assert [(item["id"], item["archive_id"], item["name"], item["village"], item["terminated_on"],
             item["valid_until"]) for item in listed["items"]] == [
        (contract["id"], archive_id, "李秀英", URBAN, today().isoformat(), contract["valid_until"])]
    assert work(client, people["town2"], "to-sign")["total"] == 1
    assert work(client, people["staff"], "to-sign")["total"] == 0
    assert work(client, people["doc"], "to-sign", village=VILLAGE)["total"] == 0
    assert work(client, people["doc"], "due", within=90)["total"] == 0

    # Counted where the resident is now, while it was in force; in force nowhere today.
    assert contracted(client, COUNTY) == {}
    assert contracted(client, COUNTY, today() - YESTERDAY) == {URBAN: 1}

    # A team of the township the resident left does not serve them; one of the new township does.
    urban_team = make_team(client, people["town2"], members=("urban_doc",), township=URBAN_TOWNSHIP, lead="town2",
                           name="城关一队")
    old_team = sign_contract(client, people["town2"], archive_id, team)
    assert old_team.status_code == 422 and "choose one of its teams" in old_team.get_json()["errors"]["team"][0]
    again = make_contract(client, people["urban_doc"], archive_id, urban_team)
    assert again["id"] == f"{archive_id}-002" and again["village"] == URBAN
    assert work(client, people["urban_doc"], "to-sign")["items"] == []
    assert contracted(client, COUNTY) == {URBAN: 1}
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_transfer_within_the_township_keeps_the_contract_in_force(client, db, people):
    team = team_of(client, people, "doc", "doc2")
    archive_id = make_archive(client, people["doc"])
    contract = make_contract(client, people["doc"], archive_id, team,
                             signed_on=(today() - timedelta(days=300)).isoformat())
    transferred(client, people, archive_id, to_village=NEIGHBOUR, asker="doc2")

    body = client.get(f"/api/v1/contracts/{contract['id']}", headers=people["doc2"]).get_json()
    assert (body["status"], body["village"]) == ("valid", NEIGHBOUR)
    assert [item["id"] for item in work(client, people["doc2"], "due", within=90)["items"]] == [contract["id"]]
    assert work(client, people["doc"], "due", within=90)["items"] == []
    assert work(client, people["doc2"], "to-sign")["items"] == []
    assert contracted(client, TOWNSHIP) == {NEIGHBOUR: 1}
    renewed = client.post(f"/api/v1/contracts/{contract['id']}/renew", headers=people["doc2"], json={"consent": SIGNED})
    assert renewed.status_code == 200, renewed.get_json()
    assert db.audit.count_documents({"action": "contract.terminate"}) == 0


def test_a_confirmation_that_died_before_ending_the_contract_is_finished_by_the_next_read(
        monkeypatch, client, db, runner, people):
    team = team_of(client, people, "doc")
    archive_id = make_archive(client, people["doc"])
    contract = make_contract(client, people["doc"], archive_id, team)
    asked = ask_transfer(client, people["urban_doc"], archive_id, URBAN).get_json()
    real_record, written = follow.record, []

    def dies_before_the_copy(*args, **kwargs):
        written.append(kwargs["township"])
        if len(written) == 2:  # the old township's entry is written, the new one's is not
            raise AutoReconnect("connection lost")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(follow, "record", dies_before_the_copy)
    assert decide_transfer(client, people["staff"], asked["id"]).status_code == 503
    monkeypatch.undo()
    assert db.contracts.find_one({"_id": contract["id"]})["termination_reason"] == "transferred"

    read = client.get(f"/api/v1/transfers/{asked['id']}", headers=people["town2"])
    assert read.status_code == 200 and read.get_json()["status"] == "done"
    assert client.get(f"/api/v1/transfers/{asked['id']}", headers=people["urban_doc"]).status_code == 200
    chains = sorted(entry["chain"] for entry in db.audit.find({"action": "contract.terminate"}))
    assert chains == sorted([TOWNSHIP, URBAN_TOWNSHIP])
    assert db.contracts.find_one({"_id": contract["id"]})["version"] == 2
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


# --- Mergers and villages handed over ----------------------------------------------------

def merge(runner):
    return runner.invoke(args=["custody", "merge", TOWNSHIP, "--into", STONE_BRIDGE,
                               "--effective", today().isoformat(), "--reason", "县政府〔2026〕12号"])


@pytest.fixture
def county(client, runner, tmp_path, people, login):
    """石桥乡 with a team and a contract of its own; in 柳河镇 a team, four archives and three
    contracts: one due for renewal, one fresh (in 前营村), one terminated."""
    add_stone_bridge(runner, tmp_path)
    stone = login("township_staff", STONE_BRIDGE, "stone.staff")
    stone_doctor = login("village_doctor", STONE_VILLAGE, "stone.doctor")
    stone_team = make_team(client, stone, members=("stone.doctor",), township=STONE_BRIDGE, lead="stone.staff",
                           name="石桥一队")
    make_contract(client, stone_doctor, make_archive(client, stone_doctor, n=9, village_code=STONE_VILLAGE),
                  stone_team)
    team = team_of(client, people, "doc", "doc2")
    due = make_contract(client, people["doc"], make_archive(client, people["doc"], n=0), team,
                        signed_on=(today() - timedelta(days=300)).isoformat())
    fresh = make_contract(client, people["doc2"], make_archive(client, people["doc2"], n=1, village_code=NEIGHBOUR),
                          team)
    ended = make_contract(client, people["doc"], make_archive(client, people["doc"], n=2), team,
                          signed_on=(today() - timedelta(days=30)).isoformat())
    assert client.post(f"/api/v1/contracts/{ended['id']}/terminate", headers=people["doc"],
                       json={"reason": "moved_away"}).status_code == 200
    make_archive(client, people["doc"], n=3)
    return {"stone": stone, "team": team, "stone_team": stone_team, "due": due, "fresh": fresh}


def test_a_merger_hands_over_the_teams_and_contracts_and_counts_them(client, db, runner, people, county):
    before = client.get(f"/api/v1/teams/{county['team']}", headers=people["staff"])
    assert contracted(client, TOWNSHIP) == {VILLAGE: 1, NEIGHBOUR: 1}
    assert contracted(client, STONE_BRIDGE) == {STONE_VILLAGE: 1}

    result = merge(runner)
    assert result.exit_code == 0, result.output
    assert section(result.output, "Family-doctor contracts of the moved villages, per custodian township:") == [
        f"{TOWNSHIP} 柳河镇: 3 before, 0 after", f"{STONE_BRIDGE} 石桥乡: 0 before, 3 after"]
    assert section(result.output, "Family-doctor teams of the two townships:") == [
        f"{TOWNSHIP} 柳河镇: 1 before, 0 after", f"{STONE_BRIDGE} 石桥乡: 1 before, 2 after"]

    # The contracted share and the renewal lists follow: the same villages, under 石桥乡.
    assert contracted(client, TOWNSHIP) == {}
    assert contracted(client, STONE_BRIDGE) == {VILLAGE: 1, NEIGHBOUR: 1, STONE_VILLAGE: 1}
    assert contracted(client, COUNTY) == {VILLAGE: 1, NEIGHBOUR: 1, STONE_VILLAGE: 1}
    assert [item["id"] for item in work(client, county["stone"], "due", within=90)["items"]] == [county["due"]["id"]]
    # 柳河镇's staff serve 石桥乡 now, with a new token: the old one named their old scope.
    staff = bearer(client, "staff")
    assert [item["id"] for item in work(client, staff, "due", within=90)["items"]] == [county["due"]["id"]]

    # The team is 石桥乡's now, changed as a new version; its doctors renew with it.
    team = client.get(f"/api/v1/teams/{county['team']}", headers=county["stone"]).get_json()
    assert (team["township"], team["version"], team["members"], team["updated_by"]) == (
        STONE_BRIDGE, 2, ["staff", "doc", "doc2"], "system")
    listed = client.get("/api/v1/teams", headers=county["stone"]).get_json()
    assert {item["id"] for item in listed["items"]} == {county["team"], county["stone_team"]}
    stale = client.patch(f"/api/v1/teams/{county['team']}", headers=if_match(staff, before),
                         json={"name": "柳河一队"})
    assert stale.status_code == 412
    renewed = client.post(f"/api/v1/contracts/{county['due']['id']}/renew", headers=people["doc"],
                          json={"consent": SIGNED})
    assert renewed.status_code == 200, renewed.get_json()
    assert db.audit.count_documents({"action": "team.move", "chain": STONE_BRIDGE}) == 1
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0


def test_a_merger_that_died_handing_over_a_team_resumes_and_its_check_counts_contracts(
        monkeypatch, client, db, runner, county):
    def dies(*args):
        raise ConnectionResetError("the server went away")

    monkeypatch.setattr(follow, "_hand_over", dies)
    died = merge(runner)
    assert died.exit_code != 0 and isinstance(died.exception, ConnectionResetError)
    monkeypatch.undo()
    assert db.teams.find_one({"_id": county["team"]})["township"] == TOWNSHIP

    resumed = merge(runner)
    assert resumed.exit_code == 0, resumed.output
    assert db.teams.find_one({"_id": county["team"]})["township"] == STONE_BRIDGE
    assert db.audit.count_documents({"action": "team.move"}) == 1
    assert db.contract_events.count_documents({"_id": f"{county['team']}:3"}) == 0  # moved once

    # Stands in for a write that left a contract with the old township.
    db.contracts.update_one({"_id": county["fresh"]["id"]}, {"$set": {"township": TOWNSHIP}})
    plan = db.custody_moves.find_one({})["_id"]
    checked = runner.invoke(args=["custody", "check", plan])
    assert checked.exit_code == 1
    assert f"1 contract(s) still with another township: {county['fresh']['id']}" in checked.output
    assert section(checked.output, "Family-doctor contracts of the moved villages, per custodian township:") == [
        f"{TOWNSHIP} 柳河镇: 3 before, 1 after", f"{STONE_BRIDGE} 石桥乡: 0 before, 2 after"]


def test_a_village_doctor_of_a_village_handed_to_another_township_works_with_its_teams(
        client, db, runner, tmp_path, people, login):
    add_stone_bridge(runner, tmp_path)
    stone = login("township_staff", STONE_BRIDGE, "stone.staff")
    old_team = team_of(client, people, "doc", "doc2")
    resident = make_archive(client, people["doc2"], n=1, village_code=NEIGHBOUR)
    running = make_contract(client, people["doc2"], resident, old_team,
                            signed_on=(today() - timedelta(days=300)).isoformat())
    moved = runner.invoke(args=["custody", "move", "--village", NEIGHBOUR, "--to", STONE_BRIDGE,
                                "--effective", today().isoformat()])
    assert moved.exit_code == 0, moved.output
    assert section(moved.output, "Family-doctor contracts of the moved villages, per custodian township:") == [
        f"{TOWNSHIP} 柳河镇: 1 before, 0 after", f"{STONE_BRIDGE} 石桥乡: 0 before, 1 after"]
    assert "Family-doctor teams" not in moved.output  # 柳河镇 goes on, with its teams

    # 前营村's code still names 柳河镇, but its doctor works in 石桥乡 now.
    stone_team = make_team(client, stone, members=("doc2",), township=STONE_BRIDGE, lead="stone.staff",
                           name="石桥一队")
    listed = client.get("/api/v1/teams", headers=people["doc2"]).get_json()
    assert [item["id"] for item in listed["items"]] == [stone_team]
    assert client.get("/api/v1/teams", query_string={"township": TOWNSHIP}, headers=people["doc2"]).status_code == 403
    read = client.get(f"/api/v1/teams/{old_team}", headers=people["staff"])
    kept = client.patch(f"/api/v1/teams/{old_team}", headers=if_match(people["staff"], read), json={"name": "柳河一队"})
    assert kept.status_code == 422 and kept.get_json()["errors"] == {
        "members.2": ["doc2 is neither staff of township 411423101 nor a village doctor of its villages."]}

    # The running contract stays in force with its team and is on 石桥乡's lists; a new year is
    # signed with a team of 石桥乡.
    assert db.contracts.find_one({"_id": running["id"]})["township"] == STONE_BRIDGE
    assert [item["id"] for item in work(client, stone, "due", within=90)["items"]] == [running["id"]]
    assert [item["id"] for item in work(client, people["doc2"], "due", within=90)["items"]] == [running["id"]]
    assert client.get("/api/v1/contracts/due", query_string={"village": NEIGHBOUR},
                      headers=people["staff"]).status_code == 403
    renew = client.post(f"/api/v1/contracts/{running['id']}/renew", headers=people["doc2"], json={"consent": SIGNED})
    assert renew.status_code == 409 and "served by township 411423102 now" in renew.get_json()["detail"]
    assert sign_contract(client, people["doc2"], resident, stone_team).status_code == 409  # still in force
    ended = client.post(f"/api/v1/contracts/{running['id']}/terminate", headers=stone,
                        json={"reason": "other", "note": "乡镇区划调整,改签石桥乡团队"})
    assert ended.status_code == 200, ended.get_json()
    signed = make_contract(client, people["doc2"], resident, stone_team)
    assert (signed["id"], signed["village"]) == (f"{resident}-002", NEIGHBOUR)
    assert contracted(client, STONE_BRIDGE) == {NEIGHBOUR: 1}
    assert contracted(client, TOWNSHIP) == {}

    denied = {(entry["actor"], entry["action"]) for entry in db.audit.find({"outcome": "denied"})}
    assert {("doc2", "team.list"), ("staff", "contract.due")} <= denied
    assert db.audit.count_documents({"actor": "doc2", "action": "contract.renew", "outcome": "conflict"}) == 1


def test_no_contract_is_signed_or_renewed_in_a_village_while_it_is_being_handed_over(client, db, people):
    team = team_of(client, people, "doc")
    archive_id = make_archive(client, people["doc"])
    contract = make_contract(client, people["doc"], archive_id, team,
                             signed_on=(today() - timedelta(days=300)).isoformat())
    other = make_archive(client, people["doc"], n=1)
    # Stands in for a merger under way (`flask custody merge`, regions.claim_villages).
    db.region_locks.insert_one({"_id": VILLAGE, "move": "merge-411423101-411423102-2026-03-01"})
    refused = sign_contract(client, people["doc"], other, team)
    assert refused.status_code == 409 and "being handed to another township" in refused.get_json()["detail"]
    renew = client.post(f"/api/v1/contracts/{contract['id']}/renew", headers=people["doc"], json={"consent": SIGNED})
    assert renew.status_code == 409
    assert db.contracts.count_documents({}) == 1 and db.contracts.find_one({})["version"] == 1
    assert db.audit.count_documents({"action": {"$in": ["contract.sign", "contract.renew"]},
                                     "outcome": "denied"}) == 2


# --- Bad input and who sees the lists ----------------------------------------------------

@pytest.mark.parametrize("path, query, field", [
    ("to-sign", {"village": "411423101199"}, "village"),
    ("to-sign", {"township": "411423199"}, "township"),
    ("due", {"village": "411423101199"}, "village"),
    ("to-sign", {"village": "4114231011"}, "village"),
])
def test_a_list_of_an_unknown_region_is_a_422_naming_it_and_writes_nothing(client, db, people, path, query, field):
    assert people["staff"]
    audit_before = db.audit.count_documents({})
    response = client.get(f"/api/v1/contracts/{path}", query_string=query, headers=people["staff"])
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert list(response.get_json()["errors"]) == [field]
    assert db.audit.count_documents({}) == audit_before


def test_the_signing_list_is_for_the_township_and_the_village_doctor(client, db, people):
    for who, query in (("sup", {"township": TOWNSHIP}), ("doc2", {"village": VILLAGE}),
                       ("town2", {"township": TOWNSHIP}), ("admin", {"township": TOWNSHIP})):
        assert client.get("/api/v1/contracts/to-sign", query_string=query, headers=people[who]).status_code == 403, who
    assert client.get("/api/v1/contracts/to-sign", headers=people["sup"]).status_code == 422
    assert db.audit.count_documents({"action": "contract.to_sign", "outcome": "denied"}) == 4
    assert work(client, people["staff"], "to-sign", village=NEIGHBOUR)["total"] == 0


def test_every_query_of_contracts_following_custody_has_an_index(app, devdb, client, runner, people, county):
    archive_id = make_archive(client, people["doc"], n=5)
    team = county["team"]
    with watched(app, devdb) as listener:
        make_contract(client, people["doc"], archive_id, team)
        transferred(client, people, archive_id)
        for who, query in (("urban_doc", {}), ("town2", {}), ("staff", {"village": VILLAGE})):
            work(client, people[who], "to-sign", **query)
        assert merge(runner).exit_code == 0
        work(client, county["stone"], "due")
        client.get("/api/v1/teams", headers=people["doc"])
    collections = ("contracts", "teams", "contract_events", "archives", "regions", "audit", "custody_moves")
    assert len(list(listener.shapes(collections))) > 60
    assert unsupported(listener, collections) == []
