"""Transfers: a resident moved to another village (of the same township, another one, or
another county), and their archive goes with them.

The receiving side asks; the releasing township confirms or refuses, or the request runs
out after HEALTHREC_TRANSFER_DAYS (its status is computed when read; nothing writes it).
On confirmation the archive's custody moves (`moves`) with its whole history: the new
village's doctor reads and writes it, the old one no longer does, and the code stays the
same. A family-doctor contract in force ends if the resident moved to another township
(contracts/follow.py). Both townships see every step in their own audit chain.

One transfer of an archive is open at a time. Each is inserted as "<archive>-<attempt>",
the attempt after the archive's last one, so of two requests made at once one lands and
the other meets its `_id` (409). A decision is claimed by inserting "<transfer>:decision"
into `custody_claims`, holding what applying it needs, so a decision whose request died
after the claim is finished by the next load of the transfer (docs/concurrency.md).
"""

from datetime import timedelta

from flask import current_app
from pymongo.errors import DuplicateKeyError

from healthrec import idempotency
from healthrec.archives import service as archives
from healthrec.audit import pending
from healthrec.audit.log import record, refusals
from healthrec.auth.roles import TOWNSHIP_STAFF
from healthrec.clock import local, now, today
from healthrec.contracts import follow as contracts
from healthrec.crypto import keyring
from healthrec.custody import moves, policy
from healthrec.db import get_db
from healthrec.errors import Conflict, DomainError, Invalid, NotFound
from healthrec.paging import page_of
from healthrec.regions import service as regions

# A pending transfer keeps a new one out until this long after it ran out: a confirmation
# checked just before the end has landed by then, so two never move one archive.
DECISION_GRACE = timedelta(minutes=5)
PURPOSE = "transfer of custody"


def effective_status(doc, at):
    # A pending transfer past expires_at has run out; nothing needs to write that down.
    if doc["status"] == "pending" and doc["expires_at"] <= at:
        return "expired"
    return doc["status"]


def side(doc, which):
    """The custody fields of the releasing ("from") or receiving ("to") side."""
    return {name: doc[f"{which}_{name}"] for name in ("village", "township", "county")}


def _intent(user, action, doc, intent_id=None):
    """The entries `_audit` appends, for the write to carry until they are (`audit.pending`)."""
    copies = [(doc["to_township"], doc["to_village"])] if doc["to_township"] != doc["from_township"] else []
    return pending.intent(user, action, intent_id=intent_id, archive_id=doc["archive_id"], region=doc["from_village"],
                          township=doc["from_township"], purpose=PURPOSE, copies=copies,
                          detail={"transfer": doc["_id"], "from": doc["from_village"], "to": doc["to_village"]})


def _audit(user, action, doc, outcome="ok"):
    """One entry in the chain of each township the transfer is between: both see it. The
    second names the first, so a disclosure report shows the step once."""
    detail = {"transfer": doc["_id"], "from": doc["from_village"], "to": doc["to_village"]}
    where = {"archive_id": doc["archive_id"], "outcome": outcome, "purpose": PURPOSE}
    first = record(user, action, region=doc["from_village"], township=doc["from_township"], detail=detail, **where)
    if doc["to_township"] != doc["from_township"]:
        record(user, action, region=doc["to_village"], township=doc["to_township"],
               detail={**detail, "copy_of": first["_id"]}, **where)


def _invalid(errors):
    return Invalid("The transfer cannot be asked for: " + "; ".join(
        f"{field}: {messages[0]}" for field, messages in sorted(errors.items())), errors)


# --- Asking ----------------------------------------------------------------------------

