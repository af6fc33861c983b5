"""Who may do what with an archive: the one place that decides.

The answer comes from the user's jurisdiction (a region-code prefix); where that says no
to a read, an active access grant or break-glass opening for the archive may say yes, and
`authorize` returns it so every use is audited with the request id.
"""

from dataclasses import dataclass

from healthrec.access.grants import active_grant
from healthrec.auth import roles
from healthrec.errors import Forbidden

CREATE, READ, WRITE, REVIEW, IMPORT = "create", "read", "write", "review", "import"

# IMPORT brings in archives kept on paper (`flask archives import`). Administrators may
# run it for their region: it writes what the county already holds and shows them none of it.
ALLOWED = {
    roles.VILLAGE_DOCTOR: {CREATE, READ, WRITE, IMPORT},
    roles.TOWNSHIP_STAFF: {CREATE, READ, WRITE, REVIEW, IMPORT},
    roles.ADMIN: {IMPORT},
}

HOW_TO_REQUEST = ("file an access request (POST /api/v1/access-requests) with the township health "
                  "centre that manages it; it can be used once the centre approves and the resident "
                  "or their guardian consents.")


@dataclass(frozen=True)
class Access:
    """Why a use is allowed, recorded with each audit entry of it."""

    purpose: str
    grant: str | None = None  # the access request that allowed it, when not jurisdiction


JURISDICTION = Access("jurisdiction")


def authorize(user, action, region, archive_id=None):
    """The Access for `user` doing `action` on archive `archive_id` of village `region`
    (or, for a search, on the archives under the region prefix `region`).

    Where jurisdiction refuses to read one archive, the user's active grant for it (an
    approved and consented access request, or a break-glass opening) allows it.
    Raises Forbidden with a detail that says what the user can do instead.
    """
    try:
        return _by_jurisdiction(user, action, region, archive_id)
    except Forbidden:
        grant = action == READ and archive_id and active_grant(user, archive_id)
        if not grant:
            raise
        return Access(grant.purpose, grant.id)


def _by_jurisdiction(user, action, region, archive_id):
    if user.role == roles.ADMIN and action != IMPORT:
        raise Forbidden("Administrators manage users, regions and keys; they do not see resident archives.")
    target = f"archive {archive_id}" if archive_id else f"the archives of {region}"
    if user.role == roles.SUPERVISOR and action != IMPORT:
        raise Forbidden(f"Supervisors see indicators, not identifiable archives. To use {target}, "
                        + HOW_TO_REQUEST)
    if action not in ALLOWED.get(user.role, ()):
        if action == REVIEW:
            raise Forbidden("Only township health centre staff review archives.")
        raise Forbidden(f"The role {user.role} cannot {action} archives.")
    if not user.covers(region):
        if action in (CREATE, IMPORT):
            raise Forbidden(f"You can {action} archives only in villages within your region {user.region}; "
                            f"{region} is outside it.")
        raise Forbidden(f"{region} is outside your region {user.region}. To use {target}, " + HOW_TO_REQUEST)
    return JURISDICTION
