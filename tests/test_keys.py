"""Key rings, the start-up key check, rotation and status, on the real dev database."""

import json
import os
import stat
import subprocess
import sys
import uuid
from collections import Counter

import pytest

from healthrec import create_app, crypto
from healthrec.crypto import KeyRing, KeyRingError
from healthrec.db import client_for
from healthrec.keys import service
from tests.devdb import ROOT, free_port
from tests.factories import (
    GUARDIAN_VERBAL,
    amend,
    check,
    checkup,
    days_ago,
    draw_sample,
    file_request,
    make_archive,
    make_contract,
    make_record,
    make_team,
    receive,
    record_body,
    resident,
    restarted,
    step,
)

SAMPLES = "sealed_samples"
NAMES = ["王秀英", "李建国", "张桂兰", "刘志强", "陈美华"]
IDS = [f"41142310110100{number:02d}" for number in range(1, len(NAMES) + 1)]
VALUES_PER_RESIDENT = 5


@pytest.fixture
def samples(monkeypatch):
    # Archives and records are built elsewhere; a collection of our own, declared like
    # theirs, holds residents sealed the way they seal them (nested and in lists).
    monkeypatch.setattr(service, "ENCRYPTED_COLLECTIONS", (*service.ENCRYPTED_COLLECTIONS, SAMPLES))


def sealed_resident(ring, doc_id, name):
    def seal(value, field):
        return ring.seal(value, doc_id, field)

    return {
        "_id": doc_id,
        "sex": "2",
        "name": seal(name, "name"),
        "phone": seal("138" + doc_id[-8:], "phone"),
        "guardian": {"relation": "父亲", "name": seal(name + "的父亲", "guardian.name")},
        "allergies": [seal("青霉素", "allergies.0"), seal("磺胺类", "allergies.1")],
    }


def seal_residents(db, ring):
    db[SAMPLES].insert_many([sealed_resident(ring, doc_id, name) for doc_id, name in zip(IDS, NAMES, strict=True)])


def plaintexts():
    return NAMES + ["138" + doc_id[-8:] for doc_id in IDS] + ["青霉素", "磺胺类"]


def opened(db, ring):
    """Every sealed value of the residents, decrypted: {id: {path: value}}."""
    return {
        doc["_id"]: {path: ring.unseal(sealed, doc["_id"], path) for path, sealed in service.sealed_values(doc)}
        for doc in db[SAMPLES].find()
    }


def key_ids(db, doc_ids=IDS):
    return Counter(sealed["k"] for doc in db[SAMPLES].find({"_id": {"$in": doc_ids}})
                   for _path, sealed in service.sealed_values(doc))


def start(app, ring_text):
    """Another service process on the same database, with the key ring `ring_text`."""
    return create_app({
        "ENV": "testing", "SECRET_KEY": "test-secret", "MONGO_URI": app.config["MONGO_URI"],
        "DB_NAME": app.config["DB_NAME"], "KEYS": ring_text, "KEY_FILE": None,
    })


def invoke(app, *args):
    # Inside the app's own context: the `db` fixture holds the first app's context open.
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args))


def changed(ring_text, **changes):
    ring = json.loads(ring_text)
    ring.update(changes)
    return json.dumps(ring)


def only_active(ring_text):
    ring = json.loads(ring_text)
    return changed(ring_text, keys={ring["active"]: ring["keys"][ring["active"]]})


def new_key():
    return json.loads(crypto.generate())["index_key"]


def assert_nothing_decrypted(*texts):
    for text in texts:
        for value in plaintexts():
            assert value not in text


# --- generate -------------------------------------------------------------------------

def test_generate_prints_a_new_working_ring(runner):
    first = runner.invoke(args=["keys", "generate"])
    second = runner.invoke(args=["keys", "generate"])
    assert first.exit_code == 0
    ring = KeyRing.from_json(first.output)
    assert ring.active == "k1"
    assert ring.unseal(ring.seal("王秀英", IDS[0], "name"), IDS[0], "name") == "王秀英"
    assert first.output != second.output


