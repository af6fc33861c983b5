"""Family-doctor teams and contracts through the API: who may set up a team and sign, one
contract in force per resident, a year's term computed at read, renewal, termination and
the consent log."""

import threading
from datetime import UTC, date, datetime, timedelta

from pymongo.errors import AutoReconnect

from healthrec import clock
from healthrec.clock import today
from healthrec.contracts import changes
from healthrec.contracts.rules import term_from
from tests.factories import (
    NEIGHBOUR,
    SIGNED,
    TOWNSHIP,
    URBAN_TOWNSHIP,
    bearer,
    if_match,
    make_archive,
    make_contract,
    make_team,
    sign_contract,
    years_ago,
)


def one_year_on(day):
    """The last day of a year's term from `day`: the day before the same date a year later."""
    try:
        anniversary = day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        anniversary = date(day.year + 1, 3, 1)
    return anniversary - timedelta(days=1)


def pin(monkeypatch, day):
    """Make `day` the clinic's today."""
    monkeypatch.setattr(clock, "utcnow", lambda: datetime(day.year, day.month, day.day, 4, tzinfo=UTC))


def test_township_staff_set_up_teams_of_their_township(client, db, doctor, township, login, people):
    response = client.post("/api/v1/teams", headers=township, json={
        "township": TOWNSHIP, "name": " 柳河镇第一家庭医生团队 ", "lead": "township101", "members": ["village101"]})
    assert response.status_code == 201, response.get_json()
    team = response.get_json()
    assert (team["name"], team["lead"], team["members"], team["active"]) == (
        "柳河镇第一家庭医生团队", "township101", ["township101", "village101"], True)
    assert response.headers["ETag"] == f'"{team["id"]}.1"'
    listed = client.get("/api/v1/teams", headers=doctor).get_json()
    assert [item["id"] for item in listed["items"]] == [team["id"]]

    login("village_doctor", "411424101101", "far")
    bad = client.post("/api/v1/teams", headers=township, json={
        "township": TOWNSHIP, "name": "二队", "lead": "nobody", "members": ["village101", "far"]})
    assert bad.status_code == 422
    assert bad.get_json()["errors"] == {
        "lead": ["There is no active user nobody."],
        "members.1": ["far is neither staff of township 411423101 nor a village doctor of its villages."]}
    refused = client.post("/api/v1/teams", headers=doctor, json={
        "township": TOWNSHIP, "name": "村医自建", "lead": "village101", "members": ["village101"]})
    assert refused.status_code == 403
    other = client.post("/api/v1/teams", headers=people["town2"], json={
        "township": TOWNSHIP, "name": "越界", "lead": "town2", "members": ["town2"]})
    assert other.status_code == 403
    assert db.teams.count_documents({}) == 1
    assert db.audit.count_documents({"action": "team.create", "outcome": "denied"}) == 2


def test_a_team_changes_with_if_match_and_a_stale_change_is_refused(client, doctor, township):
    team_id = make_team(client, township)
    read = client.get(f"/api/v1/teams/{team_id}", headers=township)
    url = f"/api/v1/teams/{team_id}"
    assert client.patch(url, headers=township, json={"active": False}).status_code == 428
    changed = client.patch(url, headers=if_match(township, read), json={"members": [], "name": "柳河一队"})
    assert changed.status_code == 200, changed.get_json()
    assert (changed.get_json()["members"], changed.get_json()["version"]) == (["township101"], 2)
    stale = client.patch(url, headers=if_match(township, read), json={"active": False})
    assert stale.status_code == 412
    assert client.get(url, headers=township).get_json()["active"] is True


def test_a_signed_contract_runs_a_year_and_its_consent_is_logged(client, db, doctor, township, archive_id):
    team = make_team(client, township)
    contract = make_contract(client, doctor, archive_id, team, signed_on=(today() - timedelta(days=10)).isoformat())
    signed_on = today() - timedelta(days=10)
    assert contract["id"] == f"{archive_id}-001"
    assert (contract["status"], contract["signed_on"], contract["valid_until"], contract["signed_by"]) == (
        "valid", signed_on.isoformat(), one_year_on(signed_on).isoformat(), "village101")
    log = client.get(f"/api/v1/archives/{archive_id}/consents", headers=township).get_json()
    assert [(e["kind"], e.get("contract_id"), e.get("step"), e["decision"], e["given_by"]) for e in log] == [
        ("contract", contract["id"], "sign", "granted", "self")]
    listed = client.get(f"/api/v1/archives/{archive_id}/contracts", headers=township).get_json()
    assert [item["id"] for item in listed] == [contract["id"]]
    assert db.audit.count_documents({"action": "contract.sign", "outcome": "ok", "archive_id": archive_id}) == 1


