"""Family-doctor teams and contracts over HTTP (docs/api.md)."""

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from healthrec.archives.api import if_match_version
from healthrec.contracts import service, teams
from schemas.common import IDEMPOTENCY_KEY
from schemas.contracts import (
    Contract,
    ContractsDue,
    ContractsDueQuery,
    ContractsToSign,
    ContractsToSignQuery,
    RenewIn,
    SignIn,
    Team,
    TeamChange,
    TeamIn,
    TeamList,
    TeamQuery,
    TerminateIn,
)

blp = Blueprint("contracts", __name__, url_prefix="/api/v1",
                description="Family-doctor teams and contracts (家庭医生签约)")


def with_etag(team, status=200):
    return team, status, {"ETag": f'"{team["id"]}.{team["version"]}"'}


@blp.route("/teams", methods=["POST"])
@blp.arguments(TeamIn)
@blp.response(201, Team)
@blp.alt_response(200, schema=Team, description="An Idempotency-Key repeat: the team the first one set up")
@blp.alt_response(403, description="Not staff of the team's township")
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def create_team(body):
    """Set up a family-doctor team of a township: a lead doctor and members."""
    team, created = teams.create_team(current_user, **body, idempotency_key=request.headers.get("Idempotency-Key"))
    return with_etag(team, 201 if created else 200)


@blp.route("/teams", methods=["GET"])
@blp.arguments(TeamQuery, location="query")
@blp.response(200, TeamList)
@blp.alt_response(403, description="Neither of the township, a village doctor of it, nor a supervisor of its county")
def list_teams(query):
    """The teams of a township (default: your own)."""
    return teams.list_teams(current_user, **query)


@blp.route("/teams/<team_id>", methods=["GET"])
@blp.response(200, Team)
@blp.alt_response(403, description="Neither of the team's township, a village doctor of it, nor a supervisor of "
                                   "its county")
@blp.alt_response(404, description="No such team")
def get_team(team_id):
    """One team, with its version (also as ETag)."""
    return with_etag(teams.get_team(current_user, team_id))


@blp.route("/teams/<team_id>", methods=["PATCH"])
@blp.arguments(TeamChange)
@blp.response(200, Team)
@blp.alt_response(403, description="Not staff of the team's township")
@blp.alt_response(412, description="Changed since the ETag in If-Match")
@blp.alt_response(428, description="If-Match is missing")
def change_team(body, team_id):
    """Change the name, lead, members, or make the team inactive; needs If-Match."""
    return with_etag(teams.change_team(current_user, team_id, body, if_match_version(team_id)))


@blp.route("/archives/<archive_id>/contracts", methods=["POST"])
@blp.arguments(SignIn)
@blp.response(201, Contract)
@blp.alt_response(403, description="Not the archive's township staff, nor its village doctor in the team")
@blp.alt_response(409, description="Already under a contract in force (`contract_id`), or the archive is closed")
@blp.alt_response(422, description="Field errors: the team or package does not fit, the date")
@blp.alt_response(200, schema=Contract, description="An Idempotency-Key repeat: the contract the first one signed")
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def sign(body, archive_id):
    """Sign a family-doctor contract for one year, with the resident's consent."""
    contract, created = service.sign(current_user, archive_id, **body,
                                     idempotency_key=request.headers.get("Idempotency-Key"))
    return contract, 201 if created else 200


@blp.route("/archives/<archive_id>/contracts", methods=["GET"])
@blp.response(200, Contract(many=True))
def archive_contracts(archive_id):
    """The archive's contracts, oldest first, each with its state today."""
    return service.archive_contracts(current_user, archive_id)


@blp.route("/contracts/due", methods=["GET"])
@blp.arguments(ContractsDueQuery, location="query")
@blp.response(200, ContractsDue)
@blp.alt_response(403, description="Not of that township, village or team")
@blp.alt_response(404, description="No such team")
def due(query):
    """Contracts running out within `within` days, soonest first: of a township, village or
    team (default: your own village or township)."""
    return service.due_for_renewal(current_user, **query)


@blp.route("/contracts/to-sign", methods=["GET"])
@blp.arguments(ContractsToSignQuery, location="query")
@blp.response(200, ContractsToSign)
@blp.alt_response(403, description="Not of that township or village")
def to_sign(query):
    """Residents transferred in from another township whose contract ended with the
    transfer, and who have signed none since, oldest first: of a township or village
    (default: your own)."""
    return service.to_sign(current_user, **query)


@blp.route("/contracts/<contract_id>", methods=["GET"])
@blp.response(200, Contract)
@blp.alt_response(403, description="May not read the contract's archive")
@blp.alt_response(404, description="No such contract")
def get_contract(contract_id):
    """One contract with its state today."""
    return service.get_contract(current_user, contract_id)


@blp.route("/contracts/<contract_id>/renew", methods=["POST"])
@blp.arguments(RenewIn)
@blp.response(200, Contract)
@blp.alt_response(403, description="Neither staff of the archive's township nor its village doctor in the team")
@blp.alt_response(409, description="Not in force, or not yet in its last 90 days")
def renew(body, contract_id):
    """Renew a contract for another year, with the resident's consent."""
    return service.renew(current_user, contract_id, **body)


@blp.route("/contracts/<contract_id>/terminate", methods=["POST"])
@blp.arguments(TerminateIn)
@blp.response(200, Contract)
@blp.alt_response(403, description="Neither staff of the archive's township nor its village doctor in the team")
@blp.alt_response(409, description="Already terminated or expired")
def terminate(body, contract_id):
    """End a contract for a reason; at the resident's request with their withdrawal."""
    return service.terminate(current_user, contract_id, body["reason"], body.get("date"), body.get("note"),
                             body.get("consent"))
