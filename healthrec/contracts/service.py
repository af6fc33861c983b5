"""Family-doctor contracts (家庭医生签约): a resident signs with a team of their township for
a service package; the contract runs one year and is renewed a year at a time, or
terminated with a reason. The resident's consent to each signing and renewal, and their
withdrawal when they end it, go into the archive's consent log.

A resident has at most one contract in force: the n-th contract of archive A has the id
"A-nnn", and it is claimed by insert (`changes`), so two signings at the same moment
cannot both land. Whether a contract is in force is computed from its dates when read
(`rules.status_on`); nothing is written when it runs out.

A contract carries the custody fields of its archive, moved with it by transfers and
mergers like its records (custody/moves.py), and the archive's key-population flags and
birth date as they were at signing or the last renewal, so the contracted share per
village is counted from contracts alone. What a transfer or merger does to contracts and
teams beyond that is in `follow`.
"""

import re
from collections import defaultdict
from datetime import date, timedelta

from flask import current_app

from healthrec import idempotency
from healthrec.access import consents
from healthrec.archives import rules as archive_rules
from healthrec.archives import service as archives
from healthrec.archives.custody import custody_query
from healthrec.archives.policy import READ, WRITE
from healthrec.audit.log import record, refusals
from healthrec.auth.roles import TOWNSHIP_STAFF, VILLAGE_DOCTOR
from healthrec.clock import now, today
from healthrec.contracts import changes, policy, rules, teams
from healthrec.contracts.changes import CONTRACTS, TEAMS
from healthrec.crypto import keyring
from healthrec.db import get_db
from healthrec.errors import Conflict, DomainError, Invalid, NotFound
from healthrec.paging import page_in_hand, page_of
from healthrec.regions import service as regions

CONTRACT_ID = re.compile(r"^(\d{16,17})-(\d{3})$")
POPULATIONS = archive_rules.POPULATIONS
BATCH = 500


def _number(contract_id):
    """n of "A-nnn": the how-many-th contract of archive A."""
    return int(contract_id.rpartition("-")[2])


def _closed_on(archive):
    return date.fromisoformat(archive["closed"]["date"]) if archive["status"] == "closed" else None


def present(doc, archive):
    """A contract as the API answers it, with its state today."""
    note = doc.get("termination_note")
    return {
        "id": doc["_id"], "archive_id": doc["archive_id"], "village": doc["village"], "team": doc["team"],
        "package": doc["package"], "status": rules.status_on(doc, today(), _closed_on(archive)),
        **{name: date.fromisoformat(doc[name]) for name in ("signed_on", "valid_until", "ends_on")},
        "renewals": doc["renewals"], "signed_by": doc["signed_by"], "version": doc["version"],
        "terminated_on": date.fromisoformat(doc["terminated_on"]) if doc.get("terminated_on") else None,
        "termination_reason": doc.get("termination_reason"), "terminated_by": doc.get("terminated_by"),
        "termination_note": keyring().unseal(note, doc["_id"], "termination_note") if note else None,
        "created_at": doc["created_at"], "updated_at": doc["updated_at"],
    }


def _counted(archive):
    """What a contract keeps of its archive for counting, besides custody: (plain fields,
    fields to seal): birth date, and the doctor's key-population flags, sealed as the
    archive's are."""
    return {"birth_date": archive["birth_date"]}, {"key_populations": archives.doctor_flags(archive)}


def _fit(archive, team, package, day):
    """Field errors where the team or the package does not fit the resident."""
    errors = {}
    if team["township"] != archive["township"]:
        errors["team"] = [f"Team {team['name']} serves township {team['township']}, but the archive is managed "
                          f"in township {archive['township']}: choose one of its teams."]
    problem = rules.package_problem(package, date.fromisoformat(archive["birth_date"]), archive["sex"],
                                    archives.doctor_flags(archive), day, current_app.config["CHILD_MAX_AGE"])
    if problem:
        errors["package"] = [problem]
    return errors


def _invalid(errors):
    return Invalid("The contract cannot be saved: " + "; ".join(m[0] for m in errors.values()), errors)


