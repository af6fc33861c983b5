"""Who may manage user accounts on the pages: administrators, for accounts within their
own region. (Operators on the server use `flask users`, which acts as the system.)"""

from healthrec.auth import roles
from healthrec.errors import Forbidden


def check_admin(actor):
    """`actor` may open the administrators' pages (accounts, regions, keys)."""
    if actor.role != roles.ADMIN:
        raise Forbidden("These pages are for administrators.")


def check_manage(actor, region):
    """`actor` may manage the accounts of `region`."""
    check_admin(actor)
    if not region.startswith(actor.region):
        raise Forbidden(f"Region {region} is outside your region {actor.region}; manage accounts within it.")


def check_account(actor, target):
    """`actor` may change the account `target` (a User)."""
    check_manage(actor, target.region)


def check_disable(actor, target):
    check_account(actor, target)
    if target.username == actor.username:
        raise Forbidden("You cannot disable your own account; ask another administrator.")
