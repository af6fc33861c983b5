"""Users, passwords, login throttling and API tokens."""

import functools
import hashlib
import math
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from pymongo.errors import DuplicateKeyError

from healthrec.audit.log import record, refusals
from healthrec.auth import policy
from healthrec.auth.roles import ROLES, SCOPE_DIGITS
from healthrec.auth.user import User
from healthrec.clock import now
from healthrec.db import delete_in_batches, get_db
from healthrec.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from healthrec.paging import page_of
from healthrec.regions.codes import ascii_digits
from healthrec.regions.service import retired_on
from healthrec.settings import PASSWORD_PROFILES

USERNAME = re.compile(r"^[a-z0-9_.-]{3,32}$")
MIN_PASSWORD = 10
BAD_LOGIN = "Wrong username or password."
# Passwords made for someone are read out or written down: no look-alike characters.
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 (an alphabet, not a password)
PASSWORD_GROUPS = 4


@functools.cache
def _hasher(profile):
    return PasswordHasher.from_parameters(PASSWORD_PROFILES[profile])


@functools.cache
def _dummy_hash(profile):
    # Verified against when the user is unknown, so both failures take the same time: it
    # has to cost what the real hashes of the same profile cost, hence one per profile.
    return _hasher(profile).hash(secrets.token_urlsafe(16))


def _hash_password(password):
    return _hasher(current_app.config["PASSWORD_PROFILE"]).hash(password)


def check_user_fields(username, role, region):
    errors = {}
    if not USERNAME.match(username or ""):
        errors["username"] = ["3-32 characters: lower-case letters, digits, '_', '.', '-'."]
    if role not in ROLES:
        errors["role"] = [f"Unknown role {role!r}; use one of: {', '.join(ROLES)}."]
    elif not ascii_digits(region) or len(region) not in SCOPE_DIGITS[role]:
        lengths = " or ".join(str(n) for n in SCOPE_DIGITS[role])
        errors["region"] = [f"A {role} needs a region code of {lengths} digits, got {region!r}."]
    elif len(region) >= 6:
        doc = get_db().regions.find_one({"_id": region}, {"valid_to": 1, "successor": 1})
        if doc is None:
            errors["region"] = [f"Region {region} does not exist; import it first."]
        elif retired_on(doc):
            errors["region"] = [f"Region {region} was retired on {doc['valid_to']}" + (
                f"; use {doc['successor']}, which took it over." if doc.get("successor") else ".")]
    if errors:
        raise Invalid("The user cannot be created: " + "; ".join(
            f"{k}: {v[0]}" for k, v in errors.items()), errors)


def check_password(password):
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(f"The password needs at least {MIN_PASSWORD} characters.",
                      {"password": [f"At least {MIN_PASSWORD} characters."]})


def new_password():
    """A random password for an administrator to hand over: four groups of four, about 78 bits."""
    groups = ("".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(4)) for _ in range(PASSWORD_GROUPS))
    return "-".join(groups)


def check_admin_pages(actor):
    """Refuse, audited, anyone but an administrator the administrators' pages."""
    with refusals(actor, "admin.pages", region=actor.region):
        policy.check_admin(actor)


def create_user(username, role, region, password, name=None, actor=None):
    """A new account; `actor` is the administrator making it on a page (None: an operator's command)."""
    if actor is not None:
        with refusals(actor, "user.create"):
            policy.check_manage(actor, region or "")
    check_user_fields(username, role, region)
    check_password(password)
    doc = {
        "_id": username, "role": role, "region": region, "name": name or username,
        "password": _hash_password(password), "disabled": False, "session_version": 0,
        "created_at": now(),
    }
    try:
        get_db().users.insert_one(doc)
    except DuplicateKeyError:
        raise Conflict(f"User {username} already exists.") from None
    record(actor, "user.create", detail={"username": username, "role": role, "region": region})
    return User(doc)


def list_users():
    return [User(doc) for doc in get_db().users.find({}).sort("_id", 1)]


def users_within(actor, page=1, per_page=None):
    """One page of the accounts of the administrator's region, by username."""
    with refusals(actor, "user.list"):
        policy.check_manage(actor, actor.region)
    query = {"region": {"$regex": "^" + re.escape(actor.region)}}
    return page_of(get_db().users, query, [("_id", 1)], page, per_page, User, {"password": 0})


