"""The national forms over HTTP as an inspection would try them: complete forms accepted and
read back, contradictions and records that do not fit the resident refused with both sides
named (and nothing written), danger values answered with an urgent-referral alert, and the
severe mental disorder and tuberculosis forms sealed at rest."""

import pytest

from tests.factories import (
    amend,
    checkup,
    days_ago,
    hypertension,
    make_archive,
    make_record,
    post_record,
    record_body,
    timeline,
    years_ago,
)
from tests.problems import assert_invalid


def present(body):
    """`body` without the fields set to None."""
    return {key: value for key, value in body.items() if value is not None}


def adult(client, headers, n=1, **changes):
    """An archive of resident `n`, aged 50."""
    return make_archive(client, headers, n, born=years_ago(50, days=n), **changes)


# --- The checkup form --------------------------------------------------------------------

FULL_CHECKUP = checkup(
    general={"temperature": 36.5, "pulse": 72, "respiration": 18, "height": 158, "weight": 61, "waist": 84,
             "blood_pressure_left": {"systolic": 136, "diastolic": 84},
             "blood_pressure_right": {"systolic": 138, "diastolic": 86},
             "self_rating": "fairly_satisfied", "self_care_score": 6, "cognition": "positive", "cognition_score": 24,
             "emotion": "negative"},
    lifestyle={"exercise": {"frequency": "daily", "minutes": 40, "years": 5, "way": "散步"},
               "diet": ["balanced", "salty"], "smoking": {"status": "never"},
               "drinking": {"frequency": "occasional", "daily_liang": 1, "kinds": ["rice_wine"]},
               "occupational": {"exposed": True, "job": "采石", "years": 12,
                                "dust": {"substance": "石粉", "protection": True, "measures": "口罩"}}},
    organs={"lips": "ruddy", "dentition": ["missing", "denture"], "pharynx": "normal",
            "vision": {"left": 4.8, "right": 4.9}, "hearing": "heard", "motor": "completed"},
    physical={"fundus": {"result": "normal"}, "skin": "normal", "sclera": "normal", "lymph_nodes": "not_palpable",
              "lungs": {"barrel_chest": False, "breath_sounds": {"result": "normal"}, "rales": "none"},
              "heart": {"rate": 72, "rhythm": "regular", "murmur": {"result": "absent"}},
              "abdomen": {"tenderness": {"result": "absent"}, "hepatomegaly": {"result": "absent"}},
              "edema": "none", "dorsalis_pedis": "symmetric", "breasts": ["normal"],
              "gynaecology": {"cervix": {"result": "abnormal", "detail": "宫颈糜烂"}}},
    auxiliary={"fasting_glucose": 6.1, "hemoglobin": 128, "white_cells": 6.2, "platelets": 210,
               "urine_protein": "negative", "urine_glucose": "negative", "hbsag": "negative",
               "liver": {"alt": 22, "ast": 25, "albumin": 42, "total_bilirubin": 12.5},
               "kidney": {"creatinine": 68, "urea": 5.1, "potassium": 4.1, "sodium": 140},
               "lipids": {"total_cholesterol": 5.9, "ldl": 3.6}, "ecg": "normal",
               "chest_xray": {"result": "normal"}, "ultrasound_abdomen": {"result": "abnormal", "detail": "脂肪肝"},
               "cervical_smear": {"result": "normal"}},
    tcm_constitution={"qi_deficiency": "yes", "phlegm_dampness": "tendency"},
    current_problems={"cerebrovascular": ["not_found"], "heart": ["angina"], "nervous": {"result": "absent"}},
    hospital_stays=[{"admitted": days_ago(400), "discharged": days_ago(390), "reason": "阑尾炎",
                     "institution": "县人民医院呼吸科"}],
    vaccinations=[{"name": "流感疫苗", "date": days_ago(60), "institution": "柳河镇卫生院"}],
    guidance={"actions": ["chronic_disease_management"], "risk_factors": ["weight_loss", "vaccination"],
              "weight_target": 56, "vaccines": "肺炎球菌疫苗"},
)


