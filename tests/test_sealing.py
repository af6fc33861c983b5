"""What re-identifies a person is sealed: the doctor's key-population flags (matched by
keyed tokens) and the places of care a record names. A damaged sealed value costs one row
of a list, not the list; the key file must be private; a key ring is made without a
database; `flask keys reseal` seals what an earlier version stored in clear."""

import json
import logging
import os
import subprocess
import sys

import bson
import pytest

from healthrec import crypto
from healthrec.crypto import KeyRing, KeyRingError
from healthrec.db import get_db
from healthrec.keys import service as key_service
from tests.devdb import ROOT, free_port
from tests.factories import (
    PASSWORD,
    TOWNSHIP,
    VILLAGE,
    coverage,
    days_ago,
    hypertension,
    make_archive,
    make_contract,
    make_record,
    make_team,
    record_body,
    restarted,
    timeline,
    years_ago,
)
from tests.problems import assert_invalid

RARE = ["severe_mental_disorder", "tuberculosis"]
FLAG_NAMES = ["hypertension", "diabetes", "maternal", *RARE]
PLACES = {"hospital": "市结核病防治院", "department": "结核科", "consulted": "市精神卫生中心",
          "to_institution": "县精神病医院", "to_department": "精神科", "to_doctor": "孙立平",
          "followup_to": "县人民医院心内科", "contact": "周医生13700001111"}


def hospital_stay():
    return record_body("hospitalization", hospital=PLACES["hospital"], department=PLACES["department"])


def places_of_care(client, headers, archive_id):
    """A record of each kind that names where the resident was treated, and by whom."""
    make_record(client, headers, archive_id, hospital_stay())
    make_record(client, headers, archive_id, record_body(
        "consultation", consulted=[{"doctor": "王主任", "institution": PLACES["consulted"]}]))
    make_record(client, headers, archive_id, record_body(
        "referral", to_institution=PLACES["to_institution"], to_department=PLACES["to_department"],
        to_doctor=PLACES["to_doctor"], to_region=TOWNSHIP))
    make_record(client, headers, archive_id, hypertension(days_ago(2), referral={
        "reason": "血压控制不佳", "institution": PLACES["followup_to"], "department": "心内科",
        "contact": PLACES["contact"]}))


def raw(db, collection):
    return b"".join(bson.encode(doc) for doc in db[collection].find())


def test_flags_and_places_of_care_are_sealed_at_rest_and_shown_in_clear(client, db, doctor, township):
    rare = make_archive(client, doctor, 0, key_populations=RARE)
    also_tb = make_archive(client, doctor, 1, key_populations=["tuberculosis", "hypertension"])
    plain = make_archive(client, doctor, 2)
    places_of_care(client, doctor, also_tb)
    make_contract(client, doctor, rare, make_team(client, township))

    # Those allowed see everything as it was given.
    shown = client.get(f"/api/v1/archives/{rare}", headers=doctor).get_json()
    assert shown["key_populations"] == ["elderly", *RARE]
    records = json.dumps(timeline(client, doctor, also_tb), ensure_ascii=False)
    assert [place for place in PLACES.values() if place not in records] == []
    incoming = client.get("/api/v1/referrals/incoming", headers=township).get_json()["items"]
    assert [(item["to_institution"], item["to_department"], item["to_doctor"]) for item in incoming] == [
        (PLACES["to_institution"], PLACES["to_department"], PLACES["to_doctor"])]
    contract = client.get(f"/api/v1/archives/{rare}/contracts", headers=doctor)
    assert contract.status_code == 200

    # At rest: no flag on an archive or a contract, no place of care anywhere.
    for collection in ("archives", "contracts", "contract_events"):
        stored = raw(db, collection)
        assert [flag for flag in FLAG_NAMES if flag.encode() in stored] == [], collection
    for collection in db.list_collection_names():
        stored = raw(db, collection)
        assert [place for place in PLACES.values() if place.encode() in stored] == [], collection
    # Each archive carries a token per flag a doctor may set, set or not, and no token
    # repeats: two tuberculosis patients share nothing a reader of the database can see.
    tokens = {doc["_id"]: doc["key_population_bi"] for doc in db.archives.find()}
    assert {len(found) for found in tokens.values()} == {5}
    every = [token for found in tokens.values() for token in found]
    assert len(set(every)) == len(every) == 15
    assert set(tokens) == {rare, also_tb, plain}


