"""Transfers of custody over HTTP (docs/api.md, "Custody and transfers")."""

from flask import request
from flask_login import current_user
from flask_smorest import Blueprint

from healthrec.custody import transfers
from schemas.common import IDEMPOTENCY_KEY
from schemas.custody import Transfer, TransferDecision, TransferIn, TransferList, TransferQuery

blp = Blueprint("custody", __name__, url_prefix="/api/v1",
                description="Transfers: an archive moves with its resident to another village")


@blp.route("/archives/<archive_id>/transfers", methods=["POST"])
@blp.arguments(TransferIn)
@blp.response(201, Transfer)
@blp.alt_response(403, description="Not the receiving side")
@blp.alt_response(404, description="No such archive")
@blp.alt_response(409, description="A transfer of this archive is open already, or the archive is closed")
@blp.alt_response(422, description="Unknown, retired or the same village; a day of moving in the future")
@blp.alt_response(200, schema=Transfer, description="An Idempotency-Key repeat: the transfer the first one asked for")
@blp.doc(parameters=[IDEMPOTENCY_KEY])
def request_transfer(body, archive_id):
    """The receiving side asks for the archive of a resident who moved to `to_village`."""
    transfer, created = transfers.request_transfer(current_user, archive_id, **body,
                                                   idempotency_key=request.headers.get("Idempotency-Key"))
    return transfer, 201 if created else 200


@blp.route("/transfers/<transfer_id>/decision", methods=["POST"])
@blp.arguments(TransferDecision)
@blp.response(200, Transfer)
@blp.alt_response(403, description="Not staff of the township managing the archive")
@blp.alt_response(409, description="Not pending (decided or run out), or the archive moved meanwhile")
def decide(body, transfer_id):
    """The releasing township confirms (custody moves now) or refuses a pending transfer."""
    return transfers.decide(current_user, transfer_id, body["decision"], body.get("note"))


@blp.route("/transfers", methods=["GET"])
@blp.arguments(TransferQuery, location="query")
@blp.response(200, TransferList)
@blp.alt_response(403, description="Supervisors and administrators: transfers are between townships and villages")
def list_transfers(query):
    """Your township's (or village's) transfers, incoming and outgoing, newest first."""
    return transfers.list_transfers(current_user, **query)


@blp.route("/transfers/<transfer_id>", methods=["GET"])
@blp.response(200, Transfer)
@blp.alt_response(403, description="Not one of the two sides")
@blp.alt_response(404, description="No such transfer")
def get_transfer(transfer_id):
    """One transfer with its status."""
    return transfers.get_transfer(current_user, transfer_id)
