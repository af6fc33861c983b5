"""Who may import regions and populations on the pages: administrators, each row within
their own region. (Operators on the server use `flask regions import`.)"""

from healthrec.auth import roles
from healthrec.errors import Forbidden


def check_import(actor):
    if actor.role != roles.ADMIN:
        raise Forbidden("Regions and populations are imported by administrators.")


def outside(actor, code):
    """Why row `code` may not be imported by `actor`, or None."""
    if not code.startswith(actor.region):
        return f"region {code} is outside your region {actor.region}"
    return None
