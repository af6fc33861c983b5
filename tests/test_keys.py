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

SAMPLES = "sealed_samples"
NAMES = ["王秀英", "李建国", "张桂兰", "刘志强", "陈美华"]
IDS = [f"41142310110100{number:02d}" for number in range(1, len(NAMES) + 1)]
VALUES_PER_RESIDENT = 5


@pytest.fixture
def samples(monkeypatch):
    # Archives and records are built elsewhere; a collection of our own, declared like
    # theirs, holds residents sealed the way they seal them (nested and in lists).
    monkeypatch.setattr(service, "ENCRYPTED_COLLECTIONS", (*service.ENCRYPTED_COLLECTIONS, SAMPLES))


def resident(ring, doc_id, name):
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
    db[SAMPLES].insert_many([resident(ring, doc_id, name) for doc_id, name in zip(IDS, NAMES, strict=True)])


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

def test_rotate_reseals_every_value_under_the_new_key(app, db, keys, samples):
    old = KeyRing.from_json(keys)
    seal_residents(db, old)
    before = opened(db, old)
    new_text, new_id = crypto.add_key(keys)
    rotated = start(app, new_text)

    result = invoke(rotated, "keys", "rotate", "--batch-size", "2")

    assert result.exit_code == 0, result.output
    assert f"Checked {len(IDS)} documents, re-sealed {len(IDS) * VALUES_PER_RESIDENT} values" in result.output
    assert "Values still under old keys: 0." in result.output
    assert key_ids(db) == {new_id: len(IDS) * VALUES_PER_RESIDENT}
    assert opened(db, KeyRing.from_json(new_text)) == before
    # k1 is retired: a ring without it starts and still reads everything.
    only_new = only_active(new_text)
    start(app, only_new)
    assert opened(db, KeyRing.from_json(only_new)) == before
    status = invoke(rotated, "keys", "status")
    assert "Keys this database has used: k1 (retired), k2" in status.output
    assert f"{SAMPLES:<16} k2       {len(IDS) * VALUES_PER_RESIDENT}" in status.output
    entry = db.audit.find_one({"action": "keys.rotate"})
    assert entry["actor"] == "system" and entry["detail"]["remaining"] == 0
    assert_nothing_decrypted(result.output, status.output, str(list(db.audit.find())))


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
