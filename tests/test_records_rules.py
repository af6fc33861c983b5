"""The clinical rules on their own, without HTTP or a database: targets and danger values,
whether a record fits the resident, and when the specification wants each population seen."""

from datetime import date, timedelta

import pytest

from healthrec.records import alerts, person, schedule, thresholds
from schemas.records.children import VISITS

TODAY = date(2026, 6, 15)  # a Monday in the second quarter


def followup(population, day=TODAY, **fields):
    return {"kind": "followup", "population": population, "date": day.isoformat(), **fields}


def bp(systolic, diastolic):
    return {"systolic": systolic, "diastolic": diastolic}


# --- Classification against the measurements -------------------------------------------

@pytest.mark.parametrize(("reading", "age", "control", "wrong"), [
    (bp(138, 88), 50, "satisfactory", False),
    (bp(140, 88), 50, "satisfactory", True),     # 140 is not below 140
    (bp(138, 90), 50, "satisfactory", True),
    (bp(145, 85), 65, "satisfactory", False),    # from 65 the target is below 150/90
    (bp(145, 85), 64, "satisfactory", True),
    (bp(150, 85), 70, "satisfactory", True),
    (bp(150, 85), 70, "unsatisfactory", False),
    (bp(130, 80), 50, "unsatisfactory", True),   # controlled, so not unsatisfactory
    (bp(190, 115), 50, "complication", False),   # other classes do not depend on the reading
])
def test_hypertension_control_follows_the_blood_pressure(reading, age, control, wrong):
    errors = thresholds.control_errors(followup("hypertension", blood_pressure=reading, control=control), age)
    assert bool(errors) is wrong
    if wrong:
        assert set(errors) == {"control", "blood_pressure"}
        assert f"{reading['systolic']}/{reading['diastolic']} mmHg" in errors["control"][0]


@pytest.mark.parametrize(("glucose", "control", "wrong"), [
    (6.9, "satisfactory", False), (7.0, "satisfactory", True), (7.0, "unsatisfactory", False),
    (5.2, "unsatisfactory", True), (9.1, "adverse_reaction", False),
])
def test_diabetes_control_follows_the_fasting_glucose(glucose, control, wrong):
    errors = thresholds.control_errors(followup("diabetes", fasting_glucose=glucose, control=control), 60)
    assert bool(errors) is wrong
    if wrong:
        assert set(errors) == {"control", "fasting_glucose"}
        assert "below 7.0 mmol/L" in errors["control"][0]


# --- Danger values ---------------------------------------------------------------------

@pytest.mark.parametrize(("record", "urgent"), [
    (followup("hypertension", blood_pressure=bp(180, 100)), True),
    (followup("hypertension", blood_pressure=bp(179, 109)), False),
    (followup("hypertension", blood_pressure=bp(150, 110)), True),
    (followup("diabetes", fasting_glucose=16.7), True),
    (followup("diabetes", fasting_glucose=16.6), False),
    (followup("diabetes", fasting_glucose=3.9), True),
    (followup("diabetes", fasting_glucose=4.0), False),
    (followup("diabetes", fasting_glucose=6.0, blood_pressure=bp(185, 95)), True),
    ({"kind": "checkup", "date": TODAY.isoformat(), "general": {"blood_pressure_right": bp(120, 112)}}, True),
    ({"kind": "checkup", "date": TODAY.isoformat(), "general": {}, "auxiliary": {"fasting_glucose": 2.8}}, True),
    (followup("severe_mental_disorder", risk_level="3"), True),
    (followup("severe_mental_disorder", risk_level="2"), False),
    (followup("tuberculosis", adverse_reaction="present"), True),
    (followup("tuberculosis", complication={"result": "present", "detail": "气胸"}), True),
    (followup("tuberculosis", adverse_reaction="none", complication={"result": "absent"}), False),
    # Maternal blood pressure follows the maternal rules, not the chronic danger values.
    (followup("maternal", visit="prenatal", blood_pressure=bp(182, 100)), False),
])
def test_danger_values_call_for_an_urgent_referral(record, urgent):
    found = alerts.alerts(record, 50)
    assert [alert["code"] for alert in found] == (["urgent_referral"] if urgent else [])


def test_an_older_residents_checkup_without_the_screens_is_incomplete():
    checkup = {"kind": "checkup", "date": TODAY.isoformat(), "general": {"self_care_score": 2}}
    [alert] = alerts.alerts(checkup, 65)
    assert alert["code"] == "incomplete"
    assert "general.self_rating, general.cognition, general.emotion" in alert["detail"]
    assert alerts.alerts(checkup, 64) == []


@pytest.mark.parametrize(("record", "refers"), [
    ({"kind": "referral", "direction": "up"}, True),
    ({"kind": "referral", "direction": "down"}, False),
    ({"kind": "followup", "referral": {"reason": "血压控制不佳", "institution": "县医院"}}, True),
    ({"kind": "followup"}, False),
    ({"kind": "encounter"}, False),
])
def test_what_counts_as_a_referral(record, refers):
    assert alerts.refers(record) is refers


