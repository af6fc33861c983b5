"""Field encryption: AES-256-GCM under a ring of versioned keys, plus an HMAC-SHA256
blind index for equality look-ups (ID card numbers).

A sealed value is a sub-document {"k": key id, "n": nonce, "c": ciphertext+tag}. The
associated data binds it to its document id and field path, so a ciphertext copied to
another document or field does not decrypt. The field path is the value's dotted path in
the document as MongoDB writes it ("guardian.name", a list item "allergies.0"): key
rotation finds sealed values at any depth and re-seals each under that path. Keys never
come from the database.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import stat

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class KeyRingError(Exception):
    """A key is missing or wrong; the message names the key id and what to do."""


class DamagedValue(KeyRingError):
    """One sealed value does not open with its key: altered (or copied) ciphertext. The
    message names the document, field and key id, never a value."""

    def __init__(self, doc_id, field, key_id):
        super().__init__(f"{field} of {doc_id} does not decrypt with key {key_id!r}: wrong key or altered data")
        self.doc_id, self.field, self.key_id = doc_id, field, key_id


class KeyRing:
    """Keys by id; `active` encrypts new values, the others only decrypt old ones.

    JSON form (HEALTHREC_KEYS or the key file):
    {"active": "k2", "keys": {"k1": "<base64 32 bytes>", "k2": "..."}, "index_key": "<base64>"}
    """

    def __init__(self, active, keys, index_key):
        if active not in keys:
            raise KeyRingError(f"the active key {active!r} is not in the key ring")
        self.active = active
        self.keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.index_key = index_key

    @classmethod
    def from_json(cls, text):
        try:
            data = json.loads(text)
            keys = {kid: _key_bytes(value) for kid, value in data["keys"].items()}
            return cls(data["active"], keys, _key_bytes(data["index_key"]))
        except (ValueError, TypeError, KeyError) as error:
            raise KeyRingError(f"the key ring is malformed ({error}); make one with `flask keys generate`") from None

    @classmethod
    def from_settings(cls, settings):
        """The ring from HEALTHREC_KEYS or HEALTHREC_KEY_FILE; None when neither is set."""
        if settings.get("KEYS"):
            return cls.from_json(settings["KEYS"])
        if settings.get("KEY_FILE"):
            path = settings["KEY_FILE"]
            try:
                with open(path, encoding="utf-8") as handle:
                    mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
                    if mode & 0o077:
                        # Whoever else can read the ring can read every sealed value.
                        raise KeyRingError(f"the key file {path} is open to other users (mode {mode:o}); "
                                           f"make it readable by the service's user only: chmod 600 {path}")
                    return cls.from_json(handle.read())
            except OSError as error:
                raise KeyRingError(f"cannot read the key file {path}: {error.strerror}") from None
        return None

    def seal(self, value, doc_id, field):
        """Encrypt any JSON-serialisable value for `field` of document `doc_id`."""
        nonce = os.urandom(12)
        plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        cipher = self.keys[self.active].encrypt(nonce, plain, _aad(doc_id, field))
        return {"k": self.active, "n": nonce, "c": cipher}

    def unseal(self, sealed, doc_id, field):
        key = self.keys.get(sealed["k"])
        if key is None:
            raise KeyRingError(f"key {sealed['k']!r} is not in the key ring; add it back to "
                              "HEALTHREC_KEYS or HEALTHREC_KEY_FILE from your key backup")
        try:
            plain = key.decrypt(bytes(sealed["n"]), bytes(sealed["c"]), _aad(doc_id, field))
        except InvalidTag:
            raise DamagedValue(doc_id, field, sealed["k"]) from None
        return json.loads(plain)

    def blind_index(self, value):
        """Deterministic keyed hash for equality search; reveals nothing without the key."""
        return hmac.new(self.index_key, value.encode(), hashlib.sha256).hexdigest()


def is_sealed(value):
    return isinstance(value, dict) and set(value) == {"k", "n", "c"}


def generate(key_id="k1"):
    """A fresh key ring in its JSON form."""
    return json.dumps({"active": key_id, "keys": {key_id: _new_key()}, "index_key": _new_key()}, indent=2)


def add_key(text):
    """The key ring `text` with a new key made active, and that key's id.

    The old keys stay so existing values still decrypt until rotation re-seals them. The
    new id is one above the highest kN in the ring, which holds the newest (active) key,
    so the id of a key dropped after rotation is never reused for a different key. The
    index key stays: blind indexes cannot be recomputed without every plaintext.
    """
    KeyRing.from_json(text)  # refuse a malformed ring before building on it
    data = json.loads(text)
    numbers = [int(match[1]) for kid in data["keys"] if (match := re.fullmatch(r"k(\d+)", kid))]
    key_id = f"k{max(numbers, default=0) + 1}"
    data["keys"][key_id] = _new_key()
    data["active"] = key_id
    return json.dumps(data, indent=2), key_id


def _aad(doc_id, field):
    return f"{doc_id}\x1f{field}".encode()


def _new_key():
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _key_bytes(text):
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ValueError("each key must be 32 bytes (base64)")
    return raw


def keyring():
    """The key ring of the current app; refuses clearly when none is configured."""
    from flask import current_app

    ring = current_app.extensions.get("healthrec.keys")
    if ring is None:
        raise KeyRingError("no encryption keys: set HEALTHREC_KEYS or HEALTHREC_KEY_FILE "
                           "(make a ring with `flask keys generate`)")
    return ring