def test_generate_add_to_makes_a_new_active_key_and_keeps_the_old(runner, keys, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text(keys)
    old = KeyRing.from_json(keys)
    sealed = old.seal("王秀英", IDS[0], "name")

    result = runner.invoke(args=["keys", "generate", "--add-to", str(path)])

    assert result.exit_code == 0, result.output
    assert "Added key k2" in result.output and "flask keys rotate" in result.output
    ring = KeyRing.from_json(path.read_text())
    assert ring.active == "k2" and set(ring.keys) == {"k1", "k2"}
    assert ring.unseal(sealed, IDS[0], "name") == "王秀英"
    assert ring.blind_index("410101199001011234") == old.blind_index("410101199001011234")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    for secret in [*stored["keys"].values(), stored["index_key"]]:
        assert secret not in result.output
    assert [p.name for p in tmp_path.iterdir()] == ["keys.json"]


def test_generate_add_to_standard_input_prints_the_new_ring(runner, keys):
    result = runner.invoke(args=["keys", "generate", "--add-to", "-"], input=keys)
    assert result.exit_code == 0
    ring = KeyRing.from_json(result.stdout)
    assert ring.active == "k2" and set(ring.keys) == {"k1", "k2"}


def test_generate_add_to_refuses_a_malformed_ring_and_leaves_it(runner, tmp_path):
    path = tmp_path / "keys.json"
    path.write_text('{"active": "k1", "keys": {}}')
    result = runner.invoke(args=["keys", "generate", "--add-to", str(path)])
    assert result.exit_code == 1
    assert "malformed" in result.output and "flask keys generate" in result.output
    assert path.read_text() == '{"active": "k1", "keys": {}}'


# --- start-up check -------------------------------------------------------------------

def test_start_without_keys_on_encrypted_data_names_the_key(app, db, keys):
    seal_residents(db, KeyRing.from_json(keys))
    with pytest.raises(KeyRingError) as refused:
        start(app, None)
    message = str(refused.value)
    assert "no encryption keys are configured" in message
    assert "key 'k1'" in message and "HEALTHREC_KEYS" in message


def test_start_with_a_ring_missing_the_key_names_it_and_writes_nothing(app, db, keys):
    without_k1 = changed(keys, active="k2", keys={"k2": new_key()})
    with pytest.raises(KeyRingError, match="key 'k1' is missing from the key ring"):
        start(app, without_k1)
    assert db.keyring.find_one({"_id": "key:k2"}) is None


@pytest.mark.parametrize(("change", "named"), [
    ("data key", "key 'k1' in the key ring is not the key 'k1' this database was sealed with"),
    ("index key", "the index_key in the key ring is not the one"),
])
def test_start_with_a_wrong_key_refuses_naming_it(app, keys, change, named):
    ring = json.loads(keys)
    wrong = changed(keys, keys={"k1": new_key()}) if change == "data key" else changed(keys, index_key=new_key())
    with pytest.raises(KeyRingError) as refused:
        start(app, wrong)
    assert named in str(refused.value)
    assert ring["keys"]["k1"] not in str(refused.value)


def test_fresh_database_starts_without_keys_and_commands_say_what_is_missing(devdb):
    name = "test_" + uuid.uuid4().hex[:12]
    app = create_app({"ENV": "testing", "SECRET_KEY": "test-secret", "MONGO_URI": devdb.uri, "DB_NAME": name,
                      "KEYS": None, "KEY_FILE": None})
    try:
        result = app.test_cli_runner().invoke(args=["keys", "status"])
        assert result.exit_code == 1
        assert "no encryption keys: set HEALTHREC_KEYS or HEALTHREC_KEY_FILE" in result.output
        assert "keyring" not in client_for(devdb.uri)[name].list_collection_names()
    finally:
        client_for(devdb.uri).drop_database(name)


def test_start_without_a_database_refuses_clearly():
    with pytest.raises(service.DatabaseUnavailable, match="database does not answer.*check MONGO_URI"):
        create_app({"ENV": "testing", "SECRET_KEY": "test-secret",
                    "MONGO_URI": f"mongodb://127.0.0.1:{free_port()}/", "KEYS": crypto.generate()})


def test_flask_and_gunicorn_print_the_reason_not_a_traceback(app, keys):
    env = dict(os.environ, MONGO_URI=app.config["MONGO_URI"], HEALTHREC_DB_NAME=app.config["DB_NAME"],
               HEALTHREC_ENV="testing", HEALTHREC_SECRET_KEY="test-secret",
               HEALTHREC_KEYS=changed(keys, keys={"k1": new_key()}))
    env.pop("HEALTHREC_KEY_FILE", None)
    commands = {
        "flask": [sys.executable, "-m", "flask", "--app", "app", "keys", "status"],
        "gunicorn": [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", "127.0.0.1:0", "app:app"],
    }
    for command in commands.values():
        # The timeout only guards the suite: both stop by themselves.
        run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert run.returncode != 0
        assert "healthrec cannot start: key 'k1' in the key ring is not the key 'k1'" in run.stderr
        assert "Traceback" not in run.stderr


# --- rotation and status --------------------------------------------------------------

# Every collection the service seals values in.
ENCRYPTED = ("archives", "records", "access_requests", "access_events", "break_glass", "consents",
             "contracts", "contract_events", "urgent", "sample_results")
GUARDIAN_AT_ENROLMENT = {"given_by": "guardian", "guardian_name": "周秀兰", "relation": "女儿",
                         "method": "verbal_witnessed", "witness": "吴建华"}
NOTES = {"review": "请补充过敏史来源", "close": "迁往郑州市金水区", "amend": "体重录入错误",
         "approve": "同意,限慢病随访记录", "reject": "申请单位未盖章", "glass": "车祸昏迷,急查过敏史",
         "acknowledge": "已电话核实,属实", "terminate": "随子女迁往外省",
         "check": "电话核实,本人称未做过体检"}


def sealed_keys(value):
    """The key id of every sealed value ({k, n, c}) in a raw document, at any depth."""
    if isinstance(value, dict):
        if set(value) == {"k", "n", "c"}:
            return [value["k"]]
        value = list(value.values())
    if isinstance(value, list):
        return [key_id for item in value for key_id in sealed_keys(item)]
    return []


def keys_in_use(db):
    """{collection: Counter(key id: sealed values)} over every collection but the key canaries."""
    return {name: Counter(key_id for doc in db[name].find() for key_id in sealed_keys(doc))
            for name in db.list_collection_names() if name != "keyring"}


def test_rotation_reseals_every_encrypted_collection_and_everything_still_reads(
        app, client, db, runner, keys, tmp_path, doctor, township, people):
    # A working week through the API, leaving sealed values in every encrypted collection.
    archive_id = make_archive(client, doctor, enrolment_consent=GUARDIAN_AT_ENROLMENT)
    moved = make_archive(client, doctor, n=1)
    assert client.post(f"/api/v1/archives/{archive_id}/review", headers=township,
                       json={"verdict": "needs_correction", "note": NOTES["review"]}).status_code == 200
    assert client.post(f"/api/v1/archives/{moved}/close", headers=doctor, json={
        "reason": "moved_away", "date": days_ago(1), "note": NOTES["close"]}).status_code == 200
    assert client.post(f"/api/v1/archives/{archive_id}/consents", headers=people["doc"],
                       json=GUARDIAN_VERBAL).status_code == 201
    first = make_record(client, doctor, archive_id, checkup())
    amended = amend(client, doctor, archive_id, first["id"], {"general": {"weight": 62.3}}, NOTES["amend"])
    assert amended.status_code == 200
    batch = client.post(f"/api/v1/archives/{archive_id}/records/batch", headers=doctor, json={"records": [
        record_body("followup", "hypertension"), record_body("consultation")]})
    assert batch.status_code == 201, batch.get_json()
    referral = make_record(client, doctor, archive_id, record_body("referral"))
    danger = {"systolic": 190, "diastolic": 115}  # opens an urgent case, its detail sealed
    make_record(client, doctor, archive_id, record_body("followup", "hypertension", date=days_ago(1),
                                                        blood_pressure=danger, control="unsatisfactory"))
    assert receive(client, township, archive_id, referral["id"]).status_code == 200
    active = file_request(client, people["sup"], archive_id)
    assert step(client, people["staff"], active["id"], "decision",
                {"decision": "approve", "note": NOTES["approve"]}).status_code == 200
    assert step(client, people["doc"], active["id"], "consent", GUARDIAN_VERBAL).get_json()["status"] == "active"
    rejected = file_request(client, people["far"], archive_id)
    assert step(client, people["staff"], rejected["id"], "decision",
                {"decision": "reject", "note": NOTES["reject"]}).status_code == 200
    glass = client.post(f"/api/v1/archives/{archive_id}/break-glass", headers=people["urban_doc"],
                        json={"reason": NOTES["glass"]})
    assert glass.status_code == 201, glass.get_json()
    assert client.post(f"/api/v1/break-glass/{glass.get_json()['id']}/acknowledge", headers=people["staff"],
                       json={"note": NOTES["acknowledge"]}).status_code == 200
    contract = make_contract(client, doctor, archive_id, make_team(client, township), consent=GUARDIAN_VERBAL)
    withdrawn = {**GUARDIAN_VERBAL, "decision": "withdrawn"}
    assert client.post(f"/api/v1/contracts/{contract['id']}/terminate", headers=doctor, json={
        "reason": "resident_request", "note": NOTES["terminate"], "consent": withdrawn}).status_code == 200
    sample = draw_sample(client, people["staff"], archive_id[:12], 1)  # the one still open
    assert check(client, people["staff"], sample["id"], archive_id, authentic=False,
                 note=NOTES["check"]).status_code == 200

    def views(reader):
        """What the service shows of all that, decrypted."""
        def get(path, headers):
            response = reader.get(path, headers=headers)
            assert response.status_code == 200, (path, response.get_json())
            return response.get_json()
        return [get(f"/api/v1/archives/{archive_id}", doctor), get(f"/api/v1/archives/{moved}", doctor),
                get(f"/api/v1/archives/{archive_id}/records?history=true", doctor),
                get(f"/api/v1/archives/{archive_id}/consents", doctor),
                get(f"/api/v1/access-requests/{active['id']}", people["sup"]),
                get(f"/api/v1/access-requests/{rejected['id']}", people["far"]),
                get("/api/v1/break-glass", people["staff"]), get(f"/api/v1/contracts/{contract['id']}", doctor),
                get("/api/v1/followups/urgent", township),
                get(f"/api/v1/metrics/samples/{sample['id']}", people["staff"])]

    before = views(client)
    shown = json.dumps(before, ensure_ascii=False)
    secrets = [*NOTES.values(), *(GUARDIAN_AT_ENROLMENT[k] for k in ("guardian_name", "witness")),
               *(GUARDIAN_VERBAL[k] for k in ("guardian_name", "witness")), resident(0)["name"], resident(0)["id_card"]]
    assert [secret for secret in secrets if secret not in shown] == []  # the values are really in play
    sealed = keys_in_use(db)
    assert {name for name, per_key in sealed.items() if per_key} == set(ENCRYPTED)
    assert {key_id for per_key in sealed.values() for key_id in per_key} == {"k1"}

    # Rotation as the README tells operators: a new key in the ring file, every process
    # restarted with it, then `flask keys rotate`.
    ring_file = tmp_path / "keys.json"
    ring_file.write_text(keys)
    ring_file.chmod(0o600)
    added = runner.invoke(args=["keys", "generate", "--add-to", str(ring_file)])
    assert added.exit_code == 0 and "Added key k2" in added.output
    restarted_app = restarted(app, KEYS=None, KEY_FILE=str(ring_file))
    rotation = invoke(restarted_app, "keys", "rotate", "--batch-size", "2")

    assert rotation.exit_code == 0, rotation.output
    values = sum(sum(per_key.values()) for per_key in sealed.values())
    documents = sum(db[name].count_documents({}) for name in ENCRYPTED)
    assert f"Checked {documents} documents, re-sealed {values} values under key k2." in rotation.output
    assert "Values still under old keys: 0." in rotation.output
    assert keys_in_use(db) == {name: Counter({"k2": sum(per_key.values())}) if per_key else Counter()
                               for name, per_key in sealed.items()}
    status = invoke(restarted_app, "keys", "status")
    assert "Keys this database has used: k1 (retired), k2" in status.output
    for name in ENCRYPTED:
        assert f"  {name:<16} k2       {sum(sealed[name].values())}\n" in status.output
    assert "Values still under old keys: 0." in status.output
    entry = db.audit.find_one({"action": "keys.rotate"})
    assert (entry["actor"], entry["detail"]["remaining"], entry["detail"]["resealed"]) == ("system", 0, values)
    printed = rotation.output + status.output + added.output + str(list(db.audit.find()))
    assert [secret for secret in secrets if secret in printed] == []

    # k1 is retired: a service holding k2 alone starts and shows everything as before.
    only_new = restarted(app, KEYS=only_active(ring_file.read_text()), KEY_FILE=None)
    assert views(only_new.test_client()) == before


def test_interrupted_rotation_resumes_where_it_stopped(app, db, keys, samples):
    old = KeyRing.from_json(keys)
    seal_residents(db, old)
    before = opened(db, old)
    new_text, new_id = crypto.add_key(keys)
    rotated = start(app, new_text)

    first = invoke(rotated, "keys", "rotate", "--batch-size", "1", "--limit", "2")

    assert first.exit_code == 0, first.output
    assert "Checked 2 documents" in first.output
    assert f"Values still under old keys: {3 * VALUES_PER_RESIDENT} ({SAMPLES} {3 * VALUES_PER_RESIDENT})." \
        in first.output
    assert "run `flask keys rotate` again to resume" in first.output
    assert key_ids(db, IDS[:2]) == {new_id: 2 * VALUES_PER_RESIDENT}
    assert key_ids(db, IDS[2:]) == {"k1": 3 * VALUES_PER_RESIDENT}
    status = invoke(rotated, "keys", "status")
    assert f"{SAMPLES:<16} k1       {3 * VALUES_PER_RESIDENT}" in status.output
    assert f"{SAMPLES:<16} k2       {2 * VALUES_PER_RESIDENT}" in status.output
    assert f"resumes at: {SAMPLES} after {IDS[1]}" in status.output

    second = invoke(rotated, "keys", "rotate", "--batch-size", "1")

    assert second.exit_code == 0, second.output
    assert "Checked 3 documents" in second.output
    assert "Values still under old keys: 0." in second.output
    assert key_ids(db) == {new_id: len(IDS) * VALUES_PER_RESIDENT}
    assert opened(db, KeyRing.from_json(new_text)) == before
    assert_nothing_decrypted(first.output, status.output, second.output)


def test_a_change_made_during_rotation_is_kept(app, db, keys, samples):
    old = KeyRing.from_json(keys)
    seal_residents(db, old)
    new_text, new_id = crypto.add_key(keys)
    new = KeyRing.from_json(new_text)
    read_by_rotation = db[SAMPLES].find_one({"_id": IDS[0]})
    # Between the rotation's read and its write, a process not yet restarted with the new
    # ring corrects the name, sealing it under the old key.
    db[SAMPLES].update_one({"_id": IDS[0]}, {"$set": {"name": old.seal("王秀兰", IDS[0], "name")}})

    resealed = service.reseal_document(db, new, SAMPLES, read_by_rotation)

    assert resealed == VALUES_PER_RESIDENT
    assert opened(db, new)[IDS[0]]["name"] == "王秀兰"
    assert key_ids(db, IDS[:1]) == {new_id: VALUES_PER_RESIDENT}


def test_rotation_stops_clearly_at_a_value_that_does_not_decrypt(app, db, keys, samples):
    seal_residents(db, KeyRing.from_json(keys))
    # One resident's sealed name copied onto another's document: it must not decrypt there.
    copied = db[SAMPLES].find_one({"_id": IDS[0]})["name"]
    db[SAMPLES].update_one({"_id": IDS[3]}, {"$set": {"name": copied}})
    new_text, _ = crypto.add_key(keys)
    rotated = start(app, new_text)

    result = invoke(rotated, "keys", "rotate", "--batch-size", "1")

    assert result.exit_code == 1
    assert f"name of {IDS[3]} does not decrypt with key 'k1'" in result.output
    assert "run `flask keys rotate` again to resume" in result.output
    status = invoke(rotated, "keys", "status")
    assert f"resumes at: {SAMPLES} after {IDS[2]}" in status.output
    assert_nothing_decrypted(result.output, status.output)


def test_sealed_values_outside_the_declared_collections_keep_their_key(app, db, keys):
    # No `samples` fixture: the residents sit in a collection rotation does not cover.
    seal_residents(db, KeyRing.from_json(keys))
    everything = len(IDS) * VALUES_PER_RESIDENT
    new_text, _ = crypto.add_key(keys)
    rotated = start(app, new_text)

    result = invoke(rotated, "keys", "rotate")

    assert result.exit_code == 0, result.output
    assert f"Values still under old keys: {everything} ({SAMPLES} {everything})." in result.output
    assert f"Rotation does not cover {SAMPLES}" in result.output and "keep the old keys" in result.output
    status = invoke(rotated, "keys", "status")
    assert "Keys this database has used: k1, k2" in status.output
    assert f"{SAMPLES:<16} k1       {everything}  (not rotated" in status.output
    with pytest.raises(KeyRingError, match="key 'k1' is missing from the key ring"):
        start(app, only_active(new_text))
    assert_nothing_decrypted(result.output, status.output)