def test_the_whole_checkup_form_reads_back_with_its_computed_parts(client, db, doctor, archive_id):
    response = post_record(client, doctor, archive_id, FULL_CHECKUP)
    assert response.status_code == 201, response.get_json()
    record = response.get_json()
    assert record["general"]["self_care_level"] == "mildly_dependent"
    assert record["general"]["bmi"] == 24.4
    assert record["physical"]["gynaecology"]["cervix"] == {"result": "abnormal", "detail": "宫颈糜烂"}
    assert record["current_problems"]["heart"] == ["angina"]
    assert record["alerts"] == []  # a resident of 68 with every screen recorded
    [listed] = timeline(client, doctor, archive_id)["items"]
    assert listed == record
    stored = db.records.find_one({"archive_id": archive_id})
    raw = repr(stored)
    for secret in ("宫颈糜烂", "angina", "阑尾炎", "流感疫苗", "石粉", "采石"):
        assert secret not in raw
    # Coded answers and measurements stay plain for the indicators.
    assert stored["organs"]["hearing"] == "heard" and stored["auxiliary"]["liver"]["alt"] == 22


def test_an_older_residents_checkup_without_the_screens_says_what_it_lacks(client, doctor, archive_id):
    record = make_record(client, doctor, archive_id, checkup())
    [alert] = record["alerts"]
    assert alert["code"] == "incomplete"
    assert "general.self_rating" in alert["detail"] and "general.emotion" in alert["detail"]


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"organs": {"hearing": "deaf"}}, "organs.hearing", "Must be one of: heard, not_heard."),
    ({"organs": {"vision": {"left": 1.0}}}, "organs.vision.left", "between 3.0 and 5.3 (five-point record)"),
    ({"auxiliary": {"kidney": {"creatinine": 5}}}, "auxiliary.kidney.creatinine", "between 10 and 3000 μmol/L"),
    ({"auxiliary": {"chest_xray": {"result": "abnormal"}}}, "auxiliary.chest_xray.detail", "Describe what"),
    ({"general": {"cognition": "positive"}}, "general.cognition_score", "mini-mental state examination"),
    ({"general": {"self_care_level": "independent"}}, "general.self_care_level", "Leave this field out"),
    ({"lifestyle": {"drinking": {"frequency": "often", "kinds": ["other"]}}}, "lifestyle.drinking.kinds_other",
     "Say what it is"),
    ({"lifestyle": {"occupational": {"exposed": False, "job": "采石"}}}, "lifestyle.occupational.exposed",
     "Send exposed true"),
    ({"current_problems": {"eye": ["not_found", "cataract"]}}, "current_problems.eye", "'not_found' cannot"),
    ({"physical": {"skin": "other"}}, "physical.skin_other", "Say what it is"),
    ({"general": None}, "general", "required"),
    ({"evaluation": None}, "evaluation", "required"),
])
def test_checkup_errors_name_the_field_and_how_to_fix_it(client, db, doctor, archive_id, changes, field, text):
    body = present(checkup(**changes))
    assert_invalid(post_record(client, doctor, archive_id, body), **{field: text})
    assert db.records.count_documents({}) == 0


def test_a_gynaecological_examination_of_a_man_is_refused(client, db, doctor):
    man = adult(client, doctor, sex="male")
    body = checkup(physical={"gynaecology": {"cervix": {"result": "normal"}}})
    assert_invalid(post_record(client, doctor, man, body), physical__gynaecology="is male")
    assert db.records.count_documents({}) == 0


# --- Classification and danger values ------------------------------------------------------

def test_190_over_115_called_satisfactory_is_refused_naming_both(client, db, doctor):
    patient = adult(client, doctor, key_populations=["hypertension"])
    body = hypertension(days_ago(0), blood_pressure={"systolic": 190, "diastolic": 115}, control="satisfactory")
    errors = assert_invalid(post_record(client, doctor, patient, body),
                            control="190/115 mmHg is not within the target at age 50 (below 140/90 mmHg)",
                            blood_pressure="so this follow-up is unsatisfactory, not satisfactory")
    assert errors["control"] == errors["blood_pressure"]
    assert db.records.count_documents({}) == 0 and db.urgent.count_documents({}) == 0


def test_190_over_115_called_unsatisfactory_is_saved_with_an_urgent_referral_alert(client, db, doctor):
    patient = adult(client, doctor, key_populations=["hypertension"])
    body = hypertension(days_ago(0), blood_pressure={"systolic": 190, "diastolic": 115}, control="unsatisfactory")
    response = post_record(client, doctor, patient, body)
    assert response.status_code == 201, response.get_json()
    [alert] = response.get_json()["alerts"]
    assert alert["code"] == "urgent_referral"
    assert "blood pressure 190/115 mmHg" in alert["detail"] and "Refer at once" in alert["detail"]
    assert db.urgent.count_documents({"archive_id": patient, "status": "open"}) == 1


