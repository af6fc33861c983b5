"""When the national specification (国家基本公共卫生服务规范, 3rd edition) wants each key
population seen: pure functions over an archive's facts and its records, no database.

`next_due` gives, for one resident, the next service of each kind the specification asks
for, with why (`reason`), the day it falls due (`due_on`) and the day it counts from
(`since`: the last visit, the reading that made it urgent, the opening of a window); the
work lists keep those due on or before a given day.
"""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from healthrec.archives.rules import ELDERLY_AGE, age_on

# Hypertension and diabetes: a follow-up at least every three months, two weeks after one
# that was not satisfactory; at least four face to face a year; a checkup every year.
CHRONIC = ("hypertension", "diabetes")
FOLLOWUP_MONTHS = 3
RECHECK_DAYS = 14
# Populations managed with at least four face-to-face follow-ups a year (one a quarter);
# a phone call does not count.
FACE_TO_FACE = ("hypertension", "diabetes", "severe_mental_disorder")
FACE_TO_FACE_METHODS = ("clinic", "home")
# Severe mental disorders: stable patients every three months, the others in two weeks.
MENTAL_RECHECK = ("unstable", "basically_stable")
# Tuberculosis: every 10 days in the first two months of treatment, then monthly.
TB_INTENSIVE_MONTHS = 2
TB_INTENSIVE_DAYS = 10


def add_months(day, months):
    """The same day `months` later (earlier when negative), or that month's last day."""
    year, month = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


# --- Children 0-6: visit points by age -------------------------------------------------

@dataclass(frozen=True)
class Point:
    """A visit point: due at `months` of age; its window opens at `opens` (months, days)
    and lasts until the next point's opens."""

    code: str
    months: int
    opens: tuple[int, int]

    def due_on(self, born):
        # The newborn visit is made within a week of coming home.
        return born + timedelta(days=7) if self.code == "newborn" else add_months(born, self.months)


CHILD_POINTS = (
    Point("newborn", 0, (0, 0)), Point("month_1", 1, (0, 28)), Point("month_3", 3, (2, 0)),
    Point("month_6", 6, (4, 15)), Point("month_8", 8, (7, 0)), Point("month_12", 12, (10, 0)),
    Point("month_18", 18, (15, 0)), Point("month_24", 24, (21, 0)), Point("month_30", 30, (27, 0)),
    Point("year_3", 36, (33, 0)), Point("year_4", 48, (42, 0)), Point("year_5", 60, (54, 0)),
    Point("year_6", 72, (66, 0)),
)
CHILD_END = (84, 0)  # the seventh birthday


def _at(born, offset):
    months, days = offset
    return add_months(born, months) + timedelta(days=days)


def window(born, point):
    """(first day, day after the last) of `point`'s window for a child born on `born`."""
    later = CHILD_POINTS[CHILD_POINTS.index(point) + 1].opens if point is not CHILD_POINTS[-1] else CHILD_END
    return _at(born, point.opens), _at(born, later)


def child_point(born, day):
    """The visit point whose window holds `day`, or None outside 0-6 years."""
    return next((point for point in CHILD_POINTS if window(born, point)[0] <= day < window(born, point)[1]), None)


def describe_window(born, point):
    first, after = window(born, point)
    return f"{point.code}, from {first.isoformat()} to {(after - timedelta(days=1)).isoformat()}"


# --- Pregnancy: prenatal windows by gestational week -----------------------------------

# The 2nd to 5th prenatal visits (weeks 16-20, 21-24, 28-36, 37-40), as [first, after).
PRENATAL_WINDOWS = (("prenatal_2", 16, 21), ("prenatal_3", 21, 25), ("prenatal_4", 28, 37),
                    ("prenatal_5", 37, 41))
POSTPARTUM_VISIT_DAYS = 7
POSTPARTUM_CHECK_DAYS = 42
TERM_WEEKS = 40


def _last(records, *kinds):
    matching = [record for record in records if (record["kind"], record.get("population")) in kinds]
    return max(matching, key=lambda record: record["date"], default=None)


def _item(reason, due_on, since, last=None, visit=None):
    item = {"reason": reason, "due_on": due_on, "since": since, "last_date": last["date"] if last else None}
    if visit:
        item["visit"] = visit
    return item