def request_transfer(user, archive_id, to_village, reason, moved_on, idempotency_key=None):
    """The receiving side asks for archive `archive_id` of a resident who moved to
    `to_village`; (transfer, created): created is False when an Idempotency-Key repeat
    answers the transfer its first use asked for."""
    action = "transfer.request"
    place = archives.custody(archive_id)
    where = {"archive_id": archive_id, "region": place["village"], "township": place["township"]}
    with refusals(user, action, **where):
        policy.check_clinician(user)
    regions.current(to_village, "to_village")
    db = get_db()
    archive = db.archives.find_one({"_id": archive_id}, {"status": 1, "birth_date": 1, "closed": 1})
    errors = {}
    if to_village == place["village"]:
        errors["to_village"] = [f"Village {to_village} manages this archive already; nothing needs to move."]
    if moved_on > today():
        errors["moved_on"] = ["The day of moving lies in the future; ask once the resident has moved."]
    elif moved_on.isoformat() < archive["birth_date"]:
        errors["moved_on"] = ["The day of moving is before the resident's birth date."]
    if errors:
        raise _invalid(errors)
    to = regions.custody_of(to_village)
    # Before the check for an open transfer, which the first use of the key asked for.
    claim = idempotency.claim(user, idempotency_key, action, [archive_id, to_village, reason, moved_on])
    made = claim and claim.ref and idempotency.made_before(claim, "transfers")
    if made:
        return present(roll_forward(db, made)), False
    try:
        return _ask(user, db, archive, place, to, to_village, reason, moved_on, where, claim), True
    except DomainError:
        idempotency.release(claim)
        raise


def _ask(user, db, archive, place, to, to_village, reason, moved_on, where, claim):
    action, archive_id = "transfer.request", where["archive_id"]
    with refusals(user, action, **where):
        policy.check_receiving_side(user, to)
        if archive["status"] == "closed":
            raise Conflict(f"Archive {archive_id} was closed on {archive['closed']['date']} "
                           f"({archive['closed']['reason']}); a closed archive stays where it is.")
        regions.check_settled(place["village"])
        regions.check_settled(to_village)
        last = _last(db, archive_id)
        at = now()
        if last and last["status"] == "pending" and last["expires_at"] + DECISION_GRACE > at:
            raise Conflict(f"Transfer {last['_id']} of this archive to village {last['to_village']} is still "
                           f"open: township health centre {last['from_township']} confirms or refuses it, or it "
                           f"runs out at {last['expires_at']:%Y-%m-%d %H:%M} UTC.", transfer_id=last["_id"])
        attempt = last["attempt"] + 1 if last else 1
        doc = {
            "_id": f"{archive_id}-{attempt}", "archive_id": archive_id, "attempt": attempt,
            **{f"from_{name}": value for name, value in place.items()},
            **{f"to_{name}": value for name, value in to.items()},
            "moved_on": moved_on.isoformat(), "requested_by": user.username, "requested_role": user.role,
            "requested_at": at, "expires_at": at + timedelta(days=current_app.config["TRANSFER_DAYS"]),
            "status": "pending",
        }
        doc["reason"] = keyring().seal(reason, doc["_id"], "reason")
        # Its id is known before it is written: the key names it first, so a repeat finds
        # it however far this request got.
        idempotency.made(claim, doc["_id"])
        mark = _intent(user, action, doc, claim and claim.id)
        try:
            db.transfers.insert_one({**doc, pending.MARK: mark})
        except DuplicateKeyError:
            raise Conflict("Another transfer of this archive was asked for at the same moment; "
                           "GET /api/v1/transfers shows it.") from None
    pending.settle("transfers", [doc["_id"]], mark, first=True)
    return present(doc)


def _last(db, archive_id):
    doc = db.transfers.find_one({"archive_id": archive_id}, sort=[("attempt", -1)])
    return roll_forward(db, doc) if doc else None


# --- Deciding ----------------------------------------------------------------------------

def decide(user, transfer_id, decision, note=None):
    """The releasing township confirms (custody moves now) or refuses a pending transfer."""
    db = get_db()
    doc = load(transfer_id)
    action = f"transfer.{decision}"
    place = archives.custody(doc["archive_id"])
    status = effective_status(doc, now())
    with refusals(user, action, archive_id=doc["archive_id"], region=place["village"], township=place["township"]):
        # Once decided, the releasing side is the one it was: a second confirmation by its
        # staff is told it is done, not that the archive is no longer theirs.
        policy.check_releasing_side(user, place if status == "pending" else side(doc, "from"))
        if status != "pending":
            raise Conflict(f"The transfer is {status}, and only a pending one is decided; nothing was changed.",
                           transfer_status=status)
        if place["village"] != doc["from_village"]:
            raise Conflict(f"The archive has moved to village {place['village']} since the transfer was asked "
                           "for; refuse this one and let the receiving side ask again.")
        if decision == "confirm":
            archive = db.archives.find_one({"_id": doc["archive_id"]}, {"status": 1})
            if archive["status"] == "closed":
                raise Conflict("The archive was closed after the transfer was asked for; refuse the transfer.")
            regions.check_settled(doc["from_village"])
            regions.check_settled(doc["to_village"])
        event_id = f"{transfer_id}:decision"
        event = {"_id": event_id, "transfer": transfer_id, "decision": decision, "by": user.username,
                 "at": now()}
        if note:
            event["note"] = keyring().seal(note, event_id, "note")
        mark = _intent(user, action, doc)
        try:
            db.custody_claims.insert_one({**event, pending.MARK: mark})
        except DuplicateKeyError:
            raise Conflict("Someone else decided this transfer at the same moment; reload it. "
                           "Nothing was changed.") from None
    pending.settle("custody_claims", [event_id], mark, first=True)
    doc = _apply(db, doc, event)
    if doc["decided_by"] != user.username:
        _audit(None, "transfer.refuse", doc)
        raise Conflict(_note(doc))
    return present(doc)