def _refuse(access, action, message, **extra):
    """A Conflict about the contract's state, audited."""
    access.audit(action, outcome="conflict", detail={"reason": message})
    return Conflict(message, **extra)


def _load(user, contract_id, action, audit_as):
    """(contract, archive access) for `user` to `action` its archive."""
    match = CONTRACT_ID.fullmatch(contract_id)
    if not match:
        raise NotFound(f"No contract {contract_id}: a contract id is the archive code, '-' and 3 digits.")
    access = archives.archive_for(user, match.group(1), action, audit_as)
    doc = changes.load(CONTRACTS, contract_id)
    if doc is None:
        access.audit(audit_as, outcome="not_found")
        raise NotFound(f"No contract {contract_id}.")
    return doc, access


def _consent(user, archive_id, contract_id, decision, giver, step):
    giver = {name: value for name, value in giver.items() if name != "decision"}
    return consents.entry(user, archive_id, decision, giver, kind="contract", contract_id=contract_id, step=step)


# --- Signing, renewal, termination -------------------------------------------------------

def sign(user, archive_id, team, package, consent, signed_on=None, idempotency_key=None):
    """Sign a contract of the resident with `team` for `package`; `consent`: who agreed and
    how. (contract, created): created is False when an Idempotency-Key repeat answers the
    contract its first use signed."""
    access = archives.archive_for(user, archive_id, WRITE, "contract.sign")
    archive = access.archive
    team_doc = teams.team_for_contract(team)
    with refusals(user, "contract.sign", archive_id=archive_id, region=archive["village"]):
        policy.check_contract(user, access.custody, team_doc)
        regions.check_settled(archive["village"])
    # Before the check for a contract in force, which the first use of the key signed.
    claim = idempotency.claim(user, idempotency_key, "contract.sign",
                              [archive_id, team, package, consent, signed_on])
    made = claim and claim.ref and changes.load(CONTRACTS, claim.ref)
    if made:
        return present(made, archive), False
    try:
        return _sign(user, access, team, team_doc, package, consent, signed_on, claim), True
    except DomainError:
        idempotency.release(claim)
        raise


def _sign(user, access, team, team_doc, package, consent, signed_on, claim):
    archive, archive_id = access.archive, access.archive_id
    day = today()
    signed_on = signed_on or day
    errors = _fit(archive, team_doc, package, day)
    if signed_on > day:
        errors["signed_on"] = ["The signing day lies in the future."]
    elif rules.term_from(signed_on) < day:
        errors["signed_on"] = [f"A contract signed on {signed_on} ran out on {rules.term_from(signed_on)}; "
                               "sign with today's date."]
    latest = get_db()[CONTRACTS].find_one({"archive_id": archive_id}, {"_id": 1}, sort=[("_id", -1)])
    latest = latest and changes.load(CONTRACTS, latest["_id"])
    if latest and rules.status_on(latest, day) == "valid":
        raise _refuse(access, "contract.sign", f"The resident is under contract {latest['_id']} until "
                      f"{latest['valid_until']}; renew that one instead.", contract_id=latest["_id"])
    if latest and signed_on.isoformat() <= latest["ends_on"]:
        errors["signed_on"] = [f"Contract {latest['_id']} covered the resident until {latest['ends_on']}; "
                               "a new one starts after that."]
    if errors:
        raise _invalid(errors)
    contract_id = f"{archive_id}-{_number(latest['_id']) + 1 if latest else 1:03d}"
    valid_until = rules.term_from(signed_on).isoformat()
    at = now()
    counted, flags = _counted(archive)
    doc = {"archive_id": archive_id, **access.custody, **counted, "team": team, "package": package,
           "signed_on": signed_on.isoformat(), "valid_until": valid_until, "ends_on": valid_until, "renewals": [],
           "signed_by": user.username, "created_at": at, "updated_at": at, "updated_by": user.username}
    # The contract's number is known before it is claimed: the key names it first, so a
    # repeat finds it however far this request got.
    idempotency.made(claim, contract_id)
    audit = access.intent("contract.sign", detail={"contract": contract_id, "team": team, "package": package},
                          intent_id=claim and claim.id)
    try:
        stored = changes.claim(user.username, CONTRACTS, contract_id, 1, doc, flags,
                               consent=_consent(user, archive_id, contract_id, "granted", consent, "sign"),
                               audit=audit)
    except changes.Taken as taken:
        raise _refuse(access, "contract.sign", f"Contract {contract_id} was signed for this resident at the "
                      "same moment; reload the archive's contracts.", contract_id=taken.current["_id"]) from None
    # A transfer confirmed meanwhile moved the archive's contracts before this one existed.
    stored.update(archives.follow_custody(CONTRACTS, archive_id, [contract_id], access.custody))
    return present(stored, archive)


