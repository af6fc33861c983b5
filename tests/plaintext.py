"""The no-plaintext proof over the whole suite: every test's database, just before it is
dropped, and every log record of the run are searched for the personal values the
factories put in play (names, ID cards, phones, addresses, guardians and contacts, places
of care) and for key-population flags stored in clear. conftest.py reports what was found
at the end of the run and fails it.

A value counts as personal once a factory has used it (`factories.PERSONAL`), so a test's
own changes to a resident (another name, another card) are searched for too."""

import logging

import bson

from healthrec.crypto import is_sealed
from tests import factories

FLAGS = "key_populations"
findings: list[str] = []


class Log(logging.Handler):
    """Keeps every log record of the run, formatted, to be searched at the end."""

    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(f"{record.name}: {record.getMessage()} {record.args!r}")


log = Log()


def scan_database(db, where):
    """Record what of `factories.PERSONAL` the documents of `db` hold in clear, and any
    plain key-population flags."""
    # A value with a lone surrogate is refused before it could be stored; its bytes
    # (surrogatepass) match nothing.
    values = {value: value.encode("utf-8", "surrogatepass") for value in factories.personal_values()}
    for name in db.list_collection_names():
        docs = list(db[name].find())
        raw = [bson.encode(doc) for doc in docs]
        everything = b"\0".join(raw)
        for value, encoded in values.items():
            if encoded in everything:
                findings.extend(f"{where}: {value!r} in clear in {name} {doc['_id']}"
                                for doc, stored in zip(docs, raw, strict=True) if encoded in stored)
        for doc in docs:
            findings.extend(f"{where}: {name} {doc['_id']} holds {path} in clear" for path in plain_flags(doc))


def plain_flags(value, path=""):
    """Dotted paths of key-population flags stored unsealed in a document."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if key == FLAGS and not is_sealed(item):
                yield here
            else:
                yield from plain_flags(item, here)
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from plain_flags(item, f"{path}.{n}")


def scan_log():
    values = factories.personal_values()
    for line in log.lines:
        findings.extend(f"log: {value!r} in {line[:200]!r}" for value in values if value in line)
