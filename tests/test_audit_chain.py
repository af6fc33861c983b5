"""The tamper-evident audit chain: appends under concurrency, and `flask audit verify` and
GET /api/v1/audit/verify naming the exact entry after each way of tampering with the raw
collection."""

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from bson import ObjectId

from healthrec.audit import chain as chains
from healthrec.audit.log import record
from tests.factories import code, restarted
from tests.querycheck import watched

TOWNSHIP = "411423101"
ARCHIVE = code(1)


def entry(seq, chain=TOWNSHIP):
    return chains.entry_id(chain, seq)


@pytest.fixture
def staff(make_user):
    user = make_user("staff101", "township_staff", TOWNSHIP)
    user.ip = "10.0.0.7"
    return user


@pytest.fixture
def six(db, staff):
    """Six reads of archives in the township: entries 1 to 6 of its chain."""
    for n in range(1, 7):
        record(staff, "archive.read", archive_id=f"41142310110100{n:02d}",
                     region="411423101101", purpose="jurisdiction")
    return [doc["_id"] for doc in db.audit.find({"chain": TOWNSHIP}).sort("_id", 1)]


def verify_cli(runner, *args):
    result = runner.invoke(args=["audit", "verify", *args])
    return result.exit_code, result.output


def first_bad(db, **kwargs):
    report = chains.verify(db, **kwargs)
    assert not report["ok"]
    return report["first_bad"]


# --- Appending -------------------------------------------------------------------------

def test_entries_chain_per_township_with_a_system_chain(db, staff, six):
    assert six == [entry(n) for n in range(1, 7)]
    first, second = db.audit.find_one({"_id": entry(1)}), db.audit.find_one({"_id": entry(2)})
    assert first["prev"] == chains.GENESIS and second["prev"] == first["hash"]
    assert first["ip"] == "10.0.0.7" and first["actor"] == "staff101" and first["role"] == "township_staff"
    # Creating the user is the system's doing: no township, so the system chain.
    assert db.audit.find_one({"action": "user.create"})["_id"] == entry(1, "system")
    # The archive's township wins over a shorter region: its health centre must see the use.
    record(staff, "archive.read", archive_id="4114230010010001", region="411423")
    assert db.audit.find_one({"archive_id": "4114230010010001"})["chain"] == "411423001"
    assert chains.ends(db)[TOWNSHIP]["seq"] == 6
    assert chains.verify(db)["ok"]


def test_the_chain_head_moves_at_the_start_of_each_block(db, staff):
    def head():
        return db.audit_heads.find_one({"_id": TOWNSHIP})["seq"]

    for n in range(1, 2 * chains.HEAD_EVERY + 2):
        record(staff, "archive.read", archive_id=ARCHIVE)
        assert head() == n // chains.HEAD_EVERY * chains.HEAD_EVERY
    assert chains.ends(db)[TOWNSHIP]["seq"] == 2 * chains.HEAD_EVERY + 1
    assert chains.verify(db)["ok"]


def test_a_process_that_missed_other_processes_entries_carries_on_after_them(app, db, devdb, staff):
    other = restarted(app)  # another service process on the same database
    with other.app_context():
        record(staff, "archive.read", archive_id=ARCHIVE, township=TOWNSHIP)
    for _ in range(chains.HEAD_EVERY + 3):  # this process: its own idea of the end moves on
        record(staff, "archive.read", archive_id=ARCHIVE, township=TOWNSHIP)
    with other.app_context(), watched(other, devdb) as listener:
        # The other process still thinks the chain ends at entry 1: its insert collides,
        # it reads the end of the chain once and takes the place after it.
        written = record(staff, "archive.read", archive_id=ARCHIVE, township=TOWNSHIP)
    assert written["seq"] == chains.HEAD_EVERY + 5
    assert [name for name, _command in listener.seen] == ["insert", "find", "find", "insert"]
    seqs = [doc["seq"] for doc in db.audit.find({"chain": TOWNSHIP}, {"seq": 1}).sort("_id", 1)]
    assert seqs == list(range(1, chains.HEAD_EVERY + 6))
    assert chains.verify(db)["ok"]


def test_what_reads_back_from_the_database_hashes_the_same(db, staff):
    # Microseconds (BSON keeps milliseconds), other time zones, ObjectIds, None, nesting, Chinese.
    beijing = timezone(timedelta(hours=8))
    detail = {"when": datetime(2026, 3, 1, 8, 30, 15, 123987, tzinfo=beijing),
              "naive": datetime(2026, 3, 1, 0, 0, 0, 999), "ref": ObjectId(), "none": None,
              "list": [1, 2.5, True, {"b": "柳河村", "a": None}], "回访": "电话"}
    written = record(staff, "archive.read", archive_id=ARCHIVE, purpose="随访", detail=detail)
    stored = db.audit.find_one({"_id": written["_id"]})
    assert stored["at"] == written["at"] and stored["at"].microsecond % 1000 == 0
    assert stored["detail"]["when"] != detail["when"]  # the database cut the microseconds
    assert chains.digest(stored) == stored["hash"] == written["hash"]
    assert chains.verify(db)["ok"]