def renew(user, contract_id, consent, package=None):
    """Renew a contract in force for another year, in its last RENEWAL_WINDOW."""
    doc, access = _load(user, contract_id, WRITE, "contract.renew")
    archive = access.archive
    team = teams.load_team(doc["team"])
    with refusals(user, "contract.renew", archive_id=archive["_id"], region=archive["village"]):
        policy.check_contract(user, access.custody, team)
        regions.check_settled(archive["village"])
    day = today()
    status = rules.status_on(doc, day)
    valid_until = date.fromisoformat(doc["valid_until"])
    if status != "valid":
        raise _refuse(access, "contract.renew", f"Contract {contract_id} is {status}; sign a new contract instead.",
                      contract_status=status)
    if team["township"] != archive["township"]:
        # The village was handed to another township (`flask custody move`): the contract
        # runs on with its team, but a new year is one with the township serving it now.
        raise _refuse(access, "contract.renew", f"Team {team['name']} is of township {team['township']}, and the "
                      f"resident's village is served by township {archive['township']} now: terminate this "
                      "contract or let it run out, and sign one with a team of that township.",
                      contract_status=status)
    if not team["active"]:
        raise _refuse(access, "contract.renew", f"Team {team['name']} is no longer active: terminate this contract "
                      "(team_dissolved) and sign one with another team.", contract_status=status)
    if valid_until - day > rules.RENEWAL_WINDOW:
        raise _refuse(access, "contract.renew", f"Contract {contract_id} runs until {valid_until}; it can be renewed "
                      f"from {valid_until - rules.RENEWAL_WINDOW} on.", contract_status=status)
    package = package or doc["package"]
    errors = _fit(archive, team, package, day)
    if errors:
        raise _invalid(errors)
    until = rules.term_from(valid_until + rules.ONE_DAY).isoformat()
    renewal = {"on": day.isoformat(), "by": user.username, "valid_until": until, "package": package}
    counted, flags = _counted(archive)
    fields = {**counted, "package": package, "valid_until": until, "ends_on": until,
              "renewals": [*doc["renewals"], renewal], "updated_at": now(), "updated_by": user.username}
    try:
        stored = changes.claim(user.username, CONTRACTS, contract_id, doc["version"] + 1, fields, flags,
                               consent=_consent(user, archive["_id"], contract_id, "granted", consent, "renew"),
                               audit=access.intent("contract.renew",
                                                   detail={"contract": contract_id, "valid_until": until}))
    except changes.Taken:
        raise _refuse(access, "contract.renew", f"Contract {contract_id} was changed at the same moment; "
                      "reload it. Nothing was changed.") from None
    return present(stored, archive)


def terminate(user, contract_id, reason, on=None, note=None, consent=None):
    """End a contract from day `on` (default today) for `reason`; at the resident's request
    with their withdrawal (`consent`), appended to the consent log."""
    doc, access = _load(user, contract_id, READ, "contract.terminate")
    archive = access.archive
    with refusals(user, "contract.terminate", archive_id=archive["_id"], region=archive["village"]):
        policy.check_contract(user, access.custody, changes.load(TEAMS, doc["team"]))
    day = today()
    on = on or day
    status = rules.status_on(doc, day, _closed_on(archive))
    if status in ("terminated", "expired"):
        raise _refuse(access, "contract.terminate", f"Contract {contract_id} is already {status}.",
                      contract_status=status)
    if on > day:
        raise _invalid({"date": ["The termination day lies in the future; record it on the day."]})
    if on.isoformat() < doc["signed_on"]:
        raise _invalid({"date": [f"The contract was signed on {doc['signed_on']}, after this day."]})
    fields = {"terminated_on": on.isoformat(), "termination_reason": reason, "terminated_by": user.username,
              "ends_on": rules.ends_on(date.fromisoformat(doc["valid_until"]), on).isoformat(),
              "updated_at": now(), "updated_by": user.username}
    withdrawal = consent and _consent(user, archive["_id"], contract_id, "withdrawn", consent, "terminate")
    try:
        stored = changes.claim(user.username, CONTRACTS, contract_id, doc["version"] + 1, fields,
                               secrets={"termination_note": note} if note else None, consent=withdrawal,
                               audit=access.intent("contract.terminate",
                                                   detail={"contract": contract_id, "reason": reason}))
    except changes.Taken:
        raise _refuse(access, "contract.terminate", f"Contract {contract_id} was changed at the same moment; "
                      "reload it. Nothing was changed.") from None
    return present(stored, archive)