def test_a_resident_has_one_contract_in_force(app, client, db, doctor, township, archive_id):
    team = make_team(client, township)
    barrier = threading.Barrier(4)

    def signer(_):
        barrier.wait()
        return sign_contract(app.test_client(), doctor, archive_id, team)

    results: list = [None] * 4
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, signer(i))) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(response.status_code for response in results) == [201, 409, 409, 409]
    again = sign_contract(client, township, archive_id, team)
    assert again.status_code == 409 and again.get_json()["contract_id"] == f"{archive_id}-001"
    assert db.contracts.count_documents({}) == 1
    assert db.consents.count_documents({"kind": "contract"}) == 1


def test_who_may_sign(client, db, doctor, township, people, archive_id):
    team = make_team(client, township)
    other_team = make_team(client, people["town2"], township="411423001", lead="town2", members=(), name="城关一队")
    assert sign_contract(client, people["doc"], archive_id, team).status_code == 403  # the village's, not in the team
    # Those who may not read the archive are answered as for one that does not exist.
    assert sign_contract(client, people["doc2"], archive_id, team).status_code == 404
    assert sign_contract(client, people["sup"], archive_id, team).status_code == 404
    wrong_team = sign_contract(client, township, archive_id, other_team)
    assert wrong_team.status_code == 422 and "411423001" in wrong_team.get_json()["errors"]["team"][0]
    assert db.contracts.count_documents({}) == 0
    assert db.audit.count_documents({"action": "contract.sign", "outcome": "denied"}) == 3
    assert sign_contract(client, township, archive_id, team).status_code == 201


def test_bad_input_is_a_clear_422_and_nothing_is_written(client, db, doctor, township, archive_id):
    team = make_team(client, township)
    events = db.contract_events.count_documents({})
    response = sign_contract(client, doctor, archive_id, team, package="gold",
                             signed_on=(today() + timedelta(days=1)).isoformat(),
                             consent={"given_by": "guardian", "method": "signature"})
    assert response.status_code == 422
    assert response.headers["Content-Type"] == "application/problem+json"
    assert set(response.get_json()["errors"]) == {"package", "consent.guardian_name", "consent.relation"}
    future = sign_contract(client, doctor, archive_id, team, signed_on=(today() + timedelta(days=1)).isoformat())
    assert future.status_code == 422 and future.get_json()["errors"] == {
        "signed_on": ["The signing day lies in the future."]}
    assert sign_contract(client, doctor, archive_id, "no-such-team").status_code == 422
    assert (db.contracts.count_documents({}), db.contract_events.count_documents({}),
            db.consents.count_documents({})) == (0, events, 0)


def test_the_package_must_fit_the_resident(client, doctor, township):
    team = make_team(client, township)
    sixty = make_archive(client, doctor, n=1, born=years_ago(60))
    child = make_archive(client, doctor, n=2, born=years_ago(3), sex="male", guardian={
        "name": "王建国", "relation": "father"})
    elderly = sign_contract(client, doctor, sixty, team, package="elderly")
    assert elderly.status_code == 422 and elderly.get_json()["errors"]["package"] == [
        "The elderly package is for residents of 65 and over; this one is 60."]
    chronic = sign_contract(client, doctor, sixty, team, package="chronic_disease")
    assert chronic.status_code == 422 and "hypertension or diabetes" in chronic.get_json()["errors"]["package"][0]
    assert sign_contract(client, doctor, child, team, package="maternal").status_code == 422
    assert sign_contract(client, doctor, child, team, package="child").status_code == 201


