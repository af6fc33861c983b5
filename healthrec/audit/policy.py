"""Who may see which part of the audit trail.

Scope follows the chains (one per township, see `chain`): township staff see their
township's chain and those of townships merged into it, supervisors the trail of their own
actions and counts for their region, administrators everything. Village doctors see none
of it.
"""

from healthrec.auth import roles
from healthrec.errors import Forbidden

NOT_FOR_VILLAGE_DOCTORS = ("The audit trail is kept by the township health centre; ask its staff for "
                           "a disclosure report of an archive.")


def entries_scope(user, actor=None, merged=()):
    """The part of the `audit` collection `user` may list, as a query; `merged` are the
    townships merged into the user's (their history came with their archives)."""
    if user.role == roles.ADMIN:
        return {}
    if user.role == roles.TOWNSHIP_STAFF:
        return {"chain": {"$in": [user.region, *merged]}} if merged else {"chain": user.region}
    if user.role == roles.SUPERVISOR:
        if actor not in (None, user.username):
            raise Forbidden("Supervisors see the trail of their own actions; for their region they see "
                            "counts (GET /api/v1/audit/counts).")
        return {"actor": user.username}
    raise Forbidden(NOT_FOR_VILLAGE_DOCTORS)


def chain_prefix(user):
    """The prefix of the chain names `user` may count and verify; None means all of them."""
    if user.role == roles.ADMIN:
        return None
    if user.role in (roles.TOWNSHIP_STAFF, roles.SUPERVISOR):
        return user.region
    raise Forbidden(NOT_FOR_VILLAGE_DOCTORS)


def check_disclosures(user, township):
    """The disclosure report is made by the township health centre managing the archive."""
    if not (user.role == roles.ADMIN or (user.role == roles.TOWNSHIP_STAFF and user.region == township)):
        raise Forbidden(f"The disclosure report of an archive is made by the health centre of township "
                        f"{township}.")