# --- Reading -----------------------------------------------------------------------------

def get_contract(user, contract_id):
    doc, access = _load(user, contract_id, READ, "contract.read")
    access.audit("contract.read", detail={"contract": contract_id})
    return present(doc, access.archive)


def archive_contracts(user, archive_id):
    """Every contract of an archive, oldest first."""
    access = archives.archive_for(user, archive_id, READ, "contract.list")
    ids = [doc["_id"] for doc in get_db()[CONTRACTS].find({"archive_id": archive_id}, {"_id": 1}).sort("_id", 1)]
    found = [present(changes.load(CONTRACTS, contract_id), access.archive) for contract_id in ids]
    access.audit("contract.list", detail={"contracts": ids})
    return found


def _work_list(user, action, township=None, village=None, team=None):
    """(query, region) of the renewal or signing list of a team, a village or a township
    (default: the caller's own village or township), once the policy allows it. A village's
    township is the one it belongs to now, and the query is on the contracts' custody."""
    team_doc = teams.load_team(team) if team else None
    if not (township or village or team_doc):
        township = user.region if user.role == TOWNSHIP_STAFF else None
        village = user.region if user.role == VILLAGE_DOCTOR else None
    if team_doc:
        with refusals(user, action, region=team_doc["township"]):
            policy.check_work_list(user, team=team_doc)
        return {"team": team}, team_doc["township"]
    field, region = ("village", village) if village else ("township", township)
    if not region:
        raise Invalid("Say whose list: township, village or team.",
                      {"township": ["Give a township, a village or a team."]})
    try:
        place = regions.custody_of(region)
    except NotFound:
        message = f"There is no {field} {region}; check the code."
        raise Invalid(message, {field: [message]}) from None
    with refusals(user, action, region=region):
        policy.check_work_list(user, place=place)
    return {field: region}, region


def due_for_renewal(user, township=None, village=None, team=None, within=30, page=1, per_page=None):
    """Contracts in force that run out within `within` days, soonest first, of a township,
    a village or a team (default: the caller's own village or township). Closed archives'
    contracts are listed too, marked, to be terminated."""
    query, region = _work_list(user, "contract.due", township, village, team)
    day = today()
    query["ends_on"] = {"$gte": day.isoformat(), "$lte": (day + timedelta(days=within)).isoformat()}
    result = page_of(get_db()[CONTRACTS], query, [("ends_on", 1), ("_id", 1)], page, per_page, lambda doc: doc)
    shown = _archives_of(result["items"])
    result["items"] = [{
        "id": doc["_id"], "archive_id": doc["archive_id"], "name": shown[doc["archive_id"]]["name"],
        "archive_status": shown[doc["archive_id"]]["status"], "village": doc["village"], "team": doc["team"],
        "package": doc["package"], "valid_until": date.fromisoformat(doc["valid_until"]),
        "days_left": (date.fromisoformat(doc["valid_until"]) - day).days,
    } for doc in result["items"]]
    record(user, "contract.due", region=region, detail={
        "total": result["total"], "shown": [item["archive_id"] for item in result["items"]]})
    return result


