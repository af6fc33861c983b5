"""Service probes, the error format and the API documentation."""

import pytest


def test_healthz_answers_without_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_and_api_follow_the_database(client, devdb):
    assert client.get("/readyz").status_code == 200
    if devdb.external:
        pytest.skip("the server named by MONGO_URI is not ours to stop")
    devdb.stop()
    try:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
        assert response.headers["Retry-After"] == "5"
        login = client.post("/api/v1/auth/token", json={"username": "a", "password": "b"})
        assert login.status_code == 503
        assert "Try again" in login.get_json()["detail"]
        assert client.get("/healthz").status_code == 200
    finally:
        devdb.start()
    assert client.get("/readyz").status_code == 200


def test_unknown_api_route_is_problem_json(client):
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert (body["status"], body["title"]) == (404, "Not Found")
    assert "requested URL was not found" in body["detail"]


def test_wrong_method_keeps_allow_header(client, login):
    headers = login("admin", "411423")
    response = client.delete("/api/v1/regions/411423", headers=headers)
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.mimetype == "application/problem+json"


def test_openapi_document_lists_the_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.get_json()["paths"]
    assert "/api/v1/auth/token" in paths
    assert "/api/v1/regions/{code}" in paths


def test_docs_page_uses_local_assets(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/api/docs/assets/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    asset = client.get("/api/docs/assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.data) > 100_000


def test_a_page_beyond_any_list_is_a_clear_422(client, doctor):
    response = client.get("/api/v1/archives?page=100000000000000000000", headers=doctor)
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"page": ["Must be between 1 and 10000."]}


def test_the_openapi_document_describes_every_record_form(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    schemas = spec["components"]["schemas"]
    body = spec["paths"]["/api/v1/archives/{archive_id}/records"]["post"]["requestBody"]["content"]
    form = schemas[body["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert form["discriminator"]["propertyName"] == "kind"
    kinds = set(form["discriminator"]["mapping"])
    assert kinds == {"checkup", "encounter", "followup", "referral", "consultation", "hospitalization"}
    followup = schemas[form["discriminator"]["mapping"]["followup"].rsplit("/", 1)[1]]
    assert followup["discriminator"]["propertyName"] == "population"
    assert {"hypertension", "diabetes", "child", "maternal", "elderly"} <= set(followup["discriminator"]["mapping"])
    answer = spec["paths"]["/api/v1/archives/{archive_id}/records/{record_id}"]["get"]["responses"]["200"]
    answered = schemas[answer["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
    assert set(answered["discriminator"]["mapping"]) == kinds
