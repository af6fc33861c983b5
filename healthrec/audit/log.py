"""Recording into the audit trail: one entry for every read and write of identifiable
data and every access-control step, refusals included. Decrypted values never go in:
entries name archives, regions and actions, and a refusal's reason is our own text."""

from contextlib import contextmanager

from healthrec import hints
from healthrec.audit import chain
from healthrec.clock import now
from healthrec.db import get_db
from healthrec.errors import Conflict, Forbidden
from healthrec.regions import cache


def record(actor, action, *, outcome="ok", archive_id=None, region=None, township=None, purpose=None, grant=None,
           detail=None):
    """Append one entry. `actor` is a User (or None for the system itself).

    The entry goes to the chain of `township`; by default that is the township managing
    `archive_id` now (its custody), else the township of `region`, else the system chain.
    """
    db = get_db()
    fields = entry_fields(actor, action, outcome=outcome, archive_id=archive_id, region=region, purpose=purpose,
                          grant=grant, detail=detail)
    return chain.append(db, fields, township or township_of(db, archive_id, region), hints.of("audit_tails"))


def entry_fields(actor, action, *, outcome="ok", archive_id=None, region=None, purpose=None, grant=None,
                 detail=None):
    """The fields of an entry, as `record` appends them."""
    return {
        "at": now(),
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


def township_of(db, archive_id, region):
    # Custody, not the code: the archive code names the village where the archive was made,
    # and a merger may have given a village another township (archives/custody.py).
    if archive_id:
        doc = db.archives.find_one({"_id": archive_id}, {"township": 1})
        if doc:
            return doc["township"]
    if region and len(region) == 12:
        doc = cache.region(region)
        if doc:
            return doc["parent"]
    return chain.chain_of(region, archive_id)


def deny(actor, action, error, *, archive_id=None, region=None, township=None, purpose=None, grant=None):
    """Record that `actor` was refused `action`, and hand back `error` to raise.

    Every domain refuses through here, so a denial is audited the same way everywhere:
    outcome "denied" with the refusal's own text as the reason.
    """
    if region is None and archive_id is None:
        region = getattr(actor, "region", None)  # the refused user's own township sees it
    record(actor, action, outcome="denied", archive_id=archive_id, region=region, township=township,
           purpose=purpose, grant=grant, detail={"reason": error.detail})
    return error


@contextmanager
def refusals(actor, action, **where):
    """Audit a refusal raised inside the block (a policy or state check) as a denial of `action`."""
    try:
        yield
    except (Forbidden, Conflict) as error:
        raise deny(actor, action, error, **where) from None
