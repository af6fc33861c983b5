"""Every endpoint that takes an archive code accepts the site's layout, 16 digits (the
provincial plan) or 17 (the national layout, HEALTHREC_ARCHIVE_SERIAL_DIGITS=5), and
refuses the other with a 422 that says what a code looks like."""

import random
from datetime import date

import pytest

from healthrec.ids import fake_id_card

VILLAGE, TOWNSHIP = "411423101101", "411423101"
LAYOUTS = [{"ARCHIVE_SERIAL_DIGITS": 4}, {"ARCHIVE_SERIAL_DIGITS": 5}]


def body(n):
    born = date(1960, 3, 1 + n)
    return {"village_code": VILLAGE, "name": f"王芳{n}", "sex": "female", "birth_date": born.isoformat(),
            "id_card": fake_id_card(random.Random(n), born, "female"), "phone": "13912345678",
            "address": "柳河村1组2号"}


FOLLOWUP = {"kind": "followup", "population": "hypertension", "date": "2025-03-01",
            "blood_pressure": {"systolic": 132, "diastolic": 84}, "adherence": "regular",
            "control": "satisfactory"}


@pytest.fixture
def people(login):
    return {"doctor": login("village_doctor", VILLAGE), "township": login("township_staff", TOWNSHIP),
            "outsider": login("village_doctor", "411423101102", "outsider"),
            "supervisor": login("supervisor", "411423")}


def uses(code, other):
    """(method, path, json) of every use of an archive code, ending with the close that
    names `other` as the archive kept."""
    return [
        ("get", f"/api/v1/archives/{code}", None),
        ("get", f"/api/v1/archives/{code}/records", None),
        ("post", f"/api/v1/archives/{code}/records", FOLLOWUP),
        ("post", f"/api/v1/archives/{code}/records/batch", {"records": [FOLLOWUP]}),
        ("get", f"/api/v1/archives/{code}/consents", None),
        ("post", f"/api/v1/archives/{code}/consents", {"decision": "granted", "given_by": "self",
                                                       "method": "signature"}),
        ("post", f"/api/v1/archives/{code}/review", {"verdict": "needs_correction", "note": "补充过敏史"}),
        ("post", f"/api/v1/archives/{code}/close", {"reason": "duplicate", "date": "2025-03-02",
                                                    "duplicate_of": other}),
    ]


@pytest.mark.parametrize("app", LAYOUTS, indirect=True, ids=["16-digit", "17-digit"])
def test_every_endpoint_takes_the_sites_layout_and_refuses_the_other(app, client, people):
    digits = 12 + app.config["ARCHIVE_SERIAL_DIGITS"]
    first, second = (client.post("/api/v1/archives", json=body(n), headers=people["doctor"]).get_json()["id"]
                     for n in (1, 2))
    assert len(first) == len(second) == digits
    wrong = VILLAGE + ("00001" if digits == 16 else "0001")

    for method, path, json in uses(wrong, first):
        response = getattr(client, method)(path, json=json, headers=people["township"])
        assert response.status_code == 422, (path, response.get_json())
        assert f"{digits} digits" in response.get_json()["detail"], path
    for method, path, json in uses(first, second):
        response = getattr(client, method)(path, json=json, headers=people["township"])
        assert response.status_code in (200, 201), (path, response.get_json())

    record = client.post(f"/api/v1/archives/{second}/records", json=FOLLOWUP, headers=people["doctor"]).get_json()
    read = client.get(f"/api/v1/archives/{second}/records/{record['id']}", headers=people["doctor"])
    assert read.status_code == 200
    amended = client.post(f"/api/v1/archives/{second}/records/{record['id']}/amend",
                          headers={**people["doctor"], "If-Match": read.headers["ETag"]},
                          json={"changes": {"heart_rate": 72}, "reason": "补录心率"})
    assert amended.status_code == 200, amended.get_json()
    referral = client.post(f"/api/v1/archives/{second}/records", headers=people["doctor"], json={
        "kind": "referral", "date": "2025-03-03", "direction": "up", "from_institution": "柳河村卫生室",
        "to_institution": "柳河镇卫生院", "to_region": TOWNSHIP, "reason": "血压控制不佳"}).get_json()
    received = client.post(f"/api/v1/archives/{second}/records/{referral['id']}/receive", headers=people["township"])
    assert received.status_code == 200, received.get_json()
    opened = client.post(f"/api/v1/archives/{second}/break-glass", headers=people["outsider"],
                         json={"reason": "外出务工突发胸痛就诊"})
    assert opened.status_code == 201, opened.get_json()

    for code, ok in ((second, 201), (wrong, 422)):
        response = client.post("/api/v1/access-requests", headers=people["supervisor"], json={
            "archive_id": code, "purpose": "慢病管理质量抽查", "application": "抽查随访记录", "days": 3})
        assert response.status_code == ok, response.get_json()
    for code, ok in ((second, 200), (wrong, 422)):
        assert client.get(f"/api/v1/audit?archive_id={code}", headers=people["township"]).status_code == ok
        assert client.get(f"/api/v1/archives/{code}/disclosures", headers=people["township"]).status_code == ok
