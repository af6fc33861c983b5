"""Family-doctor teams (家庭医生团队) of a township: a lead doctor and members, each a
village doctor of one of its villages or a member of its health centre's staff.

A team is changed as a whole version at a time (If-Match), claimed like a contract. A team
that is no longer needed is made inactive: its contracts stay as they were until they end,
but no new contract is signed or renewed with it. When its township is merged into
another, the team goes with it (`follow.move_teams`).

Which township a village doctor works for is their village's current parent region, not
the township its code names: a merger or a village handed over gives it another one.
"""

from bson import ObjectId

from healthrec import idempotency
from healthrec.audit import pending
from healthrec.audit.log import refusals
from healthrec.auth.roles import TOWNSHIP_STAFF, VILLAGE_DOCTOR
from healthrec.clock import now
from healthrec.contracts import changes, policy
from healthrec.contracts.changes import TEAMS
from healthrec.db import get_db
from healthrec.errors import Invalid, NotFound, PreconditionFailed, PreconditionRequired
from healthrec.paging import page_of
from healthrec.regions import service as regions

FIELDS = ("name", "lead", "members", "active")


def present(doc):
    return {**{name: doc[name] for name in ("township", *FIELDS, "version", "created_at", "created_by",
                                            "updated_at", "updated_by")}, "id": doc["_id"]}


def load_team(team_id):
    doc = changes.load(TEAMS, team_id)
    if doc is None:
        raise NotFound(f"No family-doctor team {team_id}.")
    return doc


def team_for_contract(team_id):
    """The team `team_id`, which must be active to sign or renew with. Raises Invalid."""
    doc = changes.load(TEAMS, team_id)
    if doc is None:
        raise Invalid(f"No family-doctor team {team_id}.", {"team": ["No such team."]})
    if not doc["active"]:
        message = f"Team {doc['name']} is no longer active; choose another team of township {doc['township']}."
        raise Invalid(message, {"team": [message]})
    return doc


def township_of(user):
    """The township a clinician works in now: a township's staff their own, a village
    doctor their village's current township; None for other roles."""
    if user.role not in (TOWNSHIP_STAFF, VILLAGE_DOCTOR):
        return None
    return regions.custody_of(user.region)["township"]


def _members_problems(township, lead, members):
    """Field errors for a team's lead and members (the lead counts as a member)."""
    names = list(dict.fromkeys([lead, *members]))
    found = {doc["_id"]: doc for doc in get_db().users.find({"_id": {"$in": names}},
                                                           {"role": 1, "region": 1, "disabled": 1})}
    villages = {village["code"] for village in regions.children(township)}
    errors = {}
    for name in names:
        doc = found.get(name)
        if doc is None or doc.get("disabled"):
            problem = f"There is no active user {name}."
        elif not (doc["role"] == TOWNSHIP_STAFF and doc["region"] == township
                  or doc["role"] == VILLAGE_DOCTOR and doc["region"] in villages):
            problem = f"{name} is neither staff of township {township} nor a village doctor of its villages."
        else:
            continue
        key = "lead" if name == lead else f"members.{members.index(name)}"
        errors[key] = [problem]
    return names, errors


def create_team(user, township, name, lead, members, idempotency_key=None):
    """A new team of `township`; (team, created): created is False when an Idempotency-Key
    repeat answers the team its first use made."""
    with refusals(user, "team.create", region=township):
        policy.check_manage_teams(user, township)
    if regions.get_region(township)["level"] != "township":
        raise Invalid(f"{township} is not a township.", {"township": ["Give a 9-digit township code."]})
    members, errors = _members_problems(township, lead, members)
    if errors:
        raise Invalid("The team cannot be saved: " + "; ".join(m[0] for m in errors.values()), errors)
    claim = idempotency.claim(user, idempotency_key, "team.create", [township, name, lead, members],
                              ref=str(ObjectId()))
    made = claim and claim.repeat and changes.load(TEAMS, claim.ref)
    if made:
        return present(made), False
    at = now()
    team_id = claim.ref if claim else str(ObjectId())
    audit = pending.intent(user, "team.create", intent_id=claim and claim.id, region=township,
                           detail={"team": team_id, "members": len(members)})
    doc = changes.claim(user.username, TEAMS, team_id, 1, {
        "township": township, "name": name.strip(), "lead": lead, "members": members, "active": True,
        "created_at": at, "created_by": user.username, "updated_at": at, "updated_by": user.username},
        audit=audit)
    return present(doc), True


def get_team(user, team_id):
    doc = load_team(team_id)
    with refusals(user, "team.read", region=doc["township"]):
        policy.check_view_teams(user, doc["township"], township_of(user))
    return present(doc)


def list_teams(user, township=None, active=None, page=1, per_page=None):
    """The teams of `township`; by default those of the township the user works in."""
    works_in = township_of(user)
    township = township or works_in
    if township is None:
        raise Invalid("Say which township's teams.", {"township": ["Give a 9-digit township code."]})
    with refusals(user, "team.list", region=township):
        policy.check_view_teams(user, township, works_in)
    query = {"township": township} | ({} if active is None else {"active": active})
    return page_of(get_db()[TEAMS], query, [("_id", 1)], page, per_page, present)


def change_team(user, team_id, fields, expected_version):
    """Change a team's name, lead, members or whether it is active, at the version the
    caller last read."""
    doc = load_team(team_id)
    with refusals(user, "team.change", region=doc["township"]):
        policy.check_manage_teams(user, doc["township"])
    if expected_version is None:
        raise PreconditionRequired("Send If-Match with the ETag of your last GET of this team.")
    stale = PreconditionFailed(f"Team {team_id} has changed since you read it; GET it again and redo your change.")
    if expected_version != doc["version"]:
        raise stale
    new = {name: fields.get(name, doc[name]) for name in FIELDS}
    new["name"] = new["name"].strip()
    new["members"], errors = _members_problems(doc["township"], new["lead"], new["members"])
    if errors:
        raise Invalid("The team cannot be saved: " + "; ".join(m[0] for m in errors.values()), errors)
    changed = sorted(name for name in FIELDS if new[name] != doc[name])
    audit = pending.intent(user, "team.change", region=doc["township"], detail={"team": team_id, "fields": changed})
    try:
        stored = changes.claim(user.username, TEAMS, team_id, doc["version"] + 1,
                               {**new, "updated_at": now(), "updated_by": user.username}, audit=audit)
    except changes.Taken:
        raise stale from None
    return present(stored)