def _maternal(records, as_of):
    """The next visit of the current pregnancy episode, which a 42-day check closes."""
    mine = sorted((r for r in records if r.get("population") == "maternal"), key=lambda r: r["date"])
    closed = [n for n, record in enumerate(mine) if record.get("visit") == "postpartum_42d"]
    episode = mine[closed[-1] + 1:] if closed else mine
    if closed and not episode:
        return []
    last = episode[-1] if episode else None
    if not episode:
        return [_item("maternal_visit", as_of, None, None, "first_prenatal")]
    postpartum = [record for record in episode if record.get("visit") == "postpartum"]
    delivered = [record["delivery_date"] for record in episode if record.get("delivery_date")]
    if postpartum or delivered:
        delivery = max(delivered) if delivered else postpartum[-1]["date"] - timedelta(days=POSTPARTUM_VISIT_DAYS)
        if not postpartum:
            return [_item("maternal_visit", delivery + timedelta(days=POSTPARTUM_VISIT_DAYS), delivery, last,
                          "postpartum")]
        return [_item("maternal_visit", delivery + timedelta(days=POSTPARTUM_CHECK_DAYS), delivery, last,
                      "postpartum_42d")]
    dated = [record for record in episode if record.get("gestational_week")]
    if not dated:
        return []
    dating = dated[-1]
    lmp = dating.get("last_menstrual_period") or dating["date"] - timedelta(weeks=dating["gestational_week"])
    weeks_seen = {record["gestational_week"] for record in dated}
    for visit, first, after in PRENATAL_WINDOWS:
        opens, closes = lmp + timedelta(weeks=first), lmp + timedelta(weeks=after)
        if closes <= as_of or any(first <= week < after for week in weeks_seen):
            continue  # missed or made
        return [_item("maternal_visit", opens, opens, last, visit)]
    term = lmp + timedelta(weeks=TERM_WEEKS)
    return [_item("maternal_visit", term + timedelta(days=POSTPARTUM_VISIT_DAYS), term, last, "postpartum")]


def _child(born, records, as_of, child_max_age):
    made = {record.get("visit") or getattr(child_point(born, record["date"]), "code", None)
            for record in records if record.get("population") == "child"}
    last = _last(records, ("followup", "child"))
    limit = add_months(born, (child_max_age + 1) * 12)
    for point in CHILD_POINTS:
        first, after = window(born, point)
        if after <= as_of or first >= limit:
            continue  # missed, or past the child age limit
        if point.code in made:
            continue
        return [_item("child_visit", point.due_on(born), first, last, point.code)]
    return []


def _interval(population, records, as_of):
    """The next follow-up of a chronic, mental or tuberculosis patient."""
    last = _last(records, ("followup", population))
    if last is None:
        return [_item(population, as_of, None)]
    if population in CHRONIC and last.get("control") not in (None, "satisfactory"):
        return [_item(f"{population}_recheck", last["date"] + timedelta(days=RECHECK_DAYS), last["date"], last)]
    if population == "severe_mental_disorder":
        if last.get("death"):
            return []
        if last.get("classification") in MENTAL_RECHECK:
            return [_item(f"{population}_recheck", last["date"] + timedelta(days=RECHECK_DAYS), last["date"], last)]
    if population == "tuberculosis":
        if any(record.get("stopped") for record in records if record.get("population") == population):
            return []
        if (last.get("treatment_month") or 1) <= TB_INTENSIVE_MONTHS:
            return [_item(population, last["date"] + timedelta(days=TB_INTENSIVE_DAYS), last["date"], last)]
        return [_item(population, add_months(last["date"], 1), last["date"], last)]
    return [_item(population, add_months(last["date"], FOLLOWUP_MONTHS), last["date"], last)]


def _quarter(day):
    return (day.month - 1) // 3 + 1


def _face_to_face(population, records, as_of):
    """One face-to-face follow-up a quarter, four a year, from the quarter management
    began: the first quarter still missing one."""
    mine = [record for record in records if record.get("population") == population]
    if not mine:
        return []  # never seen: the follow-up itself is due
    began = min(record["date"] for record in mine)
    first_quarter = _quarter(began) if began.year == as_of.year else 1
    seen = [record for record in mine if record.get("method") in FACE_TO_FACE_METHODS]
    this_year = [record for record in seen if record["date"].year == as_of.year]
    if len(this_year) > _quarter(as_of) - first_quarter:
        return []
    missing = first_quarter + len(this_year)
    last = max(seen, key=lambda record: record["date"], default=None)
    return [_item(f"{population}_face_to_face", date(as_of.year, 3 * missing - 2, 1),
                  last["date"] if last else None, last)]


def _checkup(reason, records, as_of):
    """A checkup every calendar year."""
    last = _last(records, ("checkup", None))
    if last and last["date"].year == as_of.year:
        return []
    year_start = date(as_of.year, 1, 1)
    return [_item(reason, year_start, year_start, last)]


def next_due(born, populations, records, as_of, child_max_age):
    """The next service of each kind the specification asks for a resident born on `born`,
    flagged with `populations` (the doctor's flags), given their `records` (plaintext,
    dates as `date`); items due after `as_of` included."""
    records = [record for record in records if record["date"] <= as_of]
    age = age_on(born, as_of)
    items = []
    for population in ("hypertension", "diabetes", "severe_mental_disorder", "tuberculosis"):
        if population in populations:
            items += _interval(population, records, as_of)
            if population in FACE_TO_FACE:
                items += _face_to_face(population, records, as_of)
    if age >= ELDERLY_AGE:
        items += _checkup("elderly_checkup", records, as_of)
    elif populations & set(CHRONIC):
        items += _checkup("chronic_checkup", records, as_of)
    if age <= child_max_age:
        items += _child(born, records, as_of, child_max_age)
    if "maternal" in populations:
        items += _maternal(records, as_of)
    return items