def test_entries_with_times_and_object_ids_in_their_detail_list_over_the_api(client, db, login, staff):
    ref = ObjectId()
    record(staff, "archive.read", archive_id=ARCHIVE,
                 detail={"when": datetime(2026, 3, 1, 0, 0, 0, 1500, tzinfo=UTC), "ref": ref})
    headers = login("township_staff", TOWNSHIP, username="reviewer")
    [item] = client.get("/api/v1/audit", query_string={"archive_id": ARCHIVE}, headers=headers).get_json()["items"]
    assert item["detail"] == {"when": {"$date": "2026-03-01T00:00:00.001Z"}, "ref": {"$oid": str(ref)}}


def test_values_the_encoding_cannot_hold_are_refused_and_nothing_is_written(db, staff):
    before = db.audit.count_documents({})
    with pytest.raises(ValueError, match=r"\$where"):
        record(staff, "archive.read", archive_id=ARCHIVE, detail={"q": {"$where": "1"}})
    with pytest.raises(TypeError, match="set"):
        record(staff, "archive.read", archive_id=ARCHIVE, detail={"ids": {1, 2}})
    assert db.audit.count_documents({}) == before


def test_eight_writers_on_one_chain_leave_no_gap(app, db, staff):
    errors = []

    def write(worker):
        try:
            with app.app_context():
                for n in range(15):
                    record(staff, "archive.read", archive_id=ARCHIVE, detail={"worker": worker, "n": n})
        except Exception as error:  # reported below, where pytest shows it
            errors.append(error)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = [doc["seq"] for doc in db.audit.find({"chain": TOWNSHIP}, {"seq": 1}).sort("_id", 1)]
    assert seqs == list(range(1, 121))
    written = {(d["detail"]["worker"], d["detail"]["n"]) for d in db.audit.find({"chain": TOWNSHIP})}
    assert len(written) == 120
    report = chains.verify(db)
    assert report["ok"], report["first_bad"]
    assert report["entries"] == db.audit.count_documents({})


def test_denials_are_chained_like_any_entry(client, db, doctor):
    assert client.get("/api/v1/audit", headers=doctor).status_code == 403
    denied = db.audit.find_one({"action": "audit.list"})
    assert denied["outcome"] == "denied" and denied["chain"] == TOWNSHIP
    assert chains.digest(denied) == denied["hash"]
    assert chains.verify(db)["ok"]


# --- Tampering with the raw collection -------------------------------------------------

def test_an_edited_entry_is_named(db, runner, six):
    db.audit.update_one({"_id": entry(3)}, {"$set": {"purpose": "research"}})
    code, output = verify_cli(runner)
    assert code == 1
    assert f"Chain {TOWNSHIP}: 6 entries, BROKEN at {entry(3)} (edited)" in output
    assert "Chain system: 1 entries, intact." in output
    assert first_bad(db) == {"chain": TOWNSHIP, "seq": 3, "id": entry(3), "problem": "edited",
                             "detail": "Its content does not match its hash: it was changed."}


def test_a_field_added_to_an_entry_is_an_edit(db, six):
    db.audit.update_one({"_id": entry(5)}, {"$set": {"note": "checked"}})
    assert first_bad(db)["id"] == entry(5)


def test_a_removed_entry_is_named(db, runner, six):
    db.audit.delete_one({"_id": entry(4)})
    code, output = verify_cli(runner)
    assert code == 1 and f"BROKEN at {entry(4)} (missing)" in output
    bad = first_bad(db)
    assert (bad["seq"], bad["problem"]) == (4, "missing")
    assert entry(5) in bad["detail"]


@pytest.mark.parametrize("forged_id", [entry(3) + "a", ObjectId()], ids=["between", "own-id"])
def test_an_inserted_entry_is_named(db, runner, six, forged_id):
    forged = db.audit.find_one({"_id": entry(3)})
    forged.update({"_id": forged_id, "actor": "ghost"})
    db.audit.insert_one(forged)
    code, output = verify_cli(runner)
    assert code == 1 and f"BROKEN at {forged_id} (unexpected)" in output
    assert first_bad(db)["id"] == str(forged_id)


def test_an_entry_outside_every_chain_is_named(db, runner, six):
    stray = db.audit.insert_one({"actor": "ghost", "action": "archive.read"}).inserted_id
    code, output = verify_cli(runner)
    assert code == 1 and f"Chain (no chain): 1 entries, BROKEN at {stray} (unexpected)" in output


def test_reordered_entries_are_named(db, six):
    second, third = db.audit.find_one({"_id": entry(2)}), db.audit.find_one({"_id": entry(3)})
    db.audit.delete_many({"_id": {"$in": [entry(2), entry(3)]}})
    db.audit.insert_many([{**third, "_id": entry(2)}, {**second, "_id": entry(3)}])
    bad = first_bad(db)
    assert (bad["id"], bad["problem"]) == (entry(2), "moved")


