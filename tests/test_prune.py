"""`flask prune` drops old Idempotency-Keys and failed logins, and expired tokens, and
nothing younger."""

from datetime import UTC, datetime, timedelta

from tests.factories import bearer


def test_prune_keeps_recent_bookkeeping(runner, db):
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=40), now - timedelta(days=2)
    db.idempotency_keys.insert_many([
        {"_id": "4114231011010001:doc:old", "digest": "a", "record_ids": ["r1"], "at": old},
        {"_id": "4114231011010001:doc:new", "digest": "b", "record_ids": ["r2"], "at": recent},
    ])
    db.login_failures.insert_many([
        {"username": "doc", "ip": "10.0.0.1", "at": old, "note": "old"},
        {"username": "doc", "ip": "10.0.0.1", "at": recent, "note": "recent"},
    ])
    result = runner.invoke(args=["prune", "--days", "30"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 idempotency keys and 1 failed logins" in result.output
    assert [doc["_id"] for doc in db.idempotency_keys.find()] == ["4114231011010001:doc:new"]
    assert [doc["note"] for doc in db.login_failures.find()] == ["recent"]


def test_prune_refuses_a_nonsense_age(runner, db):
    db.idempotency_keys.insert_one({"_id": "k", "digest": "a", "record_ids": [], "at": datetime.now(UTC)})
    result = runner.invoke(args=["prune", "--days", "0"])
    assert result.exit_code == 2
    assert "--days" in result.output
    assert db.idempotency_keys.count_documents({}) == 1


def test_prune_drops_expired_tokens_in_batches_and_keeps_live_ones(client, runner, db, make_user):
    make_user("doc", "village_doctor", "411423101101")
    live = bearer(client, "doc")
    expired = datetime.now(UTC) - timedelta(minutes=1)
    # More than one batch of them: a single delete of tens of thousands fails on SQLite.
    db.tokens.insert_many([{"_id": f"expired-{n}", "username": "doc", "expires_at": expired, "revoked": False}
                           for n in range(2500)])
    result = runner.invoke(args=["prune"])
    assert result.exit_code == 0, result.output
    assert "and 2500 expired tokens" in result.output
    assert db.tokens.count_documents({}) == 1
    assert client.get("/api/v1/auth/me", headers=live).status_code == 200
