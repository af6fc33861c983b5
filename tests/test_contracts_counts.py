"""The contracted share per village for the indicators (签约率), and an index for every
query the contracts domain sends."""

from datetime import timedelta

from healthrec.clock import today
from healthrec.contracts import service
from tests.factories import (
    COUNTY,
    NEIGHBOUR,
    SIGNED,
    TOWNSHIP,
    URBAN,
    VILLAGE,
    if_match,
    make_archive,
    make_contract,
    make_team,
    years_ago,
)
from tests.querycheck import unsupported, watched

COLLECTIONS = ("contracts", "teams", "contract_events", "consents", "archives")
NONE = {"elderly": 0, "child": 0, "maternal": 0, "hypertension": 0, "diabetes": 0, "severe_mental_disorder": 0,
        "tuberculosis": 0}


def figures(contracted, **populations):
    return {"contracted": contracted, "key_populations": {**NONE, **populations}}


def county_with_contracts(client, doctor, township, people):
    """Residents of three villages, with and without contracts in force; the rural team."""
    team = make_team(client, township)
    urban_team = make_team(client, people["town2"], members=(), township="411423001", lead="town2", name="城关一队")
    archives = {
        "elderly_hypertensive": make_archive(client, doctor, n=0, key_populations=["hypertension"]),
        "diabetic": make_archive(client, doctor, n=1, born=years_ago(60), key_populations=["diabetes"]),
        "child": make_archive(client, doctor, n=2, born=years_ago(3), sex="male",
                              guardian={"name": "王建国", "relation": "father"}),
        "terminated": make_archive(client, doctor, n=3, born=years_ago(40)),
        "died": make_archive(client, doctor, n=4, born=years_ago(40)),
        "without": make_archive(client, doctor, n=5, born=years_ago(40)),
        "neighbour": make_archive(client, people["staff"], n=6, born=years_ago(40), village_code=NEIGHBOUR),
        "urban": make_archive(client, people["town2"], n=7, born=years_ago(40), village_code=URBAN),
    }
    for name in ("elderly_hypertensive", "diabetic", "child", "died"):
        make_contract(client, doctor, archives[name], team)
    make_contract(client, township, archives["neighbour"], team)
    make_contract(client, people["town2"], archives["urban"], urban_team)
    ended = make_contract(client, doctor, archives["terminated"], team,
                          signed_on=(today() - timedelta(days=100)).isoformat())
    assert client.post(f"/api/v1/contracts/{ended['id']}/terminate", headers=doctor,
                       json={"reason": "moved_away"}).status_code == 200
    assert client.post(f"/api/v1/archives/{archives['died']}/close", headers=doctor,
                       json={"reason": "death", "date": today().isoformat()}).status_code == 200
    return team, archives


def test_contracted_residents_are_counted_per_village_with_key_populations(app, client, doctor, township, people):
    county_with_contracts(client, doctor, township, people)
    with app.app_context():
        county = service.contracted_by_village(COUNTY, today())
        rural = service.contracted_by_village(TOWNSHIP, today())
        one_village = service.contracted_by_village(NEIGHBOUR, today())
        before = service.contracted_by_village(TOWNSHIP, today() - timedelta(days=50))
        long_ago = service.contracted_by_village(COUNTY, today() - timedelta(days=200))
    assert county == {
        VILLAGE: figures(3, elderly=1, hypertension=1, diabetes=1, child=1),
        NEIGHBOUR: figures(1),
        URBAN: figures(1),
    }
    assert rural == {VILLAGE: county[VILLAGE], NEIGHBOUR: county[NEIGHBOUR]}
    assert one_village == {NEIGHBOUR: figures(1)}
    # Fifty days ago only the contract terminated since was in force.
    assert before == {VILLAGE: figures(1)}
    assert long_ago == {}


def test_every_contract_query_has_an_index(app, devdb, client, db, doctor, township, people):
    with watched(app, devdb) as listener:
        team, archives = county_with_contracts(client, doctor, township, people)
        read = client.get(f"/api/v1/teams/{team}", headers=township)
        assert client.patch(f"/api/v1/teams/{team}", headers=if_match(township, read),
                            json={"name": "柳河一队"}).status_code == 200
        assert client.get("/api/v1/teams", query_string={"active": True}, headers=township).status_code == 200
        contract = make_contract(client, doctor, archives["without"], team,
                                 signed_on=(today() - timedelta(days=300)).isoformat())
        assert client.post(f"/api/v1/contracts/{contract['id']}/renew", headers=doctor,
                           json={"consent": SIGNED}).status_code == 200
        assert client.get(f"/api/v1/contracts/{contract['id']}", headers=doctor).status_code == 200
        assert client.get(f"/api/v1/archives/{archives['without']}/contracts", headers=doctor).status_code == 200
        for query in ({}, {"team": team}, {"village": VILLAGE}):
            assert client.get("/api/v1/contracts/due", query_string=query, headers=doctor).status_code == 200
        assert client.get("/api/v1/contracts/due", headers=township).status_code == 200
        with app.app_context():
            for region in (COUNTY, TOWNSHIP, VILLAGE, "41"):
                service.contracted_by_village(region, today())
        assert len(list(listener.shapes(COLLECTIONS))) > 50
        assert unsupported(listener, COLLECTIONS) == []
