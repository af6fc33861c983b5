"""Users, passwords, login throttling and API tokens."""

import functools
import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from pymongo.errors import DuplicateKeyError

from healthrec.audit.log import record
from healthrec.auth.roles import ROLES, SCOPE_DIGITS
from healthrec.auth.user import User
from healthrec.clock import now
from healthrec.db import get_db
from healthrec.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthorized
from healthrec.regions.codes import ascii_digits
from healthrec.settings import PASSWORD_PROFILES

USERNAME = re.compile(r"^[a-z0-9_.-]{3,32}$")
MIN_PASSWORD = 10
BAD_LOGIN = "Wrong username or password."


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
    elif len(region) >= 6 and not get_db().regions.find_one({"_id": region}, {"_id": 1}):
        errors["region"] = [f"Region {region} does not exist; import it first."]
    if errors:
        raise Invalid("The user cannot be created: " + "; ".join(
            f"{k}: {v[0]}" for k, v in errors.items()), errors)


def check_password(password):
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(f"The password needs at least {MIN_PASSWORD} characters.",
                      {"password": [f"At least {MIN_PASSWORD} characters."]})


def create_user(username, role, region, password, name=None):
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
    record(None, "user.create", detail={"username": username, "role": role})
    return User(doc)


def list_users():
    return [User(doc) for doc in get_db().users.find({}).sort("_id", 1)]


def _update_user(username, changes, action):
    db = get_db()
    doc = db.users.find_one({"_id": username})
    if doc is None:
        raise NotFound(f"No user {username}.")
    changes["session_version"] = doc.get("session_version", 0) + 1
    db.users.update_one({"_id": username}, {"$set": changes})
    # Every API token of the user ends with a disable or a new password.
    db.tokens.update_many({"username": username}, {"$set": {"revoked": True}})
    record(None, action, detail={"username": username})


def disable_user(username):
    _update_user(username, {"disabled": True}, "user.disable")


def reset_password(username, password):
    check_password(password)
    _update_user(username, {"password": _hash_password(password)}, "user.reset_password")
    get_db().login_failures.delete_many({"username": username})


def active_user(username):
    """The active user `username`, for an operator command that acts in their name."""
    doc = get_db().users.find_one({"_id": username})
    if doc is None or doc.get("disabled"):
        raise NotFound(f"There is no active user {username}.")
    return User(doc)


def load_user(user_id, ip=None):
    """Session loader: the id carries the session version (see User.get_id)."""
    username, _, version = (user_id or "").partition(":")
    doc = get_db().users.find_one({"_id": username})
    if doc is None or doc.get("disabled") or str(doc.get("session_version", 0)) != version:
        return None
    return User(doc, ip)


def _throttle(username, ip):
    """Refuse before checking the password while an account or address is locked."""
    db, cfg, at = get_db(), current_app.config, now()
    window = timedelta(minutes=cfg["LOGIN_LOCK_MINUTES"])
    recent = list(db.login_failures.find(
        {"username": username, "at": {"$gt": at - window}}, {"at": 1}
    ).sort("at", -1).limit(cfg["LOGIN_MAX_FAILURES"]))
    if len(recent) >= cfg["LOGIN_MAX_FAILURES"]:
        wait = (recent[-1]["at"] + window - at).total_seconds()
        raise TooManyRequests(
            f"Too many failed logins for this account; try again in {int(wait // 60) + 1} minutes.",
            retry_after=max(wait, 1))
    by_ip = db.login_failures.count_documents(
        {"ip": ip, "at": {"$gt": at - timedelta(minutes=1)}})
    if by_ip >= cfg["LOGIN_IP_FAILURES_PER_MINUTE"]:
        raise TooManyRequests("Too many failed logins from this address; wait a minute.",
                              retry_after=60)


def prune_login_failures(before):
    """Drop failed logins older than `before`; the throttle only looks at recent ones."""
    return get_db().login_failures.delete_many({"at": {"$lt": before}}).deleted_count


def authenticate(username, password, ip):
    """The user for a correct password; Unauthorized (same message either way) if not."""
    db = get_db()
    username = (username or "").strip().lower()
    _throttle(username, ip)
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
    db.login_failures.delete_many({"username": username})
    if hasher.check_needs_rehash(doc["password"]):  # made under another profile or older parameters
        db.users.update_one({"_id": username}, {"$set": {"password": hasher.hash(password)}})
    record(actor, "auth.login")
    return actor


def _token_id(token):
    # Only the hash is stored: a leaked database holds no usable token.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user):
    token = secrets.token_urlsafe(32)
    expires = now() + timedelta(hours=current_app.config["TOKEN_HOURS"])
    get_db().tokens.insert_one({
        "_id": _token_id(token), "username": user.username, "expires_at": expires,
        "revoked": False, "created_at": now(),
    })
    return token, expires


def user_for_token(token, ip):
    doc = get_db().tokens.find_one({"_id": _token_id(token)})
    if doc is None or doc["revoked"]:
        raise Unauthorized("The token is not valid; ask for a new one at /api/v1/auth/token.")
    if doc["expires_at"] <= now():
        raise Unauthorized("The token has expired; ask for a new one at /api/v1/auth/token.")
    user = get_db().users.find_one({"_id": doc["username"]})
    if user is None or user.get("disabled"):
        raise Unauthorized("The account is disabled.")
    return User(user, ip)


def revoke_token(token):
    get_db().tokens.update_one({"_id": _token_id(token)}, {"$set": {"revoked": True}})
