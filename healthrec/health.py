"""Liveness and readiness probes for the load balancer and operators."""

from flask import Blueprint
from pymongo.errors import PyMongoError

from healthrec.db import get_db, ping
from healthrec.errors import problem

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    try:
        ping(get_db())
    except PyMongoError:
        return problem(503, "Service unavailable", "The database does not answer.",
                       {"Retry-After": "5"})
    return {"status": "ready"}
