"""Liveness and readiness probes for the load balancer and operators."""

from flask import Blueprint
from pymongo.errors import PyMongoError

from healthrec.db import get_db, ping
from healthrec.errors import from_database_down

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    try:
        ping(get_db())
    except PyMongoError as error:
        return from_database_down(error)
    return {"status": "ready"}