def test_the_list_filters_by_key_population(client, db, doctor, township):
    tb = make_archive(client, doctor, 0, born=years_ago(40), key_populations=["tuberculosis"])
    both = make_archive(client, doctor, 1, born=years_ago(70), key_populations=["tuberculosis", "hypertension"])
    elderly = make_archive(client, doctor, 2, born=years_ago(66))
    child = make_archive(client, doctor, 3, born=years_ago(2))
    closed = make_archive(client, doctor, 4, born=years_ago(50), key_populations=["hypertension"])
    closing = {"reason": "other", "date": years_ago(0).isoformat(), "note": "重复建档"}
    assert client.post(f"/api/v1/archives/{closed}/close", headers=doctor, json=closing).status_code == 200

    def listed(**query):
        response = client.get("/api/v1/archives", query_string=query, headers=township)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["total"] == len(body["items"])
        return [item["id"] for item in body["items"]]

    assert listed(key_population="tuberculosis") == [tb, both]
    assert listed(key_population="hypertension") == [both, closed]
    assert listed(key_population="hypertension", status="open") == [both]
    assert listed(key_population="elderly") == [both, elderly]
    assert listed(key_population="child") == [child]
    assert listed(key_population="diabetes") == []
    # The search's audit entry names the filter, never the population asked for.
    entry = db.audit.find_one({"action": "archive.search", "detail.filters": "key_population"})
    assert "tuberculosis" not in str(entry) and "hypertension" not in str(entry)

    searches = db.audit.count_documents({"action": "archive.search"})
    refused = client.get("/api/v1/archives", query_string={"key_population": "smoker"}, headers=township)
    assert_invalid(refused, key_population="Must be one of")
    assert db.audit.count_documents({"action": "archive.search"}) == searches


def test_indicators_count_the_chronic_patients_from_their_tokens(client, doctor, login):
    make_archive(client, doctor, 0, key_populations=["hypertension"])
    make_archive(client, doctor, 1, key_populations=["hypertension", "diabetes"])
    make_archive(client, doctor, 2, key_populations=["severe_mental_disorder"])
    supervisor = login("supervisor", VILLAGE[:6])
    table = coverage(client, supervisor, region=VILLAGE)
    assert (table["archived"], table["hypertension"]["archived"], table["diabetes"]["archived"]) == (3, 2, 1)


def test_rotation_reseals_the_flags_and_places_of_care(app, client, db, doctor, township, keys):
    patient = make_archive(client, doctor, key_populations=RARE)
    make_record(client, doctor, patient, hospital_stay())
    contract = make_contract(client, doctor, patient, make_team(client, township))
    before = client.get(f"/api/v1/archives/{patient}", headers=doctor).get_json()

    ring, _ = crypto.add_key(keys)
    rotated = restarted(app, KEYS=ring)
    with rotated.app_context():
        result = key_service.rotate(get_db(), crypto.keyring())
    assert result["remaining"] == 0

    stay = db.records.find_one({"archive_id": patient, "kind": "hospitalization"})
    assert (stay["hospital"]["k"], stay["department"]["k"]) == ("k2", "k2")
    assert db.archives.find_one({"_id": patient})["key_populations"]["k"] == "k2"
    assert db.contracts.find_one({"_id": contract["id"]})["key_populations"]["k"] == "k2"
    # A service holding only the new key reads them as before.
    only_new = json.loads(ring)
    only_new["keys"] = {"k2": only_new["keys"]["k2"]}
    reader = restarted(app, KEYS=json.dumps(only_new)).test_client()
    assert reader.get(f"/api/v1/archives/{patient}", headers=doctor).get_json() == before
    assert PLACES["hospital"] in json.dumps(timeline(reader, doctor, patient), ensure_ascii=False)


