"""Contracts and teams follow custody (archives/custody.py).

A family-doctor contract is with a team of the township that serves the resident, and
every contract carries its archive's custody fields, which move with the archive like
its records' (custody/moves.py). Beyond that:

- A **transfer** to a village of another township ends the contract in force on the day
  the releasing township confirms it, with reason "transferred": the team that signed it
  no longer serves the resident. The end is the contract's next version, claimed like
  any termination (changes.py), and is written into the audit chains of both townships.
  The resident then stands on the receiving side's signing list (`service.to_sign`). A
  transfer within one township leaves the contract in force.
- A **merger** hands the merged township's teams to the township it is merged into, so
  their contracts run on and are renewed there. A single village handed to another
  township leaves the teams where they are: its residents' contracts run until they end,
  and the new township signs the next ones.

Both are safe to repeat: a transfer decision is rolled forward, and a merger resumed, by
calling them again.
"""

from datetime import date

from healthrec.audit.log import record
from healthrec.clock import now
from healthrec.contracts import changes, rules
from healthrec.contracts.changes import CONTRACTS, TEAMS
from healthrec.db import get_db
from healthrec.errors import Conflict

SYSTEM = "system"
# A claim retries when someone changes the same contract or team at that moment; each
# retry reads it again.
ATTEMPTS = 5


def end_for_transfer(transfer, day):
    """End the contract in force of the archive of `transfer` (confirmed, between two
    townships) from `day` on, and audit it in both townships' chains."""
    if transfer["to_township"] == transfer["from_township"]:
        return
    db = get_db()
    for _attempt in range(ATTEMPTS):
        latest = db[CONTRACTS].find_one({"archive_id": transfer["archive_id"]}, {"_id": 1}, sort=[("_id", -1)])
        doc = latest and changes.load(CONTRACTS, latest["_id"])
        if doc and doc.get("transfer") == transfer["_id"]:
            break  # ended by this transfer already: a decision rolled forward again
        if doc is None or rules.status_on(doc, day) != "valid":
            return
        ends_on = rules.ends_on(date.fromisoformat(doc["valid_until"]), day)
        try:
            doc = changes.claim(SYSTEM, CONTRACTS, doc["_id"], doc["version"] + 1, {
                "terminated_on": day.isoformat(), "termination_reason": rules.TRANSFERRED, "terminated_by": SYSTEM,
                "transfer": transfer["_id"], "ends_on": ends_on.isoformat(), "updated_at": now(),
                "updated_by": SYSTEM})
            break
        except changes.Taken:
            continue
    else:
        raise Conflict(f"The contract of archive {transfer['archive_id']} kept changing while transfer "
                       f"{transfer['_id']} ended it; load the transfer again to finish.")
    _audit_once(db, transfer, doc)


def _audit_once(db, transfer, doc):
    """One entry in each township's chain, the second naming the first, as transfers do;
    a repeat writes only what is missing."""
    written = {entry["chain"]: entry for entry in db.audit.find(
        {"archive_id": transfer["archive_id"], "action": "contract.terminate", "detail.transfer": transfer["_id"]},
        {"chain": 1})}
    detail = {"contract": doc["_id"], "reason": rules.TRANSFERRED, "transfer": transfer["_id"],
              "from": transfer["from_village"], "to": transfer["to_village"]}
    first = written.get(transfer["from_township"]) or record(
        None, "contract.terminate", archive_id=transfer["archive_id"], region=transfer["from_village"],
        township=transfer["from_township"], detail=detail)
    if transfer["to_township"] not in written:
        record(None, "contract.terminate", archive_id=transfer["archive_id"], region=transfer["to_village"],
               township=transfer["to_township"], detail={**detail, "copy_of": first["_id"]})


def move_teams(from_township, to_township, move):
    """Hand every team of `from_township` to `to_township` for merger `move`: the team's
    next version, so an ETag read before no longer fits. Its `team.move` entry in the
    receiving township's chain is written first and never twice, so a run that dies in
    between leaves an entry whose team the next run moves."""
    db = get_db()
    for doc in db[TEAMS].find({"township": from_township}, {"_id": 1}).sort("_id", 1):
        team_id = doc["_id"]
        if db.audit.find_one({"chain": to_township, "action": "team.move", "detail.team": team_id,
                              "detail.move": move}, {"_id": 1}) is None:
            record(None, "team.move", region=to_township, township=to_township,
                   detail={"team": team_id, "from": from_township, "to": to_township, "move": move})
        _hand_over(team_id, from_township, to_township)


def _hand_over(team_id, from_township, to_township):
    for _attempt in range(ATTEMPTS):
        team = changes.load(TEAMS, team_id)
        if team["township"] != from_township:
            return
        try:
            changes.claim(SYSTEM, TEAMS, team_id, team["version"] + 1,
                          {"township": to_township, "updated_at": now(), "updated_by": SYSTEM})
            return
        except changes.Taken:
            continue
    raise Conflict(f"Team {team_id} kept changing while it was handed to township {to_township}; run the merger "
                   "again to finish.")