def test_the_target_is_150_over_90_from_65(client, doctor, archive_id):
    older = hypertension(days_ago(1), blood_pressure={"systolic": 145, "diastolic": 85}, control="satisfactory")
    assert post_record(client, doctor, archive_id, older).status_code == 201  # she is 68
    younger = adult(client, doctor)
    assert_invalid(post_record(client, doctor, younger, older), control="below 140/90 mmHg", blood_pressure="145/85")


def test_diabetes_control_follows_the_fasting_glucose(client, db, doctor):
    patient = adult(client, doctor, key_populations=["diabetes"])
    body = record_body("followup", "diabetes", fasting_glucose=7.5, control="satisfactory")
    assert_invalid(post_record(client, doctor, patient, body), control="below 7.0 mmol/L", fasting_glucose="7.5")
    low = record_body("followup", "diabetes", fasting_glucose=3.2, control="satisfactory")
    response = post_record(client, doctor, patient, low)
    assert response.status_code == 201, response.get_json()
    assert [alert["code"] for alert in response.get_json()["alerts"]] == ["urgent_referral"]
    assert db.records.count_documents({}) == 1


def test_an_adverse_reaction_contradicting_the_classification_is_refused(client, doctor):
    patient = adult(client, doctor, key_populations=["diabetes"])
    body = record_body("followup", "diabetes", adverse_reaction="present", adverse_reactions="二甲双胍后腹泻")
    assert_invalid(post_record(client, doctor, patient, body), control="classified adverse_reaction",
                   adverse_reaction="classified adverse_reaction")
    fits = record_body("followup", "diabetes", adverse_reaction="present", adverse_reactions="二甲双胍后腹泻",
                       control="adverse_reaction")
    assert post_record(client, doctor, patient, fits).status_code == 201


def test_an_amendment_is_held_to_the_same_rules(client, db, doctor):
    patient = adult(client, doctor, key_populations=["hypertension"])
    record = make_record(client, doctor, patient, hypertension(days_ago(1)))
    response = amend(client, doctor, patient, record["id"], {"blood_pressure": {"systolic": 165, "diastolic": 95}})
    assert_invalid(response, changes__control="not within the target", changes__blood_pressure="165/95")
    assert db.records.count_documents({"record_id": record["id"]}) == 1


def test_the_full_chronic_forms_with_targets_lifestyle_and_referral(client, doctor):
    patient = adult(client, doctor, key_populations=["hypertension", "diabetes"])
    blood_pressure = hypertension(
        days_ago(1), height=165, weight=78, blood_pressure={"systolic": 152, "diastolic": 94}, heart_rate=80,
        symptoms=["headache_dizziness", "other"], symptoms_other="失眠", daily_cigarettes=10, daily_liang=2,
        exercise_per_week=2, exercise_minutes=20, salt="heavy", mental_adjustment="fair", compliance="good",
        targets={"weight": 70, "daily_cigarettes": 0, "daily_liang": 1, "exercise_per_week": 5,
                 "exercise_minutes": 30, "salt": "light"},
        adverse_reaction="none", control="unsatisfactory", medications=[{"name": "氨氯地平", "dose": "5mg"}],
        referral={"reason": "血压控制不佳", "institution": "县人民医院", "department": "心内科", "result": "arrived"})
    record = make_record(client, doctor, patient, blood_pressure)
    assert record["targets"]["bmi"] == 25.7 and record["bmi"] == 28.7
    assert record["referral"]["department"] == "心内科"
    glucose = record_body("followup", "diabetes", fasting_glucose=8.1, control="unsatisfactory",
                          dorsalis_pedis_pulse="weakened", dorsalis_pedis_side="left", staple_food=400,
                          targets={"staple_food": 300}, hba1c=7.9, hba1c_date=days_ago(10), hypoglycemia="none")
    assert make_record(client, doctor, patient, glucose)["targets"] == {"staple_food": 300}


# --- Records fit the resident -------------------------------------------------------------

def test_a_maternal_follow_up_on_a_man_is_refused(client, db, doctor):
    man = adult(client, doctor, sex="male")
    assert_invalid(post_record(client, doctor, man, record_body("followup", "maternal")),
                   population="for a woman; the archive says the resident's sex is male")
    assert db.records.count_documents({}) == 0