def _apply(db, doc, event):
    """Carry out a claimed decision; safe to repeat. The transfer as it stands after it."""
    changes = {"decided_by": event["by"], "decided_at": event["at"], "status": "refused"}
    note = keyring().unseal(event["note"], event["_id"], "note") if event.get("note") else None
    if event["decision"] == "confirm":
        try:
            moves.move(doc["archive_id"], doc["from_village"], side(doc, "to"), event["by"])
            contracts.end_for_transfer(doc, local(event["at"]).date())
            changes["status"] = "done"
        except moves.Overtaken as error:
            # Only a change outside every check gets here (custody moved after the claim):
            # the system says so rather than move the archive from where it is.
            changes["decided_by"] = "system"
            note = f"{error.detail} Ask again if the resident still needs the transfer."
    if note:
        changes["note"] = keyring().seal(note, doc["_id"], "note")
    db.transfers.update_one({"_id": doc["_id"]}, {"$set": changes})
    return {**doc, **changes}


def roll_forward(db, doc):
    """A pending transfer with its decision applied, if one was claimed."""
    if doc["status"] == "pending":
        event = db.custody_claims.find_one({"_id": f"{doc['_id']}:decision"})
        if event:
            return _apply(db, doc, event)
    return doc


def load(transfer_id):
    db = get_db()
    doc = db.transfers.find_one({"_id": transfer_id})
    if doc is None:
        raise NotFound(f"No transfer {transfer_id}.")
    return roll_forward(db, doc)


# --- Reading -------------------------------------------------------------------------

def get_transfer(user, transfer_id):
    doc = load(transfer_id)
    with refusals(user, "transfer.read", archive_id=doc["archive_id"]):
        policy.check_view(user, doc)
    record(user, "transfer.read", archive_id=doc["archive_id"], purpose=PURPOSE, detail={"transfer": transfer_id})
    return present(doc)


def list_transfers(user, direction=None, status=None, page=1, per_page=None):
    """The transfers of the caller's township (township staff) or village (village doctors),
    incoming, outgoing or both; newest first."""
    with refusals(user, "transfer.list"):
        policy.check_clinician(user)
    level = "township" if user.role == TOWNSHIP_STAFF else "village"
    sides = {"incoming": {f"to_{level}": user.region}, "outgoing": {f"from_{level}": user.region}}
    chosen = [sides[direction]] if direction else list(sides.values())
    query: dict = dict(chosen[0]) if len(chosen) == 1 else {"$or": chosen}
    at = now()
    if status:
        query.update(_status_query(status, at))
    db = get_db()
    result = page_of(db.transfers, query, [("requested_at", -1), ("_id", -1)], page, per_page,
                     lambda doc: present(roll_forward(db, doc), at))
    record(user, "transfer.list", region=user.region, purpose=PURPOSE,
           detail={"filters": [name for name, value in (("direction", direction), ("status", status)) if value],
                   "total": result["total"], "shown": [item["archive_id"] for item in result["items"]]})
    return result


def _status_query(status, at):
    if status == "pending":
        return {"status": "pending", "expires_at": {"$gt": at}}
    if status == "expired":
        return {"status": "pending", "expires_at": {"$lte": at}}
    return {"status": status}


def _note(doc):
    return keyring().unseal(doc["note"], doc["_id"], "note") if doc.get("note") else None


def present(doc, at=None):
    return {**doc, "id": doc["_id"], "status": effective_status(doc, at or now()),
            "reason": keyring().unseal(doc["reason"], doc["_id"], "reason"), "note": _note(doc)}
