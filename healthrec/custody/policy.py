"""Who may ask for, decide and see transfers of custody.

The receiving side asks (staff of the township health centre over the village the
resident moved to, or that village's doctor); the releasing side decides (staff of the
township health centre managing the archive now). Each check raises Forbidden with a
sentence saying who may; the services audit the refusal.
"""

from healthrec.auth.roles import TOWNSHIP_STAFF, VILLAGE_DOCTOR
from healthrec.errors import Forbidden


def serves(user, custody):
    """True when `user` is the township staff or village doctor of `custody` (custody fields)."""
    return ((user.role == TOWNSHIP_STAFF and user.region == custody["township"])
            or (user.role == VILLAGE_DOCTOR and user.region == custody["village"]))


def check_clinician(user):
    if user.role not in (TOWNSHIP_STAFF, VILLAGE_DOCTOR):
        raise Forbidden("Transfers are asked for and decided by township health centres and village doctors.")


def check_receiving_side(user, to):
    if not serves(user, to):
        raise Forbidden(f"A transfer to village {to['village']} is asked for by the receiving side: staff of "
                        f"township health centre {to['township']} or the village doctor of {to['village']}.")


def check_releasing_side(user, custody):
    if not (user.role == TOWNSHIP_STAFF and user.region == custody["township"]):
        raise Forbidden(f"Only staff of township health centre {custody['township']}, which manages the archive "
                        "now, confirm or refuse its transfer.")


def check_view(user, transfer):
    sides = ({"village": transfer["from_village"], "township": transfer["from_township"]},
             {"village": transfer["to_village"], "township": transfer["to_township"]})
    if not any(serves(user, side) for side in sides):
        raise Forbidden("A transfer is seen by the township health centres and village doctors of the two "
                        "villages it is between.")
