"""Reading service records: an archive's timeline, one record with its history, and the
record as the API answers it. Every read goes through the archive's scope and is audited
with the ids shown."""

from datetime import date

from healthrec.archives import service as archives
from healthrec.archives.policy import READ
from healthrec.archives.rules import age_on
from healthrec.crypto import keyring
from healthrec.db import get_db
from healthrec.errors import NotFound
from healthrec.paging import page_of
from healthrec.records import alerts, kinds


def born_on(archive):
    """The birth date of an archive document."""
    return date.fromisoformat(archive["birth_date"])


def content_of(doc):
    """The form's own fields of a record document."""
    return {name: value for name, value in doc.items() if name not in kinds.META}


def present(doc, born):
    """A record (plaintext) of a resident born on `born` as the API answers it: its form
    plus who, when and which version, and what it alerts to (schemas.records.envelopes
    picks the fields)."""
    age = age_on(born, date.fromisoformat(doc["date"]))
    return {**doc, "id": doc["record_id"], "alerts": alerts.alerts(doc, age)}


def unseal(ring, doc):
    """A stored record with its sealed fields, and an amendment's reason, decrypted."""
    doc = kinds.unseal(ring, doc)
    if isinstance(doc.get("change", {}).get("reason"), dict):
        doc["change"] = {**doc["change"], "reason": ring.unseal(doc["change"]["reason"], doc["_id"], "change.reason")}
    return doc


def latest(archive_id, record_id):
    doc = get_db().records.find_one({"record_id": record_id, "archive_id": archive_id}, sort=[("version", -1)])
    if doc is None:
        raise NotFound(f"Archive {archive_id} has no record {record_id}.")
    return doc


def timeline(user, archive_id, kind=None, population=None, since=None, history=False, page=1, per_page=None):
    """One page of an archive's records, newest first; only current versions unless `history`."""
    access = archives.archive_for(user, archive_id, READ, "record.list")
    query = {"archive_id": archive_id}
    if not history:
        query["current"] = True
    if kind:
        query["kind"] = kind
    if population:
        query["population"] = population
    if since:
        query["date"] = {"$gte": since.isoformat()}
    ring, born = keyring(), born_on(access.archive)
    # Within a day, the `_id` (an ObjectId, then the version) keeps the order of writing.
    result = page_of(get_db().records, query, [("date", -1), ("_id", -1)], page, per_page,
                     lambda doc: present(unseal(ring, doc), born), whole=True)
    filters = [name for name, value in (("kind", kind), ("population", population), ("since", since),
                                        ("history", history)) if value]
    access.audit("record.list", detail={"filters": filters, "total": result["total"],
                                        "shown": [f"{item['id']}.{item['version']}" for item in result["items"]]})
    return result


def get_record(user, archive_id, record_id):
    """The current version of a record, with every earlier version under `history`."""
    access = archives.archive_for(user, archive_id, READ, "record.read")
    ring = keyring()
    docs = list(get_db().records.find({"record_id": record_id, "archive_id": archive_id}).sort("version", -1))
    if not docs:
        access.audit("record.read", outcome="not_found", detail={"record": record_id})
        raise NotFound(f"Archive {archive_id} has no record {record_id}.")
    born = born_on(access.archive)
    versions = [present(unseal(ring, doc), born) for doc in docs]
    access.audit("record.read", detail={"record": record_id, "versions": len(versions)})
    return {**versions[0], "history": versions[1:]}


