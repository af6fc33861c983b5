"""Who may do what with access requests, consents and emergency openings.

Each check raises Forbidden (or Conflict) with a sentence saying who may; the services
audit the refusal. Requests and openings carry the village and township that managed the
archive when they were made: those are the people who decide and review them. A request
still open when the archive's custody moves follows it (custody.moves); an opening stays
with the township whose archive was opened.
"""

from healthrec.archives.custody import in_scope
from healthrec.auth.roles import ADMIN, SUPERVISOR, TOWNSHIP_STAFF, VILLAGE_DOCTOR
from healthrec.errors import Conflict, Forbidden


def staff_of(user, township):
    return user.role == TOWNSHIP_STAFF and user.region == township


def may_record_consent(user, custody):
    # The archive's own service staff: its township health centre or its village clinic.
    return staff_of(user, custody["township"]) or (user.role == VILLAGE_DOCTOR and user.region == custody["village"])


def involved(user, doc):
    return (user.username == doc["requester"] or staff_of(user, doc["township"])
            or (user.role == VILLAGE_DOCTOR and user.region == doc["village"]))


def check_request(user):
    if user.role == ADMIN:
        raise Forbidden("Administrators manage users, regions and keys and are not given clinical data.")


def check_decide(user, doc):
    if not staff_of(user, doc["township"]):
        raise Forbidden(f"Only staff of township health centre {doc['township']}, which manages this "
                        "archive, decide requests for it.")
    _not_own(user, doc)


def check_consent(user, doc, withdrawal=False, approver_may=False):
    """`approver_may`: the one who approved the request may also record the answer to it
    (a one-person health centre); otherwise that takes a second person. Anyone of the
    archive's staff may record a withdrawal, which only takes access away."""
    if not may_record_consent(user, doc):
        raise Forbidden(f"Consent is recorded by staff of township health centre {doc['township']} or a "
                        f"village doctor of village {doc['village']}.")
    _not_own(user, doc)
    if not (withdrawal or approver_may) and user.username == doc.get("decided_by"):
        raise Forbidden("You approved this request, so another colleague (township health centre staff or "
                        f"the village doctor of village {doc['village']}) must record the resident's answer; "
                        "nothing was recorded.")


def check_revoke(user, doc):
    if not staff_of(user, doc["township"]) and user.username != doc["requester"]:
        raise Forbidden(f"Only the requester or staff of township health centre {doc['township']} "
                        "revoke this request.")


def check_view(user, doc):
    if not involved(user, doc):
        raise Forbidden("Only the requester and the archive's township and village staff see this request.")


def check_enrolment_consent(user, custody):
    if not may_record_consent(user, custody):
        raise Forbidden("Enrolment consent is recorded by the archive's township health centre or village doctor.")


def check_clinician(user):
    if user.role not in (VILLAGE_DOCTOR, TOWNSHIP_STAFF):
        raise Forbidden("Break-glass is for clinicians (village doctors, township staff) treating the resident.")


def check_outside_scope(user, custody):
    if in_scope(user.region, custody):
        raise Conflict("This archive is within your own scope: open it directly.")


def check_acknowledge(user, doc):
    if not staff_of(user, doc["township"]):
        raise Forbidden(f"Emergency openings are reviewed by staff of township health centre {doc['township']}.")


def check_alerts(user):
    if user.role not in (TOWNSHIP_STAFF, SUPERVISOR):
        raise Forbidden("Alerts are for township health centre staff and supervisors.")


def check_counts(user, region):
    if user.role != SUPERVISOR or not user.covers(region):
        raise Forbidden(f"Break-glass counts are for supervisors of region {region}.")


def _not_own(user, doc):
    if user.username == doc["requester"]:
        raise Forbidden("You made this request, so another staff member must decide it and record consent.")
