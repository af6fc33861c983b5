"""Scope on every archive endpoint: each role, inside and outside its region. A refusal is
a problem that says what to do instead, changes nothing and is audited: 404 for an
archive the user may not read, the answer a missing archive gets, so that trying codes
tells nothing; 403 for what they may not do with an archive they may read, or a region."""


import pytest

from healthrec.clock import today
from tests.factories import COUNTY, NEIGHBOUR, TOWNSHIP, URBAN_TOWNSHIP, VILLAGE, resident

ACTORS = {
    # name: (role, region) - "in" reaches VILLAGE, "out" does not
    "doctor_in": ("village_doctor", VILLAGE),
    "doctor_out": ("village_doctor", NEIGHBOUR),
    "township_in": ("township_staff", TOWNSHIP),
    "township_out": ("township_staff", URBAN_TOWNSHIP),
    "supervisor": ("supervisor", COUNTY),
    "admin": ("admin", COUNTY),
}


def call(client, endpoint, archive_id, headers):
    """Make the call of `endpoint` on the archive (or its village)."""
    url = f"/api/v1/archives/{archive_id}"
    if endpoint == "create":
        return client.post("/api/v1/archives", json=resident(1), headers=headers)
    if endpoint == "get":
        return client.get(url, headers=headers)
    if endpoint == "patch":
        return client.patch(url, json={"allergies": ["花粉"]}, headers={**headers, "If-Match": f'"{archive_id}.1"'})
    if endpoint == "list":
        return client.get("/api/v1/archives", query_string={"village": VILLAGE}, headers=headers)
    if endpoint == "search":
        return client.post("/api/v1/archives/search", json={"village": VILLAGE}, headers=headers)
    if endpoint == "close":
        return client.post(f"{url}/close", json={"reason": "death", "date": today().isoformat()},
                           headers=headers)
    if endpoint == "review":
        return client.post(f"{url}/review", json={"verdict": "qualified"}, headers=headers)
    raise AssertionError(endpoint)


ENDPOINTS = ("create", "get", "patch", "list", "search", "close", "review")
ALLOWED = {
    "doctor_in": {"create": 201, "get": 200, "patch": 200, "list": 200, "search": 200, "close": 200},
    "township_in": {"create": 201, "get": 200, "patch": 200, "list": 200, "search": 200, "close": 200,
                    "review": 200},
}
ONE_ARCHIVE = ("get", "patch", "close", "review")


def refusal(actor, endpoint):
    return 404 if endpoint in ONE_ARCHIVE and actor not in ALLOWED else 403


CASES = [(actor, endpoint, ALLOWED.get(actor, {}).get(endpoint, refusal(actor, endpoint)))
         for actor in ACTORS for endpoint in ENDPOINTS]


@pytest.mark.parametrize("actor, endpoint, expected", CASES, ids=[f"{a}-{e}" for a, e, _ in CASES])
def test_scope_matrix(client, db, login, archive_id, actor, endpoint, expected):
    role, region = ACTORS[actor]
    headers = login(role, region, username=actor.replace("_", "."))
    before = db.archives.find_one({"_id": archive_id})
    response = call(client, endpoint, archive_id, headers)
    assert response.status_code == expected, response.get_json()
    entries = list(db.audit.find({"actor": actor.replace("_", "."), "action": {"$regex": "^archive"}}))
    assert len(entries) == 1, entries
    if expected not in (403, 404):
        assert entries[0]["outcome"] == "ok"
        return
    assert response.mimetype == "application/problem+json"
    detail = response.get_json()["detail"]
    assert entries[0]["outcome"] == "denied"
    assert entries[0]["region"] == VILLAGE
    if expected == 404:
        assert detail.startswith(f"No archive {archive_id} that you may use.") and "access request" in detail
    elif role == "supervisor" or (actor.endswith("_out") and endpoint not in ("create", "review")):
        assert "access request" in detail
    elif role == "admin":
        assert "do not see resident archives" in detail
    elif endpoint == "review":
        assert "township" in detail
    else:
        assert "your region" in detail
    assert db.archives.find_one({"_id": archive_id}) == before
    assert db.archives.count_documents({}) == 1


@pytest.mark.parametrize("actor", ["doctor_out", "township_out"])
def test_a_search_without_a_village_shows_only_your_own_region(client, login, archive_id, actor):
    role, region = ACTORS[actor]
    headers = login(role, region, username=actor.replace("_", "."))
    found = client.post("/api/v1/archives/search", json={"name": "李秀英"}, headers=headers)
    assert found.status_code == 200
    assert found.get_json()["total"] == 0


def test_a_supervisor_cannot_search_at_all(client, login, archive_id):
    headers = login("supervisor", COUNTY)
    response = client.get("/api/v1/archives", headers=headers)
    assert response.status_code == 403
    assert "access request" in response.get_json()["detail"]


def test_the_conflict_of_a_second_archive_reveals_nothing_out_of_scope(client, db, login, archive_id):
    headers = login("village_doctor", NEIGHBOUR)
    response = client.post("/api/v1/archives", json=resident(0, village_code=NEIGHBOUR), headers=headers)
    assert response.status_code == 409
    assert archive_id not in response.get_data(as_text=True)
    assert "李秀英" not in response.get_data(as_text=True)