# --- Records fit the resident ------------------------------------------------------------

BORN = date(1970, 3, 1)


@pytest.mark.parametrize(("record", "sex", "born", "field", "text"), [
    (followup("maternal", visit="prenatal"), "male", BORN, "population", "for a woman"),
    (followup("maternal", visit="prenatal"), "unknown", BORN, "population", "for a woman"),
    (followup("elderly"), "female", date(1961, 6, 16), "population", "65 and over; the resident was 64"),
    (followup("child"), "female", date(2019, 6, 15), "population", "0 to 6 years; the resident was 7"),
    (followup("child", visit="month_6"), "female", date(2026, 3, 1), "visit", "is month_3, not month_6"),
    ({"kind": "encounter", "date": "1969-12-31"}, "female", BORN, "date", "before the resident was born"),
    ({"kind": "checkup", "date": TODAY.isoformat(), "physical": {"gynaecology": {"cervix": {"result": "normal"}}}},
     "male", BORN, "physical.gynaecology", "is male"),
])
def test_a_record_that_does_not_fit_the_person_is_refused(record, sex, born, field, text):
    errors = person.mismatches(record, sex, born, child_max_age=6)
    assert list(errors) == [field]
    assert text in errors[field][0]


def test_records_that_fit_pass():
    assert person.mismatches(followup("maternal", visit="prenatal"), "female", BORN, 6) == {}
    assert person.mismatches(followup("elderly"), "male", date(1961, 6, 15), 6) == {}
    assert person.mismatches(followup("child", visit="year_6"), "male", date(2019, 6, 16), 6) == {}
    assert person.mismatches(followup("child"), "male", date(2022, 6, 16), 3) == {}
    assert list(person.mismatches(followup("child"), "male", date(2022, 6, 15), 3)) == ["population"]


# --- Children's visit points --------------------------------------------------------------

BABY = date(2026, 1, 10)


@pytest.mark.parametrize(("days", "point"), [
    (0, "newborn"), (27, "newborn"), (28, "month_1"), (58, "month_1"), (59, "month_3"),
    (134, "month_3"), (135, "month_6"), (180, "month_6"), (365, "month_12"), (6 * 365 + 200, "year_6"),
])
def test_the_visit_point_follows_the_age(days, point):
    assert schedule.child_point(BABY, BABY + timedelta(days=days)).code == point


def test_visit_windows_follow_each_other_up_to_the_seventh_birthday():
    assert [point.code for point in schedule.CHILD_POINTS] == list(VISITS)
    ends = [schedule.window(BABY, point) for point in schedule.CHILD_POINTS]
    assert all(after == next_first for (_, after), (next_first, _) in zip(ends, ends[1:], strict=False))
    assert ends[-1][1] == date(2033, 1, 10)
    assert schedule.child_point(BABY, date(2033, 1, 10)) is None


# --- What is due ---------------------------------------------------------------------------

def rec(population, day, **fields):
    return {"kind": "followup", "population": population, "date": day, **fields}


def due(populations=(), records=(), born=BORN, as_of=TODAY, child_max_age=6):
    return {(item["reason"], item.get("visit")): item
            for item in schedule.next_due(born, set(populations), list(records), as_of, child_max_age)}


def test_a_chronic_patient_is_due_three_months_after_the_last_follow_up():
    items = due(["hypertension"], [rec("hypertension", date(2026, 4, 1), method="home", control="satisfactory"),
                                   {"kind": "checkup", "population": None, "date": date(2026, 2, 1)}])
    assert items[("hypertension", None)] == {"reason": "hypertension", "due_on": date(2026, 7, 1),
                                                  "since": date(2026, 4, 1), "last_date": date(2026, 4, 1)}
    assert ("hypertension_face_to_face", None) not in items  # one in the first quarter it was managed, one in Q2
    assert ("chronic_checkup", None) not in items


def test_an_uncontrolled_patient_is_due_again_in_two_weeks():
    items = due(["diabetes"], [rec("diabetes", TODAY, method="clinic", control="unsatisfactory")])
    assert items[("diabetes_recheck", None)]["due_on"] == TODAY + timedelta(days=14)
    assert ("diabetes", None) not in items


def test_phone_calls_do_not_count_as_face_to_face():
    phoned = [rec("hypertension", date(2026, 1, 20), method="home", control="satisfactory"),
              rec("hypertension", date(2026, 4, 20), method="phone", control="satisfactory")]
    item = due(["hypertension"], phoned)[("hypertension_face_to_face", None)]
    assert (item["due_on"], item["since"]) == (date(2026, 4, 1), date(2026, 1, 20))
    seen = [*phoned, rec("hypertension", date(2026, 5, 2), method="clinic", control="satisfactory")]
    assert ("hypertension_face_to_face", None) not in due(["hypertension"], seen)