def test_renewal_in_the_last_ninety_days_adds_a_year(client, db, doctor, township, archive_id):
    team = make_team(client, township)
    signed_on = today() - timedelta(days=300)
    contract = make_contract(client, doctor, archive_id, team, signed_on=signed_on.isoformat())
    renew = client.post(f"/api/v1/contracts/{contract['id']}/renew", headers=doctor,
                        json={"consent": SIGNED, "package": "elderly"})
    assert renew.status_code == 200, renew.get_json()
    renewed = renew.get_json()
    first_term = one_year_on(signed_on)
    assert renewed["valid_until"] == one_year_on(first_term + timedelta(days=1)).isoformat()
    assert renewed["package"] == "elderly" and renewed["version"] == 2
    assert renewed["renewals"] == [{"on": today().isoformat(), "by": "village101",
                                    "valid_until": renewed["valid_until"], "package": "elderly"}]
    early = client.post(f"/api/v1/contracts/{contract['id']}/renew", headers=doctor, json={"consent": SIGNED})
    assert early.status_code == 409 and "can be renewed from" in early.get_json()["detail"]
    steps = [entry["step"] for entry in db.consents.find({"contract_id": contract["id"]}).sort("at", 1)]
    assert steps == ["sign", "renew"]


def test_a_contract_runs_out_by_itself_and_a_new_one_is_signed(monkeypatch, client, doctor, township, archive_id):
    team = make_team(client, township)
    contract = make_contract(client, doctor, archive_id, team)
    pin(monkeypatch, one_year_on(today()) + timedelta(days=1))
    doctor = bearer(client, "village101")  # the old token has run out too
    assert client.get(f"/api/v1/contracts/{contract['id']}", headers=doctor).get_json()["status"] == "expired"
    late = client.post(f"/api/v1/contracts/{contract['id']}/renew", headers=doctor, json={"consent": SIGNED})
    assert late.status_code == 409 and "sign a new contract" in late.get_json()["detail"]
    assert make_contract(client, doctor, archive_id, team)["id"] == f"{archive_id}-002"


def test_termination_at_the_residents_request_logs_the_withdrawal(client, db, doctor, township, archive_id):
    team = make_team(client, township)
    contract = make_contract(client, doctor, archive_id, team)
    url = f"/api/v1/contracts/{contract['id']}/terminate"
    no_consent = client.post(url, headers=doctor, json={"reason": "resident_request"})
    assert no_consent.status_code == 422 and set(no_consent.get_json()["errors"]) == {"consent"}
    ended = client.post(url, headers=doctor, json={"reason": "resident_request", "note": "搬去女儿家住",
                                                   "consent": {"given_by": "self", "method": "thumbprint"}})
    assert ended.status_code == 200, ended.get_json()
    body = ended.get_json()
    assert (body["status"], body["termination_reason"], body["termination_note"], body["terminated_on"]) == (
        "terminated", "resident_request", "搬去女儿家住", today().isoformat())
    assert body["ends_on"] == (today() - timedelta(days=1)).isoformat()
    assert "搬去女儿家住" not in str(list(db.contracts.find())) + str(list(db.contract_events.find()))
    log = client.get(f"/api/v1/archives/{archive_id}/consents", headers=doctor).get_json()
    assert [(entry["step"], entry["decision"]) for entry in log] == [("sign", "granted"), ("terminate", "withdrawn")]
    assert client.post(url, headers=doctor, json={"reason": "death"}).status_code == 409
    assert make_contract(client, doctor, archive_id, team)["id"] == f"{archive_id}-002"


def test_a_closed_archives_contract_has_ended_and_is_terminated_with_its_reason(client, doctor, township,
                                                                                archive_id):
    team = make_team(client, township)
    contract = make_contract(client, doctor, archive_id, team)
    closed = client.post(f"/api/v1/archives/{archive_id}/close", headers=doctor,
                         json={"reason": "death", "date": today().isoformat()})
    assert closed.status_code == 200
    assert client.get(f"/api/v1/contracts/{contract['id']}", headers=doctor).get_json()["status"] == "ended"
    assert sign_contract(client, doctor, archive_id, team).status_code == 409
    ended = client.post(f"/api/v1/contracts/{contract['id']}/terminate", headers=doctor, json={"reason": "death"})
    assert ended.status_code == 200 and ended.get_json()["status"] == "terminated"


