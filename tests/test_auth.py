"""Token login, its failures, throttling, password hashing and the users commands."""

from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher, extract_parameters, profiles

from healthrec.auth import service as auth
from healthrec.errors import Unauthorized
from tests.factories import PASSWORD, VILLAGE, restarted
from tests.querycheck import unsupported, watched

# What the service hashes with when HEALTHREC_PASSWORD_PROFILE is left out.
DEFAULT_PROFILE = profiles.RFC_9106_LOW_MEMORY


def token(client, username, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_token_login_returns_token_and_user(client, make_user):
    make_user("liu.doctor", "village_doctor", "411423101101")
    response = token(client, "liu.doctor")
    assert response.status_code == 200
    body = response.get_json()
    assert body["user"] == {"username": "liu.doctor", "role": "village_doctor", "region": "411423101101"}
    assert len(body["token"]) > 30
    lifetime = datetime.fromisoformat(body["expires_at"]) - datetime.now(UTC)
    assert timedelta(hours=12) - timedelta(minutes=1) < lifetime <= timedelta(hours=12)  # HEALTHREC_TOKEN_HOURS
    me = client.get("/api/v1/auth/me", headers={"Authorization": "Bearer " + body["token"]})
    assert me.get_json()["username"] == "liu.doctor"


def test_wrong_password_and_unknown_user_get_the_same_401(client, make_user):
    make_user("liu.doctor", "village_doctor", "411423101101")
    wrong = token(client, "liu.doctor", "not the password")
    unknown = token(client, "nobody", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.mimetype == "application/problem+json"
    assert wrong.get_json()["detail"] == unknown.get_json()["detail"]
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"] == 'Bearer realm="healthrec"'


def test_missing_fields_are_named(client, db):
    response = client.post("/api/v1/auth/token", json={"username": "x"})
    assert response.status_code == 422
    assert "password" in response.get_json()["errors"]
    assert db.tokens.count_documents({}) == 0


def test_api_without_or_with_bad_token_is_401(client):
    assert client.get("/api/v1/regions/411423").status_code == 401
    response = client.get("/api/v1/regions/411423", headers={"Authorization": "Bearer made-up"})
    assert response.status_code == 401
    assert "token" in response.get_json()["detail"]


def test_tokens_are_stored_hashed(client, db, make_user):
    make_user("liu.doctor", "village_doctor", "411423101101")
    value = token(client, "liu.doctor").get_json()["token"]
    stored = db.tokens.find_one()
    assert value not in str(stored)


def from_address(client, ip, username, password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


def earlier(db, seconds):
    """Every failed login as if it had happened `seconds` earlier: time passing."""
    for doc in db.login_failures.find():
        db.login_failures.update_one({"_id": doc["_id"]}, {"$set": {"at": doc["at"] - timedelta(seconds=seconds)}})


def failures_from(db, ips, username, seconds_ago=1):
    """Failed logins already made, one from each address in `ips`."""
    at = datetime.now(UTC) - timedelta(seconds=seconds_ago)
    db.login_failures.insert_many([{"username": username, "ip": ip, "at": at} for ip in ips])


def test_a_failing_client_waits_longer_after_each_wrong_password(app, client, db, make_user):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):  # typos cost nothing
        assert from_address(client, "10.0.0.7", "liu.doctor", "guess").status_code == 401
    waits = []
    for _ in range(3):
        refused = from_address(client, "10.0.0.7", "liu.doctor")  # even the right password waits
        assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
        waits.append(int(refused.headers["Retry-After"]))
        assert f"wait {waits[-1]} seconds" in refused.get_json()["detail"]
        earlier(db, waits[-1])
        assert from_address(client, "10.0.0.7", "liu.doctor", "guess").status_code == 401
    assert waits == [1, 2, 4]

    earlier(db, 8)
    assert from_address(client, "10.0.0.7", "liu.doctor").status_code == 200
    # The client's own failures are forgotten once it got in: the next typo is free again.
    assert db.login_failures.count_documents({}) == 0
    assert from_address(client, "10.0.0.7", "liu.doctor", "guess").status_code == 401


def test_the_longest_wait_is_capped(app, client, db, make_user):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    failures_from(db, ["10.0.0.7"] * 40, "liu.doctor")
    refused = from_address(client, "10.0.0.7", "liu.doctor")
    assert refused.status_code == 429
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60  # HEALTHREC_LOGIN_MAX_WAIT_MINUTES


def test_nobody_can_lock_the_owner_out(client, db, make_user):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    # Someone guesses from one address, and from twenty more...
    for _ in range(3):
        assert from_address(client, "10.6.6.6", "liu.doctor", "guess").status_code == 401
    failures_from(db, [f"10.6.7.{n}" for n in range(20)], "liu.doctor")
    assert from_address(client, "10.6.6.6", "liu.doctor").status_code == 429
    assert from_address(client, "10.6.7.1", "liu.doctor").status_code == 429
    # ...and the owner, whose own address has not failed, signs in with the right password.
    assert from_address(client, "10.0.0.2", "liu.doctor").status_code == 200
    assert db.login_failures.count_documents({"username": "liu.doctor"}) == 23  # still slowing them down


def test_an_address_trying_the_account_for_the_first_time_gets_one_try(client, db, make_user):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    failures_from(db, [f"10.6.7.{n}" for n in range(20)], "liu.doctor")
    assert from_address(client, "10.6.8.1", "liu.doctor", "guess").status_code == 401
    # Now it has failed on an account others are guessing at: it waits as long as they do.
    assert from_address(client, "10.6.8.1", "liu.doctor").status_code == 429


def test_one_address_trying_many_accounts_is_slowed_down(app, client, make_user):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    for n in range(app.config["LOGIN_FREE_FAILURES_SHARED"]):
        assert from_address(client, "10.6.6.6", f"user{n}", "guess").status_code == 401
    assert from_address(client, "10.6.6.6", "liu.doctor").status_code == 429
    assert from_address(client, "10.0.0.2", "liu.doctor").status_code == 200


def test_the_throttles_queries_have_indexes(app, client, devdb, make_user):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    with watched(app, devdb) as listener:
        for password in ("guess", "guess", PASSWORD):
            from_address(client, "10.0.0.7", "liu.doctor", password)
    shapes = [(collection, sorted(query)) for collection, query, _sort in listener.shapes({"login_failures"})]
    # This client's failures, the address's, the account's; then its own forgotten.
    assert ("login_failures", ["at", "username"]) in shapes and ("login_failures", ["at", "ip"]) in shapes
    assert ("login_failures", ["ip", "username"]) in shapes
    assert unsupported(listener, {"login_failures", "users", "tokens"}) == []


def test_the_sign_in_page_says_how_long_to_wait_in_chinese(app, client, make_user):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        client.post("/login", data={"username": "liu.doctor", "password": "guess"})
    page = client.post("/login", data={"username": "liu.doctor", "password": PASSWORD})
    assert page.status_code == 429
    assert "密码错误次数过多：请等待 1 秒后再试。" in page.get_data(as_text=True)


def test_a_proxy_whose_addresses_are_not_trusted_is_named_once(app, client, caplog):
    forwarded = {"X-Forwarded-For": "10.1.2.3"}
    client.get("/healthz")
    assert "HEALTHREC_PROXY_HOPS" not in caplog.text
    client.get("/healthz", headers=forwarded)
    client.get("/healthz", headers=forwarded)
    assert caplog.text.count("Set HEALTHREC_PROXY_HOPS") == 1
    caplog.clear()
    restarted(app, PROXY_HOPS=1).test_client().get("/healthz", headers=forwarded)
    assert "HEALTHREC_PROXY_HOPS" not in caplog.text


def test_disabled_user_cannot_log_in_and_tokens_end(client, runner, login):
    headers = login("supervisor", "411423", username="sup")
    result = runner.invoke(args=["users", "disable", "sup"])
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/regions/411423", headers=headers).status_code == 401
    assert token(client, "sup").status_code == 401


def test_an_account_disabled_while_its_token_is_made_gets_no_usable_token(app, client, db, make_user):
    make_user("sup", "supervisor", "411423")
    with app.app_context():
        user = auth.authenticate("sup", PASSWORD, "10.0.0.1")  # the password was right...
        auth.disable_user("sup")  # ...and the account is disabled before the token is stored
        with pytest.raises(Unauthorized):
            auth.issue_token(user)
    assert [doc["revoked"] for doc in db.tokens.find()] == [True]


def test_users_create_with_password_from_stdin(client, runner):
    result = runner.invoke(args=["users", "create", "wang", "--role", "township_staff",
                                 "--region", "411423101", "--password-stdin"],
                           input="a long password\n")
    assert result.exit_code == 0, result.output
    assert token(client, "wang", "a long password").status_code == 200
    listing = runner.invoke(args=["users", "list"])
    assert "wang\ttownship_staff\t411423101\tactive" in listing.output


def test_users_create_rejects_unknown_role_and_bad_region(runner, db):
    bad_role = runner.invoke(args=["users", "create", "wang", "--role", "nurse",
                                   "--region", "411423101", "--password-stdin"], input="a long password\n")
    assert bad_role.exit_code != 0
    assert "nurse" in bad_role.output
    bad_region = runner.invoke(args=["users", "create", "wang", "--role", "village_doctor",
                                     "--region", "411423101", "--password-stdin"], input="a long password\n")
    assert bad_region.exit_code == 1
    assert "12 digits" in bad_region.output
    missing = runner.invoke(args=["users", "create", "wang", "--role", "village_doctor",
                                  "--region", "411423101999", "--password-stdin"], input="a long password\n")
    assert missing.exit_code == 1
    assert "does not exist" in missing.output
    assert db.users.count_documents({}) == 0


def test_short_password_is_refused(runner, db):
    result = runner.invoke(args=["users", "create", "wang", "--role", "supervisor",
                                 "--region", "411423", "--password-stdin"], input="short\n")
    assert result.exit_code == 1
    assert "at least" in result.output
    assert db.users.count_documents({}) == 0


def test_reset_password_ends_old_tokens(client, runner, login):
    headers = login("supervisor", "411423", username="sup")
    result = runner.invoke(args=["users", "reset-password", "sup", "--password-stdin"],
                           input="a brand new password\n")
    assert result.exit_code == 0, result.output
    assert client.get("/api/v1/regions/411423", headers=headers).status_code == 401
    assert token(client, "sup").status_code == 401
    assert token(client, "sup", "a brand new password").status_code == 200


def test_passwords_are_argon2id_hashes(db, make_user):
    make_user("liu.doctor", "village_doctor", "411423101101")
    stored = db.users.find_one({"_id": "liu.doctor"})["password"]
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_a_user_made_under_the_test_profile_logs_in_under_the_default_and_is_rehashed(app, db, make_user):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    assert extract_parameters(db.users.find_one({"_id": "liu.doctor"})["password"]) == profiles.CHEAPEST
    client = restarted(app, PASSWORD_PROFILE="rfc_9106_low_memory").test_client()

    assert token(client, "liu.doctor").status_code == 200
    rehashed = db.users.find_one({"_id": "liu.doctor"})["password"]
    assert extract_parameters(rehashed) == DEFAULT_PROFILE
    assert token(client, "liu.doctor").status_code == 200
    assert token(client, "liu.doctor", "not the password").status_code == 401
    assert db.users.find_one({"_id": "liu.doctor"})["password"] == rehashed


def test_an_unknown_user_costs_as_much_as_a_wrong_password(app, client, make_user, monkeypatch):
    make_user("liu.doctor", "village_doctor", VILLAGE)
    # An unknown user under the cheap profile first: the default profile must not reuse
    # what that left behind.
    assert token(client, "nobody", "not the password").status_code == 401
    default = restarted(app, PASSWORD_PROFILE="rfc_9106_low_memory").test_client()
    assert token(default, "liu.doctor").status_code == 200  # now hashed at the default cost

    # The cost of a check is in the parameters of the hash checked against ($m, t, p):
    # watch which hash each failed login verifies, rather than time it on a shared machine.
    verified = []
    real_verify = PasswordHasher.verify

    def watching(self, hash, password):
        verified.append(hash)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", watching)
    for username in ("liu.doctor", "nobody"):
        assert token(default, username, "not the password").status_code == 401
    wrong_password, unknown_user = (extract_parameters(hash) for hash in verified)
    assert unknown_user == wrong_password
    assert (unknown_user.memory_cost, unknown_user.time_cost) == (65536, 3)  # RFC 9106 low-memory