def test_removing_entries_back_past_the_chain_head_is_noticed(db, runner, staff):
    past = chains.HEAD_EVERY + 2
    for _ in range(past):
        record(staff, "archive.read", archive_id=ARCHIVE)
    head = chains.HEAD_EVERY
    db.audit.delete_many({"chain": TOWNSHIP, "seq": {"$gte": head - 1}})
    code, output = verify_cli(runner)
    assert code == 1 and f"BROKEN at {entry(head - 1)} (truncated)" in output
    assert f"entries {head - 1} to {head} were removed" in first_bad(db)["detail"]


def test_removing_the_chain_head_is_noticed(db, six):
    db.audit_heads.delete_one({"_id": TOWNSHIP})
    bad = first_bad(db)
    assert (bad["chain"], bad["problem"]) == (TOWNSHIP, "head_missing")


def test_anchors_kept_outside_catch_a_rewound_head(db, runner, six, tmp_path):
    anchors = tmp_path / "heads.txt"
    heads = runner.invoke(args=["audit", "heads"])
    assert heads.exit_code == 0 and f"{TOWNSHIP} 6 " in heads.output
    anchors.write_text("# printed and filed on the first of the month\n" + heads.output, encoding="utf-8")
    # Someone with database access removes the last two entries and rewinds the head too:
    # the database alone no longer shows it.
    fourth = db.audit.find_one({"_id": entry(4)})
    db.audit.delete_many({"_id": {"$in": [entry(5), entry(6)]}})
    db.audit_heads.update_one({"_id": TOWNSHIP}, {"$set": {"seq": 4, "hash": fourth["hash"]}})
    assert verify_cli(runner)[0] == 0
    code, output = verify_cli(runner, "--anchors", str(anchors))
    assert code == 1 and f"BROKEN at {entry(5)} (truncated)" in output and "anchor records entry 6" in output


def test_anchors_catch_a_chain_rehashed_after_an_edit(db, runner, six, tmp_path):
    anchors = tmp_path / "heads.txt"
    anchors.write_text(runner.invoke(args=["audit", "heads"]).output, encoding="utf-8")
    # An attacker who knows the algorithm edits entry 3 and recomputes every later hash.
    prev = db.audit.find_one({"_id": entry(2)})["hash"]
    for seq in range(3, 7):
        doc = db.audit.find_one({"_id": entry(seq)})
        fields = {k: v for k, v in doc.items() if k not in ("_id", "chain", "seq", "prev", "hash")}
        if seq == 3:
            fields["purpose"] = "research"
        resealed = chains.seal(fields, TOWNSHIP, seq, prev)
        db.audit.replace_one({"_id": entry(seq)}, resealed)
        prev = resealed["hash"]
    db.audit_heads.update_one({"_id": TOWNSHIP}, {"$set": {"hash": prev}})
    assert verify_cli(runner)[0] == 0  # undetectable from inside the database
    code, output = verify_cli(runner, "--anchors", str(anchors))
    assert code == 1 and f"BROKEN at {entry(6)} (replaced)" in output


def test_a_malformed_anchor_file_is_refused(runner, six, tmp_path):
    anchors = tmp_path / "heads.txt"
    anchors.write_text(f"{TOWNSHIP} six deadbeef\n", encoding="utf-8")
    code, output = verify_cli(runner, "--anchors", str(anchors))
    assert code == 2 and "line 1: expected 'chain seq hash'" in output


def test_verify_over_the_api_names_chain_entry_and_why(client, db, login, six):
    admin = login("admin", "411423")
    assert client.get("/api/v1/audit/verify", headers=admin).get_json()["ok"] is True
    db.audit.update_one({"_id": entry(2)}, {"$set": {"at": datetime.now(UTC)}})
    body = client.get("/api/v1/audit/verify", headers=admin).get_json()
    assert body["ok"] is False
    assert body["first_bad"] == {"chain": TOWNSHIP, "seq": 2, "id": entry(2), "problem": "edited",
                                 "detail": "Its content does not match its hash: it was changed."}
    assert body["entries"] == db.audit.count_documents({})
    chains = {chain["chain"]: chain for chain in body["chains"]}
    assert chains["system"]["ok"] and not chains[TOWNSHIP]["ok"]


def test_verify_over_the_api_keeps_to_the_callers_region(client, db, login, six):
    db.audit.update_one({"_id": entry(2)}, {"$set": {"purpose": "research"}})
    elsewhere = login("township_staff", "411423001")
    body = client.get("/api/v1/audit/verify", headers=elsewhere).get_json()
    # Their own township has no entries yet; the broken chain of another is not theirs to see.
    assert body == {"ok": True, "chains": [], "entries": 0, "first_bad": None}
    supervisor = login("supervisor", "411423")
    body = client.get("/api/v1/audit/verify", headers=supervisor).get_json()
    assert body["first_bad"]["id"] == entry(2)
    assert "system" not in {c["chain"] for c in body["chains"]}
    doctor = login("village_doctor", "411423101101")
    response = client.get("/api/v1/audit/verify", headers=doctor)
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert db.audit.count_documents({"action": "audit.verify", "outcome": "denied", "actor": "village101"}) == 1