def test_the_renewal_list_shows_what_runs_out_soonest_first(client, db, doctor, township, people):
    team = make_team(client, township)
    soon = make_archive(client, doctor, n=1)
    later = make_archive(client, doctor, n=2)
    fresh = make_archive(client, doctor, n=3)
    neighbour = make_archive(client, people["staff"], n=4, village_code=NEIGHBOUR)
    for archive_id, days in ((soon, 350), (later, 340), (fresh, 10)):
        make_contract(client, doctor, archive_id, team, signed_on=(today() - timedelta(days=days)).isoformat())
    make_contract(client, township, neighbour, team, signed_on=(today() - timedelta(days=345)).isoformat())

    def days_left(days_ago):
        return (one_year_on(today() - timedelta(days=days_ago)) - today()).days

    due = client.get("/api/v1/contracts/due", headers=doctor).get_json()
    assert [(item["archive_id"], item["days_left"]) for item in due["items"]] == [
        (soon, days_left(350)), (later, days_left(340))]
    assert due["items"][0]["name"] == "李秀英1" and due["items"][0]["archive_status"] == "open"
    whole = client.get("/api/v1/contracts/due", query_string={"within": 60}, headers=township).get_json()
    assert [item["archive_id"] for item in whole["items"]] == [soon, neighbour, later]
    by_team = client.get("/api/v1/contracts/due", query_string={"team": team}, headers=doctor).get_json()
    assert by_team["total"] == 3
    assert client.get("/api/v1/contracts/due", query_string={"township": URBAN_TOWNSHIP},
                      headers=township).status_code == 403
    assert client.get("/api/v1/contracts/due", query_string={"village": NEIGHBOUR},
                      headers=doctor).status_code == 403
    entry = db.audit.find_one({"action": "contract.due", "actor": "village101"})
    assert entry["detail"] == {"total": 2, "shown": [soon, later]}


def test_a_term_is_a_year_less_a_day():
    assert term_from(date(2026, 3, 1)) == date(2027, 2, 28)
    assert term_from(date(2026, 1, 15)) == date(2027, 1, 14)
    assert term_from(date(2028, 2, 29)) == date(2029, 2, 28)
    assert term_from(date(2027, 3, 1)) == date(2028, 2, 29)


def test_a_step_whose_request_died_after_its_claim_is_finished_by_the_next_read(monkeypatch, client, db, doctor,
                                                                               township, archive_id):
    team = make_team(client, township)
    contract = make_contract(client, doctor, archive_id, team)
    applied = changes._apply

    def connection_lost(db, event):
        raise AutoReconnect("connection lost after the claim")

    monkeypatch.setattr(changes, "_apply", connection_lost)
    died = client.post(f"/api/v1/contracts/{contract['id']}/terminate", headers=doctor, json={
        "reason": "resident_request", "consent": {"given_by": "self", "method": "signature"}})
    assert died.status_code == 503
    monkeypatch.setattr(changes, "_apply", applied)
    assert db.contracts.find_one({"_id": contract["id"]}).get("terminated_on") is None

    read = client.get(f"/api/v1/contracts/{contract['id']}", headers=doctor).get_json()
    assert (read["status"], read["version"]) == ("terminated", 2)
    assert [entry["step"] for entry in db.consents.find({"contract_id": contract["id"]}).sort("at", 1)] == [
        "sign", "terminate"]


def test_an_inactive_team_renews_nothing_and_supervisors_name_the_township(client, doctor, township, people,
                                                                            archive_id):
    team = make_team(client, township)
    contract = make_contract(client, doctor, archive_id, team, signed_on=(today() - timedelta(days=300)).isoformat())
    read = client.get(f"/api/v1/teams/{team}", headers=township)
    assert client.patch(f"/api/v1/teams/{team}", headers=if_match(township, read),
                        json={"active": False}).status_code == 200
    renew = client.post(f"/api/v1/contracts/{contract['id']}/renew", headers=doctor, json={"consent": SIGNED})
    assert renew.status_code == 409 and "no longer active" in renew.get_json()["detail"]
    assert client.get("/api/v1/teams", headers=people["sup"]).status_code == 422
    listed = client.get("/api/v1/teams", query_string={"township": TOWNSHIP}, headers=people["sup"]).get_json()
    assert [(item["id"], item["active"]) for item in listed["items"]] == [(team, False)]