def names(usernames):
    """{username: the name the account shows} for those of `usernames` that exist."""
    wanted = [name for name in usernames if name]
    return {doc["_id"]: doc.get("name") or doc["_id"]
            for doc in get_db().users.find({"_id": {"$in": wanted}}, {"name": 1})}


def account(actor, username):
    """The account `username`, for an administrator whose region holds it."""
    doc = get_db().users.find_one({"_id": username}, {"password": 0})
    if doc is None:
        raise NotFound(f"No user {username}.")
    user = User(doc)
    with refusals(actor, "user.read"):
        policy.check_account(actor, user)
    return user


def _update_user(username, changes, action, actor=None, check=policy.check_account):
    """Change an account; `actor` is the administrator doing it on a page, `check` their policy."""
    db = get_db()
    doc = db.users.find_one({"_id": username})
    if doc is None:
        raise NotFound(f"No user {username}.")
    if actor is not None:
        with refusals(actor, action):
            check(actor, User(doc))
    changes["session_version"] = doc.get("session_version", 0) + 1
    db.users.update_one({"_id": username}, {"$set": changes})
    # Every API token of the user ends with a disable or a new password.
    db.tokens.update_many({"username": username}, {"$set": {"revoked": True}})
    record(actor, action, detail={"username": username})


def move_users(region, to_region, move_id):
    """Give the users whose scope is `region` the scope `to_region` instead (a merger hands
    a retired township's work to its successor); their names, one audit entry each."""
    db = get_db()
    moved = []
    for doc in db.users.find({"region": region}, {"_id": 1}).sort("_id", 1):
        db.users.update_one({"_id": doc["_id"], "region": region},
                            {"$set": {"region": to_region, "former_region": region}})
        # Their tokens carry the old scope: they sign in again (web sessions read the user).
        db.tokens.update_many({"username": doc["_id"]}, {"$set": {"revoked": True}})
        record(None, "user.move", region=to_region,
               detail={"username": doc["_id"], "from": region, "to": to_region, "move": move_id})
        moved.append(doc["_id"])
    return moved


def disable_user(username, actor=None):
    _update_user(username, {"disabled": True}, "user.disable", actor, policy.check_disable)


def reset_password(username, password, actor=None):
    check_password(password)
    _update_user(username, {"password": _hash_password(password)}, "user.reset_password", actor)
    get_db().login_failures.delete_many({"username": username})


def active_user(username):
    """The active user `username`, for an operator command that acts in their name."""
    doc = get_db().users.find_one({"_id": username})
    if doc is None or doc.get("disabled"):
        raise NotFound(f"There is no active user {username}.")
    return User(doc)


def end_sessions(user):
    """Sign `user` out of every web session: each carries the version it began under."""
    get_db().users.update_one({"_id": user.username}, {"$set": {"session_version": user.session_version + 1}})
    record(user, "auth.logout")


def load_user(user_id, ip=None):
    """Session loader: the id carries the session version (see User.get_id)."""
    username, _, version = (user_id or "").partition(":")
    doc = get_db().users.find_one({"_id": username})
    if doc is None or doc.get("disabled") or str(doc.get("session_version", 0)) != version:
        return None
    return User(doc, ip)


def _wait(failures, free, at):
    """Seconds still to wait after `failures` (newest first) when `free` are allowed
    without one: a second after the last free one, doubling with each one more."""
    if len(failures) < free:
        return 0
    cap = current_app.config["LOGIN_MAX_WAIT_MINUTES"] * 60
    wait = min(2 ** (len(failures) - free), cap)
    return (failures[0]["at"] + timedelta(seconds=wait) - at).total_seconds()