def to_sign(user, township=None, village=None, page=1, per_page=None):
    """Residents who came from another township by a transfer that ended their contract
    there (follow.end_for_transfer), and who have signed none since: the receiving side's
    signing work, for as long as the year they had signed for would have run. Oldest
    transfer first; closed archives are left out."""
    query, region = _work_list(user, "contract.to_sign", township, village)
    day = today()
    query.update({"termination_reason": rules.TRANSFERRED, "valid_until": {"$gte": day.isoformat()}})
    db = get_db()
    ended = list(db[CONTRACTS].find(query).sort([("ends_on", 1), ("_id", 1)]))
    newest: dict[str, int] = {}
    for start in range(0, len(ended), BATCH):
        batch = sorted({doc["archive_id"] for doc in ended[start:start + BATCH]})
        for doc in db[CONTRACTS].find({"archive_id": {"$in": batch}}, {"archive_id": 1}):
            newest[doc["archive_id"]] = max(newest.get(doc["archive_id"], 0), _number(doc["_id"]))
    ended = [doc for doc in ended if newest[doc["archive_id"]] == _number(doc["_id"])]
    shown = _archives_of(ended)
    waiting = [{
        "id": doc["_id"], "archive_id": doc["archive_id"], "name": shown[doc["archive_id"]]["name"],
        "village": doc["village"], "team": doc["team"], "package": doc["package"],
        **{name: date.fromisoformat(doc[name]) for name in ("terminated_on", "valid_until")},
    } for doc in ended if shown[doc["archive_id"]]["status"] == "open"]
    result = page_in_hand(waiting, page, per_page)
    record(user, "contract.to_sign", region=region, detail={
        "total": result["total"], "shown": [item["archive_id"] for item in result["items"]]})
    return result


def _archives_of(contracts):
    """{archive id: summary} of the contracts' archives, asked by the custody they had at
    signing (an indexed equality); one that has moved since is asked for alone."""
    wanted = defaultdict(set)
    for doc in contracts:
        wanted[doc["township"]].add(doc["archive_id"])
    db, found = get_db(), {}
    for township, ids in wanted.items():
        for doc in db.archives.find({"township": township, "_id": {"$in": sorted(ids)}},
                                    dict.fromkeys(archives.SUMMARY, 1)):
            found[doc["_id"]] = archives.summary(doc)
    for archive_id in {doc["archive_id"] for doc in contracts} - set(found):
        found[archive_id] = archives.summary(db.archives.find_one({"_id": archive_id}))
    return found


# --- For the indicators --------------------------------------------------------------------

def contracted_by_village(region, as_of):
    """Residents under a contract in force on `as_of` per village of `region` (a village,
    township, county or higher code), for the contract rate 签约率 = contracted / resident
    population: {village: {"contracted": n, "key_populations": {population: n}}}, villages
    with none left out. Key populations count as the contracts recorded them at signing or
    renewal; elderly and children by age on `as_of`. Not audited: counts name nobody.

    Two reads, each led by an equality on the custody field: the contracts in force, whose
    sealed flags are opened here (the server cannot group by them), and the archives closed
    by `as_of` (a death, a move), whose contracts have ended and are left out.
    """
    day = as_of.isoformat()
    base = {**custody_query(region), "signed_on": {"$lte": day}, "ends_on": {"$gte": day}}
    child_max = current_app.config["CHILD_MAX_AGE"]
    counts: dict[str, dict] = defaultdict(lambda: {"contracted": 0, "key_populations": dict.fromkeys(POPULATIONS, 0)})
    db, ring = get_db(), keyring()
    closed = {doc["_id"] for doc in db.archives.find(
        {**custody_query(region), "status": "closed", "closed.date": {"$lte": day}}, {"_id": 1})}
    for doc in db[CONTRACTS].find(base, {"village": 1, "archive_id": 1, "key_populations": 1, "birth_date": 1}):
        if doc["archive_id"] in closed:
            continue
        flags = ring.unseal(doc["key_populations"], doc["_id"], "key_populations") if "key_populations" in doc else []
        derived = archive_rules.derived_populations(date.fromisoformat(doc["birth_date"]), as_of, child_max)
        for population in (None, *flags, *derived):
            _add(counts[doc["village"]], population, 1)
    return dict(counts)


def _add(village, population, n):
    if population is None:
        village["contracted"] += n
    else:
        village["key_populations"][population] += n