@pytest.mark.parametrize(("born", "body", "field", "text"), [
    (years_ago(50), record_body("followup", "elderly"), "population", "65 and over; the resident was 49"),
    (years_ago(9), record_body("followup", "child"), "population", "0 to 6 years; the resident was 8"),
    (years_ago(0, days=20), record_body("followup", "child", visit="month_6", date=days_ago(0)), "visit",
     "the child's check is newborn, not month_6"),
    (years_ago(0, days=20), record_body("encounter", date=days_ago(25)), "date", "before the resident was born"),
])
def test_records_that_do_not_fit_the_resident_are_refused(client, db, doctor, born, body, field, text):
    resident = make_archive(client, doctor, 1, born=born)
    assert_invalid(post_record(client, doctor, resident, body), **{field: text})
    assert db.records.count_documents({}) == 0


def test_in_a_batch_the_misfit_is_named_by_its_place(client, db, doctor):
    man = adult(client, doctor, sex="male")
    visit = [checkup(), record_body("followup", "maternal")]
    response = client.post(f"/api/v1/archives/{man}/records/batch", json={"records": visit}, headers=doctor)
    assert_invalid(response, **{"records.1.population": "for a woman"})
    assert db.records.count_documents({}) == 0


# --- Children and pregnancies by visit ------------------------------------------------------

def test_a_newborn_visit_records_the_birth_and_the_later_checks_their_own_items(client, db, doctor):
    baby = make_archive(client, doctor, 1, born=years_ago(0, days=5), id_card=None,
                        guardian={"name": "赵强", "relation": "father", "phone": "13700001111"})
    newborn = present(record_body(
        "followup", "child", date=days_ago(0), visit="newborn", weight=3.4, height=None, head_circumference=34.5,
        newborn={"gestational_weeks": 39, "birth_mode": "spontaneous", "birth_weight": 3.3, "birth_length": 50,
                 "feeding": "breast", "feeds_per_day": 10, "jaundice": ["face"], "umbilical_cord": "attached",
                 "hearing_screening": "passed",
                 "parents": [{"relation": "mother", "name": "孙丽", "occupation": "agriculture"}]}))
    record = make_record(client, doctor, baby, newborn)
    assert record["newborn"]["birth_weight"] == 3.3
    assert "孙丽" not in repr(db.records.find_one({"record_id": record["id"]}))
    assert_invalid(post_record(client, doctor, baby, {**newborn, "visit": "month_1"}),
                   height="every check but the newborn visit", newborn="Only the newborn visit")
    too_early = record_body("followup", "child", date=days_ago(0), visit="month_1")
    assert_invalid(post_record(client, doctor, baby, too_early), visit="the child's check is newborn, not month_1")
    assert db.records.count_documents({}) == 1


def test_maternal_visits_take_their_own_parts(client, db, doctor):
    mother = make_archive(client, doctor, 1, born=years_ago(28))
    first = record_body("followup", "maternal", visit="first_prenatal", gestational_week=11, gravidity=2,
                        parity={"vaginal": 1}, last_menstrual_period=days_ago(77), due_date=days_ago(-203),
                        height=160, weight=55, histories={"past": ["none"], "obstetric": {"abortions": 1}},
                        tests={"abo": "o", "rh": "positive", "infections": {"hbsag": "negative", "syphilis": "negative",
                                                                            "hiv": "negative"}},
                        husband={"name": "王强", "age": 30})
    record = make_record(client, doctor, mother, first)
    assert record["bmi"] == 21.5 and record["tests"]["infections"]["hiv"] == "negative"
    stored = db.records.find_one({"record_id": record["id"]})
    assert set(stored["tests"]["infections"]) == {"k", "n", "c"} and stored["tests"]["abo"] == "o"
    assert set(stored["histories"]) == set(stored["husband"]) == {"k", "n", "c"}
    assert_invalid(post_record(client, doctor, mother, record_body("followup", "maternal", gravidity=2)),
                   gravidity="Asked at a first_prenatal visit, not at a prenatal one.")
    postpartum = present(record_body("followup", "maternal", visit="postpartum", gestational_week=None,
                                     recovered="recovered"))
    assert_invalid(post_record(client, doctor, mother, postpartum), recovered="Asked at a postpartum_42d visit")
    assert db.records.count_documents({}) == 1


