"""/api/v1/audit: entries within scope, counts, chain verification; and the disclosure
report /api/v1/archives/{id}/disclosures."""

from flask_login import current_user
from flask_smorest import Blueprint

from healthrec.audit import service
from schemas.audit import ArchivePath, AuditQuery, CountQuery, Counts, Disclosures, EntryList, Verification

blp = Blueprint("audit", __name__, url_prefix="/api/v1", description="The audit trail")


@blp.route("/audit")
@blp.arguments(AuditQuery, location="query")
@blp.response(200, EntryList)
@blp.alt_response(403, description="Village doctors; supervisors asking for someone else's actions")
def entries(query):
    """Audit entries within your scope, newest first: township staff see their township's,
    supervisors their own actions, administrators all."""
    return service.list_entries(current_user, **query)


@blp.route("/audit/counts")
@blp.arguments(CountQuery, location="query")
@blp.response(200, Counts)
@blp.alt_response(403, description="Village doctors: the trail is kept by the township health centre")
def counts(query):
    """Entries per township, action and outcome within your region."""
    return service.counts(current_user, **query)


@blp.route("/audit/verify")
@blp.response(200, Verification)
@blp.alt_response(403, description="Village doctors: the trail is kept by the township health centre")
def verify():
    """Check the hash chains within your region: `ok`, or the first bad entry and why."""
    return service.verify(current_user)


@blp.route("/archives/<archive_id>/disclosures")
@blp.arguments(ArchivePath, location="path")
@blp.response(200, Disclosures)
@blp.alt_response(403, description="Not staff of the archive's township health centre")
def disclosures(path, archive_id):
    """Who has used this archive, when and why: the report to hand to the resident."""
    return service.disclosures(current_user, path["archive_id"])
