"""Who may see the encryption keys' status on the pages: administrators. It holds counts
and key ids only, never key material; the keys themselves are handled on the server."""

from healthrec.auth import roles
from healthrec.errors import Forbidden


def check_status(actor):
    if actor.role != roles.ADMIN:
        raise Forbidden("The encryption keys' status is shown to administrators.")