# --- Severe mental disorders and tuberculosis --------------------------------------------------

def test_the_mental_disorder_and_tuberculosis_forms_are_sealed_at_rest(client, db, doctor):
    patient = adult(client, doctor, key_populations=["severe_mental_disorder", "tuberculosis"])
    mental = record_body("followup", "severe_mental_disorder", symptoms=["suspicion", "withdrawn"],
                         social_functions={"self_care": "fair"}, risk_behaviours={"self_harm": 1},
                         treatment_effect="improved", next_followup=days_ago(-14))
    tb = record_body("followup", "tuberculosis", adverse_reaction="none", complication={"result": "absent"},
                     handling="继续原方案", whole_course={"visits_due": 12})
    for body in (mental, tb):
        response = post_record(client, doctor, patient, body)
        assert response.status_code == 201, response.get_json()
    stored = {doc["population"]: doc for doc in db.records.find({"archive_id": patient})}
    for population, body in (("severe_mental_disorder", mental), ("tuberculosis", tb)):
        doc = stored[population]
        plain = {"kind", "date", "population", "method", "next_followup"}
        for name in set(body) - plain:
            assert set(doc[name]) == {"k", "n", "c"}, (population, name)  # one sealed value each
        assert {name: doc[name] for name in plain & set(body)} == {name: body[name] for name in plain & set(body)}
    raw = repr(list(db.records.find()))
    for secret in ("suspicion", "basically_stable", "利培酮", "2HRZE", "继续原方案", "cough_sputum"):
        assert secret not in raw
    read = {r["population"]: r for r in timeline(client, doctor, patient)["items"]}
    assert read["severe_mental_disorder"]["classification"] == "basically_stable"
    assert read["tuberculosis"]["regimen"] == "2HRZE/4HR"


def test_a_risk_level_of_3_calls_for_an_urgent_referral(client, doctor):
    patient = adult(client, doctor, key_populations=["severe_mental_disorder"])
    body = record_body("followup", "severe_mental_disorder", risk_level="4", classification="unstable")
    assert [alert["code"] for alert in make_record(client, doctor, patient, body)["alerts"]] == ["urgent_referral"]


@pytest.mark.parametrize(("body", "field", "text"), [
    (record_body("followup", "severe_mental_disorder", classification=None), "classification", "patient was seen"),
    (record_body("followup", "severe_mental_disorder", risk_level="6"), "risk_level", "Must be one of: 0, 1, 2"),
    (record_body("followup", "tuberculosis", patient_type="new"), "patient_type", "first home visit only"),
    (record_body("followup", "tuberculosis", treatment_month=None), "treatment_month", "Which month"),
])
def test_mental_disorder_and_tuberculosis_errors(client, db, doctor, body, field, text):
    patient = adult(client, doctor)
    assert_invalid(post_record(client, doctor, patient, present(body)), **{field: text})
    assert db.records.count_documents({}) == 0


def test_a_lost_patient_needs_no_assessment(client, doctor):
    patient = adult(client, doctor)
    lost = {"kind": "followup", "population": "severe_mental_disorder", "date": days_ago(1), "method": "phone",
            "lost": "working_away"}
    assert post_record(client, doctor, patient, lost).status_code == 201


# --- Referrals and return slips ----------------------------------------------------------------

def test_a_referral_names_the_department_and_doctor_and_gets_its_return_slip(client, doctor):
    referral = make_record(client, doctor, adult(client, doctor),
                           record_body("referral", to_department="心内科", to_doctor="张伟"))
    assert (referral["to_department"], referral["to_doctor"]) == ("心内科", "张伟")
    slip = {"date": days_ago(0), "institution": "柳河镇卫生院", "department": "内科", "doctor": "张伟",
            "diagnosis": "高血压3级", "recommendations": "继续服药，2周后复查"}
    response = amend(client, doctor, referral["archive_id"], referral["id"], {"return_slip": slip}, "回转单")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["return_slip"]["diagnosis"] == "高血压3级"
    early = {**slip, "date": days_ago(5)}
    assert_invalid(amend(client, doctor, referral["archive_id"], referral["id"], {"return_slip": early}),
                   **{"changes.return_slip.date": "before the referral"})
    down = record_body("referral", direction="down", return_slip=slip)
    assert_invalid(post_record(client, doctor, referral["archive_id"], down), return_slip="upward referral")
