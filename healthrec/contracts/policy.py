"""Who may do what with family-doctor teams and contracts.

The township health centre organises its teams (家庭医生团队): its staff create and change
them. A contract is signed, renewed or terminated with the resident by the archive's own
service staff: staff of the township that manages the archive, or — as on a home visit —
the village doctor of the resident's village when they are a member of the team. Reading
a contract is reading the archive (the archives policy decides). Each check raises
Forbidden with a sentence saying who may; the services audit the refusal.
"""

from healthrec.auth.roles import SUPERVISOR, TOWNSHIP_STAFF, VILLAGE_DOCTOR
from healthrec.errors import Forbidden


def check_manage_teams(user, township):
    if not (user.role == TOWNSHIP_STAFF and user.region == township):
        raise Forbidden(f"Family-doctor teams of township {township} are set up by the staff of its "
                        "township health centre.")


def check_view_teams(user, township):
    clinician = user.role in (TOWNSHIP_STAFF, VILLAGE_DOCTOR) and (user.region[:9] == township)
    if not (clinician or (user.role == SUPERVISOR and user.covers(township))):
        raise Forbidden(f"The teams of township {township} are seen by its township health centre and "
                        "village doctors, and by supervisors of its county.")


def check_contract(user, village, team):
    """Whether `user` may sign, renew or terminate a contract of a resident of `village`
    with `team`."""
    if user.role == TOWNSHIP_STAFF and user.region == village[:9]:
        return
    if user.role == VILLAGE_DOCTOR and user.region == village and user.username in team["members"]:
        return
    raise Forbidden(f"Contracts of residents of village {village} are signed by staff of township health "
                    f"centre {village[:9]} or by the village's doctor as a member of the team "
                    f"({team['name']}).")


def check_due_list(user, township=None, village=None, team=None):
    """The renewal list of a township, a village or a team: for the township's staff, the
    village's doctor, and a team's members."""
    if township and user.role == TOWNSHIP_STAFF and user.region == township:
        return
    if village and (user.role == VILLAGE_DOCTOR and user.region == village
                    or user.role == TOWNSHIP_STAFF and user.region == village[:9]):
        return
    if team and (user.username in team["members"] or user.role == TOWNSHIP_STAFF and user.region == team["township"]):
        return
    raise Forbidden("The renewal list is for the township health centre's staff (township), the village "
                    "doctor (village) and the members of a team (team).")
