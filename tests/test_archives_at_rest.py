"""Nothing identifying is stored or logged in clear: after a day's work on archives with
known names, ID cards, phones and addresses, no document of any collection and no log
line holds any of them."""

import logging
from datetime import date

import bson

from healthrec.clock import today
from healthrec.ids import fake_id_card
from tests.factories import VILLAGE

RESIDENTS: list[dict] = [
    {"name": "欧阳明月", "sex": "female", "birth_date": "1948-02-29", "phone": "13655554444",
     "address": "柳河村七组二十一号", "allergies": ["磺胺类"],
     "family_history": [{"relation": "mother", "condition": "食管癌"}],
     "past_history": {"surgeries": [{"name": "阑尾切除术", "date": "1990"}]}},
    {"name": "买买提·艾力", "sex": "male", "birth_date": "1979-11-05", "phone": "0370-7788990",
     "address": "前营村新村路九十九号", "allergies": [], "family_history": [], "past_history": {}},
]
CHILD: dict = {"name": "司马小龙", "sex": "male", "birth_date": today().replace(day=1).isoformat(),
         "guardian": {"name": "司马大海", "relation": "father", "phone": "18912340000"},
         "address": "柳河村桥头巷三号", "allergies": [], "family_history": [], "past_history": {}}
NOTES = {"review": "请核实欧阳家电话", "close": "迁往郑州市金水区"}


def secrets_of(bodies):
    values = set(NOTES.values())
    for body in bodies:
        for key in ("name", "phone", "address", "id_card"):
            if body.get(key):
                values.add(body[key])
        if body.get("guardian"):
            values.update(v for k, v in body["guardian"].items() if k != "relation")
        values.update(body.get("allergies", []))
        values.update(item["condition"] for item in body.get("family_history", []))
        values.update(item["name"] for items in body.get("past_history", {}).values() for item in items)
    return values


def test_no_collection_and_no_log_holds_a_known_value(client, db, doctor, township, caplog):
    caplog.set_level(logging.DEBUG)  # every logger, the database driver's commands included
    bodies = []
    for body in RESIDENTS:
        born = date.fromisoformat(body["birth_date"])
        bodies.append({**body, "village_code": VILLAGE, "id_card": fake_id_card(None, born, body["sex"])})
    bodies.append({**CHILD, "village_code": VILLAGE})
    ids = []
    for body in bodies:
        response = client.post("/api/v1/archives", json=body, headers=doctor)
        assert response.status_code == 201, response.get_json()
        ids.append(response.get_json()["id"])

    # A working day: reads, searches by name and card, a change, a review, a closing,
    # and a refused second registration.
    first = client.get(f"/api/v1/archives/{ids[0]}", headers=doctor)
    client.get("/api/v1/archives", query_string={"name": "欧阳明月"}, headers=doctor)
    client.get("/api/v1/archives", query_string={"id_card": bodies[1]["id_card"]}, headers=township)
    client.post("/api/v1/archives/search", json={"name": "买买提·艾力"}, headers=township)
    changed = client.patch(f"/api/v1/archives/{ids[0]}", json={"phone": "13655554445"},
                           headers={**doctor, "If-Match": first.headers["ETag"]})
    assert changed.status_code == 200
    bodies.append({"phone": "13655554445"})
    client.post(f"/api/v1/archives/{ids[0]}/review",
                json={"verdict": "needs_correction", "note": NOTES["review"]}, headers=township)
    client.post(f"/api/v1/archives/{ids[1]}/close",
                json={"reason": "moved_away", "date": today().isoformat(), "note": NOTES["close"]},
                headers=doctor)
    assert client.post("/api/v1/archives", json=bodies[0], headers=doctor).status_code == 409
    # The service answers in clear to those allowed: the values are really in play.
    assert client.get(f"/api/v1/archives/{ids[0]}", headers=doctor).get_json()["review"]["note"] == NOTES["review"]

    secrets = secrets_of(bodies)
    stored = 0
    for name in db.list_collection_names():
        for doc in db[name].find():
            raw = bson.encode(doc)
            stored += 1
            for value in secrets:
                assert value.encode() not in raw, f"{value!r} in clear in {name}: {doc['_id']}"
                assert value not in str(doc), f"{value!r} in clear in {name}: {doc['_id']}"
    assert stored > 20
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    # The driver's commands, documents and all, were captured: the search below means something.
    assert '"commandName": "insert"' in logged and all(archive_id in logged for archive_id in ids)
    for value in secrets:
        assert value not in logged, f"{value!r} in the log"