def test_a_damaged_value_makes_one_unreadable_row_logged_and_audited(app, client, db, doctor, caplog):
    ids = [make_archive(client, doctor, n) for n in range(3)]
    damaged = db.archives.find_one({"_id": ids[1]})["name"]
    altered = bytes([damaged["c"][0] ^ 1]) + bytes(damaged["c"][1:])
    db.archives.update_one({"_id": ids[1]}, {"$set": {"name.c": altered}})

    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/archives", query_string={"village": VILLAGE}, headers=doctor)

    assert response.status_code == 200, response.get_json()
    items = response.get_json()["items"]
    assert [item["id"] for item in items] == ids
    assert [item.get("unreadable", False) for item in items] == [False, True, False]
    assert "name" not in items[1] and items[0]["name"] == "李秀英" and items[2]["name"] == "李秀英2"
    entry = db.audit.find_one({"action": "seal.damaged"})
    assert (entry["archive_id"], entry["outcome"], entry["detail"]) == (ids[1], "error", {"field": "name", "key": "k1"})
    assert f"name of {ids[1]} does not decrypt with key 'k1'" in caplog.text
    # The due list goes on too, and the doctor's start page says which archive it is.
    assert client.get("/api/v1/followups/due", query_string={"village": VILLAGE}, headers=doctor).status_code == 200
    web = app.test_client()
    assert web.post("/login", data={"username": "village101", "password": PASSWORD}).status_code == 302
    home = web.get("/").get_data(as_text=True)
    assert f"{ids[1]} <span class=\"tag alert\">无法读取：数据已损坏，请告知管理员</span>" in home
    assert "李秀英2" in home


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_key_file_others_can_read_is_refused(app, keys, tmp_path, mode):
    path = tmp_path / "keys.json"
    path.write_text(keys)
    path.chmod(mode)
    with pytest.raises(KeyRingError) as refused:
        restarted(app, KEYS=None, KEY_FILE=str(path))
    assert f"chmod 600 {path}" in str(refused.value)
    path.chmod(0o600)
    assert restarted(app, KEYS=None, KEY_FILE=str(path)).extensions["healthrec.keys"].active == "k1"


def test_keys_generate_needs_no_database_and_other_commands_say_it_is_missing():
    env = dict(os.environ, MONGO_URI=f"mongodb://127.0.0.1:{free_port()}/", HEALTHREC_ENV="testing",
               HEALTHREC_SECRET_KEY="test-secret", HEALTHREC_KEYS=crypto.generate())
    env.pop("HEALTHREC_KEY_FILE", None)

    def flask(*args):
        # The timeout only guards the suite: both end by themselves.
        return subprocess.run([sys.executable, "-m", "flask", "--app", "app", "keys", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    made = flask("generate")
    assert made.returncode == 0, made.stderr
    assert KeyRing.from_json(made.stdout).active == "k1"
    status = flask("status")
    assert status.returncode == 1
    assert "healthrec cannot start: cannot check the encryption keys: the database does not answer" in status.stderr
    assert "Traceback" not in status.stderr


def test_reseal_seals_what_an_older_version_stored_in_clear(app, client, db, runner, doctor, township, login):
    patient = make_archive(client, doctor, key_populations=["hypertension", "tuberculosis"])
    make_record(client, doctor, patient, hospital_stay())
    contract = make_contract(client, doctor, patient, make_team(client, township))
    supervisor = login("supervisor", VILLAGE[:6])
    before = (client.get(f"/api/v1/archives/{patient}", headers=doctor).get_json(), timeline(client, doctor, patient),
              client.get(f"/api/v1/contracts/{contract['id']}", headers=doctor).get_json(),
              coverage(client, supervisor, region=VILLAGE))
    # As the previous version stored them: flags and the hospital in clear, no tokens.
    flags = ["hypertension", "tuberculosis"]
    db.archives.update_one({"_id": patient}, {"$set": {"key_populations": flags}, "$unset": {"key_population_bi": ""}})
    db.contracts.update_one({"_id": contract["id"]}, {"$set": {"key_populations": flags}})
    db.contract_events.update_one({"_id": f"{contract['id']}:1"}, {"$set": {"changes.key_populations": flags},
                                                                    "$unset": {"secrets.key_populations": ""}})
    db.records.update_one({"archive_id": patient, "kind": "hospitalization"},
                          {"$set": {"hospital": PLACES["hospital"], "department": PLACES["department"]}})

    done = runner.invoke(args=["keys", "reseal"])

    assert done.exit_code == 0, done.output
    assert "Sealed values stored in clear: archives 1, contract_events 1, contracts 1, records 1." in done.output
    for collection in ("archives", "contracts", "contract_events", "records"):
        stored = raw(db, collection)
        assert [flag for flag in ("tuberculosis", PLACES["hospital"]) if flag.encode() in stored] == [], collection
    after = (client.get(f"/api/v1/archives/{patient}", headers=doctor).get_json(), timeline(client, doctor, patient),
             client.get(f"/api/v1/contracts/{contract['id']}", headers=doctor).get_json(),
             coverage(client, supervisor, region=VILLAGE))
    assert after == before
    assert after[3]["hypertension"]["archived"] == 1
    again = runner.invoke(args=["keys", "reseal"])
    assert "Sealed values stored in clear: none were left." in again.output
    assert db.audit.count_documents({"action": "keys.reseal"}) == 2
