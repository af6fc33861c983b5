"""Who may do what with family-doctor teams and contracts.

The township health centre organises its teams (家庭医生团队): its staff create and change
them. A contract is signed, renewed or terminated with the resident by the archive's own
service staff: staff of the township that manages the archive, or — as on a home visit —
the village doctor of the resident's village when they are a member of the team. Reading
a contract is reading the archive (the archives policy decides). Each check raises
Forbidden with a sentence saying who may; the services audit the refusal.

Townships are never read off codes here: after a merger a village's code names a township
that no longer serves it. The services hand in stored custody — an archive's custody
fields, a region's custody (`regions.custody_of`: a village's township is its current
parent) — as `place`, and the township a user works in now as `works_in`.
"""

from healthrec.auth.roles import SUPERVISOR, TOWNSHIP_STAFF, VILLAGE_DOCTOR
from healthrec.errors import Forbidden


def check_manage_teams(user, township):
    if not (user.role == TOWNSHIP_STAFF and user.region == township):
        raise Forbidden(f"Family-doctor teams of township {township} are set up by the staff of its "
                        "township health centre.")


def check_view_teams(user, township, works_in):
    """`works_in`: the township `user` works in now (see teams.township_of)."""
    clinician = user.role in (TOWNSHIP_STAFF, VILLAGE_DOCTOR) and works_in == township
    if not (clinician or (user.role == SUPERVISOR and user.covers(township))):
        raise Forbidden(f"The teams of township {township} are seen by its township health centre and "
                        "village doctors, and by supervisors of its county.")


def check_contract(user, place, team):
    """Whether `user` may sign, renew or terminate a contract with `team` of a resident
    whose archive is in custody `place`."""
    if user.role == TOWNSHIP_STAFF and user.region == place["township"]:
        return
    if user.role == VILLAGE_DOCTOR and user.region == place["village"] and user.username in team["members"]:
        return
    raise Forbidden(f"Contracts of residents of village {place['village']} are signed by staff of township "
                    f"health centre {place['township']} or by the village's doctor as a member of the team "
                    f"({team['name']}).")


def check_work_list(user, place=None, team=None):
    """The renewal or signing list of a township or village (`place`: its custody) or of a
    team: for the township's staff, the village's doctor, and a team's members."""
    if place and user.role == TOWNSHIP_STAFF and user.region == place["township"]:
        return
    if place and user.role == VILLAGE_DOCTOR and user.region == place.get("village"):
        return
    if team and (user.username in team["members"] or user.role == TOWNSHIP_STAFF and user.region == team["township"]):
        return
    raise Forbidden("The renewal and signing lists are for the township health centre's staff (township), the "
                    "village doctor (village) and the members of a team (team).")
