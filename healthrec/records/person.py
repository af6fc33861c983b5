"""Whether a record fits the resident it is written for: its day after their birth, a
maternal form for a woman, a child's form within the child age limit and at the visit
point of the child's age, an elderly form from 65, and a follow-up's classification that
agrees with its own measurements at their age. Pure functions, no database."""

from datetime import date

from healthrec.archives.rules import ELDERLY_AGE, age_on
from healthrec.records import schedule, thresholds


def mismatches(content, sex, born, child_max_age):
    """{dotted field: [message]} of what in `content` (a record's plaintext) does not fit
    a resident of `sex` born on `born`; {} when it fits."""
    day = date.fromisoformat(content["date"])
    if day < born:
        return {"date": [f"The record is dated {day.isoformat()}, before the resident was born "
                         f"({born.isoformat()}); correct the date or the archive's birth date."]}
    age = age_on(born, day)
    errors: dict[str, list[str]] = {}
    population = content.get("population") if content["kind"] == "followup" else None
    if population == "maternal" and sex != "female":
        errors["population"] = [f"A maternal follow-up is for a woman; the archive says the resident's sex is "
                                f"{sex}. Correct the archive's sex, or choose the form for this resident."]
    elif population == "child" and age > child_max_age:
        errors["population"] = [f"Child follow-ups are for children of 0 to {child_max_age} years; the resident was "
                                f"{age} on {day.isoformat()}."]
    elif population == "elderly" and age < ELDERLY_AGE:
        errors["population"] = [f"Elderly follow-ups are for residents of {ELDERLY_AGE} and over; the resident was "
                                f"{age} on {day.isoformat()}."]
    elif population == "child" and content.get("visit"):
        point = schedule.child_point(born, day)
        if point is None or point.code != content["visit"]:
            wanted = content["visit"]
            wanted_window = schedule.describe_window(born, next(p for p in schedule.CHILD_POINTS if p.code == wanted))
            errors["visit"] = [f"On {day.isoformat()} the child's check is {point.code if point else 'none'}, not "
                               f"{wanted} ({wanted_window})."]
    if content["kind"] == "checkup" and sex == "male" and content.get("physical", {}).get("gynaecology"):
        errors["physical.gynaecology"] = ["The archive says the resident is male; leave the gynaecological "
                                          "examination out, or correct the archive's sex."]
    errors.update(thresholds.control_errors(content, age))
    return errors
