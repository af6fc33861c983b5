"""Settings read from the environment (prefix HEALTHREC_, plus MONGO_URI).

Kept free of Flask so that scripts and tests can read them alone.
"""

import os
import secrets
import warnings

from argon2 import profiles

from healthrec.regions.codes import VILLAGE_RULES

DEFAULTS = {
    "ENV": "development",
    "MONGO_URI": "mongodb://127.0.0.1:27027/",
    "DB_NAME": "healthrec",
    "SECRET_KEY": None,
    "TOKEN_HOURS": 12,
    # Wrong passwords without a wait: for one account from one address, and for one account
    # from every address or one address on every account; then the waits double, up to
    # the longest wait, which is also how long a failure counts.
    "LOGIN_FREE_FAILURES": 3,
    "LOGIN_FREE_FAILURES_SHARED": 10,
    "LOGIN_MAX_WAIT_MINUTES": 15,
    # Web sessions end after this long without a request, and this long after sign-in.
    "SESSION_IDLE_MINUTES": 30,
    "SESSION_MAX_HOURS": 12,
    "KEYS": None,
    "KEY_FILE": None,
    "CHILD_MAX_AGE": 6,
    "ACCESS_MAX_DAYS": 30,
    "BREAK_GLASS_HOURS": 4,
    "BREAK_GLASS_PER_DAY": 3,
    # 1 lets the staff member who approved an access request also record its consent: for
    # a health centre with one person to do both. Two people by default (four eyes).
    "APPROVER_MAY_RECORD_CONSENT": 0,
    "PAGE_SIZE": 50,
    "ARCHIVE_SERIAL_DIGITS": 4,
    "VILLAGE_CODES": "archive",
    "TRANSFER_DAYS": 30,
    "REGIONS_CACHE_SECONDS": 60,
    "PROXY_HOPS": 0,
    # The first calendar year of the archive programme: coverage targets rise over its
    # first three years. 2009 is when the national basic public health services began.
    "PROGRAMME_START_YEAR": 2009,
    "PASSWORD_PROFILE": "rfc_9106_low_memory",
}

# argon2id parameters by name. The cheapest one makes a hash in microseconds: it lets a
# test suite log in hundreds of times, and would let an attacker with the users
# collection try passwords as fast, so production refuses it.
PASSWORD_PROFILES = {
    "rfc_9106_low_memory": profiles.RFC_9106_LOW_MEMORY,  # argon2-cffi's recommendation
    "cheapest": profiles.CHEAPEST,
}

INTEGERS = {name for name, value in DEFAULTS.items() if isinstance(value, int)}


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def from_env(environ=None):
    """Collect settings: HEALTHREC_<NAME> wins, MONGO_URI is also read unprefixed."""
    environ = os.environ if environ is None else environ
    settings = dict(DEFAULTS)
    if environ.get("MONGO_URI"):
        settings["MONGO_URI"] = environ["MONGO_URI"]
    for name in DEFAULTS:
        raw = environ.get("HEALTHREC_" + name)
        if raw is None or raw == "":
            continue
        if name in INTEGERS:
            try:
                settings[name] = int(raw)
            except ValueError:
                raise SettingsError(f"HEALTHREC_{name} must be a whole number, got {raw!r}") from None
        else:
            settings[name] = raw
    return settings


def finalise(settings):
    """Check the combination of settings; development may invent a throw-away secret."""
    if settings["ENV"] not in ("development", "production", "testing"):
        raise SettingsError("HEALTHREC_ENV must be development, testing or production")
    if settings["ARCHIVE_SERIAL_DIGITS"] not in (4, 5):
        raise SettingsError("HEALTHREC_ARCHIVE_SERIAL_DIGITS must be 4 (16-digit archive codes, the "
                            "provincial plan) or 5 (17 digits, the national layout)")
    if settings["VILLAGE_CODES"] not in VILLAGE_RULES:
        raise SettingsError("HEALTHREC_VILLAGE_CODES must be archive (village segments 001-099 urban, 101-199 "
                            "rural, 901-999 other: the health-archive rule) or statistical (the statistical "
                            "division codes: 001-199 and 400-499 urban, 200-399 and 500-599 rural)")
    if settings["TRANSFER_DAYS"] < 1:
        raise SettingsError("HEALTHREC_TRANSFER_DAYS must be at least 1 (days a transfer request waits "
                            "for the releasing township)")
    if settings["REGIONS_CACHE_SECONDS"] < 0:
        raise SettingsError("HEALTHREC_REGIONS_CACHE_SECONDS must be 0 or more (how long a service process keeps "
                            "the regions it read)")
    for name in ("LOGIN_FREE_FAILURES", "LOGIN_FREE_FAILURES_SHARED", "LOGIN_MAX_WAIT_MINUTES",
                 "SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS"):
        if settings[name] < 1:
            raise SettingsError(f"HEALTHREC_{name} must be at least 1")
    if settings["BREAK_GLASS_PER_DAY"] < 1:
        raise SettingsError("HEALTHREC_BREAK_GLASS_PER_DAY must be at least 1 (emergency openings per clinician "
                            "and day)")
    if settings["APPROVER_MAY_RECORD_CONSENT"] not in (0, 1):
        raise SettingsError("HEALTHREC_APPROVER_MAY_RECORD_CONSENT must be 0 (another colleague records the "
                            "consent to a request one approved) or 1 (one person may do both)")
    profile = settings["PASSWORD_PROFILE"]
    if profile not in PASSWORD_PROFILES:
        raise SettingsError(f"HEALTHREC_PASSWORD_PROFILE must be one of {', '.join(PASSWORD_PROFILES)}, "
                            f"got {profile!r}")
    if settings["ENV"] == "production" and profile == "cheapest":
        raise SettingsError("HEALTHREC_PASSWORD_PROFILE=cheapest is for tests only: password hashes made with it "
                            "are cheap to crack; leave the setting out in production")
    if not settings.get("SECRET_KEY"):
        if settings["ENV"] == "production":
            raise SettingsError("HEALTHREC_SECRET_KEY must be set in production (a long random string)")
        warnings.warn(
            "HEALTHREC_SECRET_KEY is not set: using a random one, sessions end on restart",
            stacklevel=2,
        )
        settings["SECRET_KEY"] = secrets.token_urlsafe(32)
    return settings
