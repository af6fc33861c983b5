"""The audit log: one entry for every read and write of identifiable data and every
access-control step. Entries are only ever appended; decrypted values never go in."""

from datetime import UTC, datetime

from bson import ObjectId


def record(db, actor, action, *, outcome="ok", archive_id=None, region=None,
           purpose=None, grant=None, detail=None):
    """Append one entry. `actor` is a User (or None for the system itself)."""
    entry = {
        "_id": ObjectId(),
        "at": datetime.now(UTC),
        "actor": getattr(actor, "username", "system"),
        "role": getattr(actor, "role", "system"),
        "ip": getattr(actor, "ip", None),
        "action": action,
        "outcome": outcome,
        "archive_id": archive_id,
        "region": region,
        "purpose": purpose,
        "grant": grant,
        "detail": detail,
    }
    db.audit.insert_one(entry)
    return entry