def test_face_to_face_counts_from_the_quarter_management_began():
    newly = [rec("diabetes", date(2026, 5, 2), method="phone", control="satisfactory")]
    assert due(["diabetes"], newly)[("diabetes_face_to_face", None)]["due_on"] == date(2026, 4, 1)
    assert ("diabetes_face_to_face", None) not in due(["diabetes"], [])  # never seen: the follow-up is due


def test_chronic_patients_and_older_residents_get_a_checkup_every_year():
    last_year = {"kind": "checkup", "date": date(2025, 8, 1)}
    assert due(["hypertension"], [last_year])[("chronic_checkup", None)]["due_on"] == date(2026, 1, 1)
    elderly = due([], [last_year], born=date(1950, 1, 1))
    assert elderly[("elderly_checkup", None)] == {"reason": "elderly_checkup", "due_on": date(2026, 1, 1),
                                                  "since": date(2026, 1, 1), "last_date": date(2025, 8, 1)}
    assert due([], [{"kind": "checkup", "date": date(2026, 3, 1)}], born=date(1950, 1, 1)) == {}


def test_a_child_is_due_at_each_visit_point():
    born = date(2026, 2, 1)
    items = due(born=born, records=[rec("child", date(2026, 2, 6), visit="newborn")])
    assert items == {("child_visit", "month_3"): {"reason": "child_visit", "visit": "month_3",
                                                  "due_on": date(2026, 5, 1), "since": date(2026, 4, 1),
                                                  "last_date": date(2026, 2, 6)}}
    # Without `visit`, the point comes from the age on the record's day.
    assert ("child_visit", "month_6") in due(born=born, records=[rec("child", date(2026, 5, 3))])
    assert due(born=date(2020, 1, 1), child_max_age=6) == {("child_visit", "year_6"): {
        "reason": "child_visit", "visit": "year_6", "due_on": date(2026, 1, 1), "since": date(2025, 7, 1),
        "last_date": None}}
    assert due(born=date(2022, 1, 1), child_max_age=3) == {}  # year_4 lies past the child age limit


def test_a_pregnancy_is_due_at_each_window_until_the_42_day_check_closes_it():
    first = rec("maternal", date(2026, 4, 10), visit="first_prenatal", gestational_week=10)
    assert due(["maternal"], [])[("maternal_visit", "first_prenatal")]["due_on"] == TODAY
    lmp = date(2026, 4, 10) - timedelta(weeks=10)
    pregnant = due(["maternal"], [first])
    assert pregnant[("maternal_visit", "prenatal_2")]["due_on"] == lmp + timedelta(weeks=16)
    second = rec("maternal", date(2026, 5, 29), visit="prenatal", gestational_week=17)
    assert due(["maternal"], [first, second])[("maternal_visit", "prenatal_3")]["due_on"] == lmp + timedelta(weeks=21)
    postpartum = rec("maternal", date(2026, 6, 8), visit="postpartum", delivery_date=date(2026, 6, 1))
    after = due(["maternal"], [first, second, postpartum])
    assert after == {("maternal_visit", "postpartum_42d"): {
        "reason": "maternal_visit", "visit": "postpartum_42d", "due_on": date(2026, 7, 13),
        "since": date(2026, 6, 1), "last_date": date(2026, 6, 8)}}
    closed = [first, second, postpartum, rec("maternal", date(2026, 6, 12), visit="postpartum_42d")]
    assert due(["maternal"], closed) == {}
    again = [*closed, rec("maternal", date(2026, 6, 14), visit="first_prenatal", gestational_week=6)]
    assert ("maternal_visit", "prenatal_2") in due(["maternal"], again)


def test_mental_disorder_and_tuberculosis_intervals():
    stable = rec("severe_mental_disorder", date(2026, 5, 1), method="home", classification="stable")
    assert due(["severe_mental_disorder"], [stable])[("severe_mental_disorder", None)]["due_on"] == date(2026, 8, 1)
    unstable = {**stable, "classification": "unstable"}
    assert due(["severe_mental_disorder"], [unstable])[("severe_mental_disorder_recheck", None)]["due_on"] \
        == date(2026, 5, 15)
    intensive = rec("tuberculosis", date(2026, 6, 1), treatment_month=2)
    assert due(["tuberculosis"], [intensive])[("tuberculosis", None)]["due_on"] == date(2026, 6, 11)
    continuing = {**intensive, "treatment_month": 3}
    assert due(["tuberculosis"], [continuing])[("tuberculosis", None)]["due_on"] == date(2026, 7, 1)
    stopped = {**continuing, "stopped": {"date": "2026-06-01", "reason": "completed"}}
    assert due(["tuberculosis"], [stopped]) == {}
