"""Who may confirm and list referrals. Reading and writing an archive's records follows
the archive's own scope (`healthrec.archives.policy`)."""

from healthrec.archives.custody import in_scope
from healthrec.auth import roles
from healthrec.errors import Forbidden

CLINICIANS = (roles.VILLAGE_DOCTOR, roles.TOWNSHIP_STAFF)


def check_receiver(user, referral, custody):
    """Only the receiving side confirms a referral's receipt.

    That is staff whose region holds the receiving region: the township health centre
    for a referral up to the township, the village doctor (or the township over them) for
    one down to a village. A hospital outside the system (a county code) returns its
    receipt slip (回执) on paper; the township staff over the resident enters it.
    """
    to_region = referral["to_region"]
    if user.role not in CLINICIANS:
        raise Forbidden("Only village doctors and township health centre staff confirm referrals.")
    if user.username == referral["author"]:
        raise Forbidden("The receiving side confirms a referral, not the doctor who sent it.")
    if user.covers(to_region):
        return
    if len(to_region) == 6 and user.role == roles.TOWNSHIP_STAFF and in_scope(user.region, custody):
        return
    raise Forbidden(f"The referral goes to region {to_region}; only staff there confirm it "
                    f"(your region is {user.region}).")


def check_incoming(user):
    if user.role not in CLINICIANS:
        raise Forbidden("Only village doctors and township health centre staff receive referrals.")
