"""The consent log over the API: reading an archive's log (for whoever may read the
archive) and appending enrolment consents after the archive was created."""

from bson import ObjectId

from healthrec import idempotency
from healthrec.access import consents, policy
from healthrec.archives import service as archives
from healthrec.archives.policy import READ
from healthrec.audit.log import refusals
from healthrec.db import get_db


def consent_log(user, archive_id):
    """Every consent entry of an archive, oldest first."""
    access = archives.archive_for(user, archive_id, READ, "consent.read")
    docs = get_db().consents.find({"archive_id": archive_id}).sort("at", 1)
    entries = [consents.present(doc) for doc in docs]
    access.audit("consent.read", detail={"entries": len(entries)})
    return entries


def log_enrolment_consent(user, archive_id, decision, idempotency_key=None, **giver):
    """Append the resident's consent to (or refusal or withdrawal of) keeping their archive,
    e.g. when a resident withdraws; (entry, created): created is False when an
    Idempotency-Key repeat answers the entry its first use appended."""
    place = archives.custody(archive_id)
    with refusals(user, f"consent.enrolment_{decision}", archive_id=archive_id, region=place["village"],
                  township=place["township"]):
        policy.check_enrolment_consent(user, place)
    claim = idempotency.claim(user, idempotency_key, "consent.enrolment", [archive_id, decision, giver],
                              ref=str(ObjectId()))
    made = idempotency.made_before(claim, "consents")
    if made:
        return consents.present(made), False
    return consents.append_enrolment(user, archive_id, place["village"], decision, entry_id=claim and claim.ref,
                                     intent_id=claim and claim.id, **giver), True