def _throttle(username, ip):
    """Refuse, before the password is checked, a client that must still wait; the
    failures of this account from this address (forgotten at its next success).

    The waits grow with the failures of the account from this address, of the address
    (trying many accounts) and of the account from every address (many addresses trying
    it). The last counts only for an address that has itself failed on the account, so
    its owner's correct password from anywhere else is never refused.
    """
    db, cfg, at = get_db(), current_app.config, now()
    since = at - timedelta(minutes=cfg["LOGIN_MAX_WAIT_MINUTES"])
    free, shared = cfg["LOGIN_FREE_FAILURES"], cfg["LOGIN_FREE_FAILURES_SHARED"]

    def newest(query, free):
        # Past free + 20 failures the wait is longer than any cap: reading more changes nothing.
        return list(db.login_failures.find({**query, "at": {"$gt": since}}, {"at": 1})
                    .sort("at", -1).limit(free + 20))

    mine = newest({"username": username, "ip": ip}, free)
    waits = [_wait(mine, free, at), _wait(newest({"ip": ip}, shared), shared, at)]
    if mine:
        waits.append(_wait(newest({"username": username}, shared), shared, at))
    wait = max(waits)
    if wait > 0:
        seconds = math.ceil(wait)
        raise TooManyRequests(f"Too many wrong passwords: wait {seconds} seconds, then try again.",
                              retry_after=seconds)
    return mine


def prune_login_failures(before):
    """Drop failed logins older than `before`; the throttle only looks at recent ones."""
    return delete_in_batches(get_db().login_failures, {"at": {"$lt": before}})


def authenticate(username, password, ip):
    """The user for a correct password; Unauthorized (same message either way) if not."""
    db = get_db()
    username = (username or "").strip().lower()
    failures = _throttle(username, ip)
    doc = db.users.find_one({"_id": username})
    profile = current_app.config["PASSWORD_PROFILE"]
    hasher = _hasher(profile)
    try:
        # A hash made under another profile verifies too: it carries its own parameters.
        hasher.verify(doc["password"] if doc else _dummy_hash(profile), password or "")
        ok = doc is not None and not doc.get("disabled")
    except (VerificationError, InvalidHashError):
        ok = False
    actor = User(doc, ip) if doc else None
    if not ok:
        db.login_failures.insert_one({"username": username, "ip": ip, "at": now()})
        record(actor, "auth.login", outcome="denied", detail={"username": username})
        raise Unauthorized(BAD_LOGIN)
    if failures:  # this client's own typos; others' failures on the account still count
        db.login_failures.delete_many({"username": username, "ip": ip})
    if hasher.check_needs_rehash(doc["password"]):  # made under another profile or older parameters
        db.users.update_one({"_id": username}, {"$set": {"password": hasher.hash(password)}})
    record(actor, "auth.login")
    return actor


def _token_id(token):
    # Only the hash is stored: a leaked database holds no usable token.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user):
    """A new API token of `user`, and when it expires.

    The token carries what the services need of its user, so that a request finds both in
    one look-up. That copy stays true because every change to a user revokes all their
    tokens (`_update_user`, `move_users`); a change made while this token was being issued
    is caught by reading the user once more after the token is stored.
    """
    db = get_db()
    token = secrets.token_urlsafe(32)
    at = now()
    expires = at + timedelta(hours=current_app.config["TOKEN_HOURS"])
    token_id = _token_id(token)
    db.tokens.insert_one({
        "_id": token_id, "username": user.username, "expires_at": expires, "revoked": False, "created_at": at,
        "user": {"_id": user.username, "role": user.role, "region": user.region, "name": user.name,
                 "session_version": user.session_version},
    })
    doc = db.users.find_one({"_id": user.username}, {"disabled": 1, "session_version": 1, "role": 1, "region": 1})
    if doc is None or doc.get("disabled") or doc.get("session_version", 0) != user.session_version or (
            doc["role"], doc["region"]) != (user.role, user.region):
        db.tokens.update_one({"_id": token_id}, {"$set": {"revoked": True}})
        raise Unauthorized(BAD_LOGIN)
    return token, expires


def user_for_token(token, ip):
    doc = get_db().tokens.find_one({"_id": _token_id(token)})
    if doc is None or doc["revoked"]:
        raise Unauthorized("The token is not valid; ask for a new one at /api/v1/auth/token.")
    if doc["expires_at"] <= now():
        raise Unauthorized("The token has expired; ask for a new one at /api/v1/auth/token.")
    return User(doc["user"], ip)


def revoke_token(token):
    get_db().tokens.update_one({"_id": _token_id(token)}, {"$set": {"revoked": True}})


def prune_tokens(before):
    """Drop tokens that expired before `before`: a request with one is refused either way."""
    return delete_in_batches(get_db().tokens, {"expires_at": {"$lt": before}})
