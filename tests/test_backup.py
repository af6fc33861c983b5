"""Backups: `flask backup dump`, then the restore drill on the dev database (wipe, restore,
the audit trail verifies, archives read back decrypted), and the restores it refuses."""

import gzip
import json
import stat

import bson
import pytest

from healthrec import crypto
from healthrec.db import INDEXES, client_for
from tests.factories import TOWNSHIP, checkup, granted, hypertension, make_archive, make_record, restarted, timeline


def counts(db):
    return {name: db[name].count_documents({}) for name in db.list_collection_names()}


@pytest.fixture
def county(client, people):
    """Archives with records and an access grant, the audit trail they wrote; what the
    doctor read of each archive and its timeline."""
    ids = [make_archive(client, people["doc"], n) for n in range(3)]
    for archive_id in ids:
        make_record(client, people["doc"], archive_id, checkup())
    make_record(client, people["doc"], ids[0], hypertension("2026-01-05"))
    granted(client, people, ids[1])
    seen = {archive_id: client.get(f"/api/v1/archives/{archive_id}", headers=people["doc"]).get_json()
            for archive_id in ids}
    lines = {archive_id: timeline(client, people["doc"], archive_id) for archive_id in ids}
    return ids, seen, lines


def wipe(app):
    client_for(app.config["MONGO_URI"]).drop_database(app.config["DB_NAME"])


def test_restore_drill(app, runner, db, people, county, tmp_path):
    ids, seen, lines = county
    folder = tmp_path / "backup"
    # The night's schedule: the heads go outside the database first, then the dump.
    heads = runner.invoke(args=["audit", "heads"])
    assert heads.exit_code == 0 and TOWNSHIP in heads.output
    anchors = tmp_path / "heads.txt"
    anchors.write_text(heads.output)

    dumped = runner.invoke(args=["backup", "dump", str(folder)])
    assert dumped.exit_code == 0, dumped.output
    assert "sealed under key k1" in dumped.output
    manifest = json.loads((folder / "manifest.json").read_text())
    before = counts(db)
    assert {name: entry["documents"] for name, entry in manifest["collections"].items()} == before
    assert before["archives"] == 3 and before["records"] == 4 and before["access_requests"] == 1
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in folder.iterdir())
    # Sealed values stay sealed in the files: no name in clear anywhere.
    archives = gzip.decompress((folder / "archives.bson.gz").read_bytes())
    assert seen[ids[0]]["name"].encode() not in archives

    wipe(app)
    assert db.archives.count_documents({}) == 0
    restored = runner.invoke(args=["backup", "restore", str(folder)])
    assert restored.exit_code == 0, restored.output

    verified = runner.invoke(args=["audit", "verify", "--anchors", str(anchors)])
    assert verified.exit_code == 0, verified.output
    assert "the audit trail is intact" in verified.output
    # The dump's own entry came back with it, the restore is audited; everything else is
    # as it was dumped.
    assert counts(db) == before | {"audit": before["audit"] + 1}
    assert [entry["action"] for entry in db.audit.find({"chain": "system"}).sort("_id", 1)][-2:] == \
        ["backup.dump", "backup.restore"]
    assert {name: len(db[name].index_information()) for name in ("archives", "records", "audit")} == \
        {name: len(INDEXES[name]) + 1 for name in ("archives", "records", "audit")}  # and `_id`

    # Another service process starts on the restored data with the same key ring (its key
    # check passes), the tokens from before still work, and the archives read back whole.
    other = restarted(app).test_client()
    for archive_id in ids:
        response = other.get(f"/api/v1/archives/{archive_id}", headers=people["doc"])
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == seen[archive_id]
        assert timeline(other, people["doc"], archive_id) == lines[archive_id]
    assert other.get(f"/api/v1/archives/{ids[1]}", headers=people["sup"]).status_code == 200


def test_a_restore_refuses_a_database_with_data(runner, db, county, tmp_path):
    folder = tmp_path / "backup"
    assert runner.invoke(args=["backup", "dump", str(folder)]).exit_code == 0
    before = counts(db)
    result = runner.invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1
    assert "is not empty" in result.output and "drop it" in result.output
    assert counts(db) == before


def test_a_damaged_dump_restores_nothing(app, runner, db, county, tmp_path):
    folder = tmp_path / "backup"
    assert runner.invoke(args=["backup", "dump", str(folder)]).exit_code == 0
    records = folder / "records.bson.gz"
    records.write_bytes(records.read_bytes()[:-20])
    wipe(app)
    result = runner.invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1
    assert "records.bson.gz does not match its checksum" in result.output
    assert db.archives.count_documents({}) == 0 and db.records.count_documents({}) == 0


def test_a_restore_with_another_key_ring_restores_nothing(app, runner, county, tmp_path):
    folder = tmp_path / "backup"
    assert runner.invoke(args=["backup", "dump", str(folder)]).exit_code == 0
    wipe(app)
    # No app context of `app` around (the `db` fixture would hold one): the command runs
    # in the other process's.
    stranger = restarted(app, KEYS=crypto.generate())
    result = stranger.test_cli_runner().invoke(args=["backup", "restore", str(folder)])
    assert result.exit_code == 1
    assert "nothing was restored" in result.output and "key 'k1'" in result.output
    assert counts(client_for(app.config["MONGO_URI"])[app.config["DB_NAME"]]) == {}


def test_a_dump_needs_an_empty_folder(runner, db, county, tmp_path):
    (tmp_path / "notes.txt").write_text("keep")
    result = runner.invoke(args=["backup", "dump", str(tmp_path)])
    assert result.exit_code == 1
    assert "is not empty: dump into a new folder" in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_a_folder_without_a_manifest_is_not_a_dump(app, runner, db, tmp_path):
    (tmp_path / "archives.bson.gz").write_bytes(gzip.compress(b""))
    wipe(app)
    result = runner.invoke(args=["backup", "restore", str(tmp_path)])
    assert result.exit_code == 1
    assert "has no manifest.json" in result.output
    assert counts(db) == {}


def test_entries_appended_while_the_trail_is_read_keep_the_chains_whole(app, runner, county, tmp_path, monkeypatch):
    # The service goes on writing while the audit trail is dumped: a chain's head moves
    # past the entries read, and the dump must hold every entry up to it.
    from healthrec.audit.log import record
    from healthrec.backup import service

    add = service.File.add

    def add_while_serving(self, doc):
        if self.path.name == "audit.bson.gz" and self.count == 0:
            for _ in range(40):
                record(None, "archive.read", archive_id=county[0][0])
        add(self, doc)

    monkeypatch.setattr(service.File, "add", add_while_serving)
    folder = tmp_path / "backup"
    assert runner.invoke(args=["backup", "dump", str(folder)]).exit_code == 0
    monkeypatch.undo()
    heads = {doc["_id"]: doc["seq"] for doc in bson.decode_all(gzip.decompress((folder / "audit_heads.bson.gz")
                                                                              .read_bytes()))}
    entries = bson.decode_all(gzip.decompress((folder / "audit.bson.gz").read_bytes()))
    township = [entry["seq"] for entry in entries if entry["chain"] == TOWNSHIP]
    assert heads[TOWNSHIP] >= 40
    assert sorted(township) == list(range(1, max(township) + 1)) and max(township) >= heads[TOWNSHIP]

    wipe(app)
    assert runner.invoke(args=["backup", "restore", str(folder)]).exit_code == 0
    verified = runner.invoke(args=["audit", "verify"])
    assert verified.exit_code == 0, verified.output
