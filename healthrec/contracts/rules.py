"""What a family-doctor contract is and when it is in force: pure functions, no database.

A contract runs one year from the day it is signed and is renewed for another year at a
time; its state on any day follows from its dates, so nothing has to be written when it
runs out. Dates are `YYYY-MM-DD` strings as stored, or dates.
"""

from datetime import date, timedelta

from healthrec.archives.rules import age_on

# Service packages (服务包): the basic package every contract includes, or one for a key
# population, or a personalised one agreed with the resident.
PACKAGES = ("basic", "elderly", "chronic_disease", "maternal", "child", "personalised")
TERMINATION_REASONS = ("moved_away", "death", "resident_request", "team_dissolved", "other")
# The system's own reason: the archive was transferred to a village of another township,
# whose teams serve the resident from then on (contracts/follow.py).
TRANSFERRED = "transferred"
# A contract is renewed in its last 90 days; after it has run out, a new one is signed.
RENEWAL_WINDOW = timedelta(days=90)
STATUSES = ("valid", "expired", "terminated", "ended")
ONE_DAY = timedelta(days=1)


def term_from(start):
    """The last day of a one-year term beginning on `start` (2026-03-01 -> 2027-02-28)."""
    try:
        anniversary = start.replace(year=start.year + 1)
    except ValueError:  # 29 February
        anniversary = date(start.year + 1, 3, 1)
    return anniversary - ONE_DAY


def ends_on(valid_until, terminated_on=None):
    """The last day the resident is under contract: termination takes effect on its day."""
    return terminated_on - ONE_DAY if terminated_on and terminated_on <= valid_until else valid_until


def status_on(contract, day, archive_closed_on=None):
    """valid, expired (its term ran out), terminated, or ended (the archive was closed:
    the resident died or moved away and nobody has terminated the contract yet)."""
    terminated_on = contract.get("terminated_on")
    if terminated_on and date.fromisoformat(terminated_on) <= day:
        return "terminated"
    if archive_closed_on and archive_closed_on <= day:
        return "ended"
    if date.fromisoformat(contract["valid_until"]) < day:
        return "expired"
    return "valid"


def package_problem(package, birth_date, sex, flags, day, child_max_age):
    """Why `package` does not fit the resident, or None."""
    age = age_on(birth_date, day)
    if package == "elderly" and age < 65:
        return f"The elderly package is for residents of 65 and over; this one is {age}."
    if package == "child" and age > child_max_age:
        return f"The child package is for children up to {child_max_age}; this resident is {age}."
    if package == "maternal" and sex != "female":
        return "The maternal package is for women."
    if package == "chronic_disease" and not {"hypertension", "diabetes"} & set(flags):
        return ("The chronic disease package is for residents with hypertension or diabetes; "
                "mark that in the archive's key populations first.")
    return None
