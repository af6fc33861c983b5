"""The personal basic information form (个人基本信息表) over HTTP: the whole form accepted,
read back and sealed at rest; coded fields refused outside their lists with the list in the
message; the form's "other" lines; what completeness asks of whom."""

import pytest

from healthrec.clock import today
from tests.factories import URBAN, if_match, post_archive, resident, years_ago
from tests.problems import assert_invalid


def test_the_whole_form_reads_back_complete_and_is_sealed_at_rest(client, db, doctor):
    body = resident(drug_allergies=["penicillin", "other"], allergies=["头孢曲松"], exposures=["chemicals"],
                    disabilities=["other"], disabilities_other="左手指缺失", hereditary_diseases=["血友病"],
                    payment_methods=["rural_cooperative", "other"], payment_other="大病保险",
                    past_history={"diseases": [{"code": "malignant_tumour", "name": "胃", "date": "2019-03"}],
                                  "surgeries": [{"name": "胃大部切除术", "date": "2019-04"}]},
                    family_history=[{"relation": "mother", "conditions": ["stroke", "other"], "condition": "青光眼"}])
    response = client.post("/api/v1/archives", json=body, headers=doctor)
    assert response.status_code == 201, response.get_json()
    archive = response.get_json()
    assert archive["completeness"] == {"complete": True, "missing": []}
    assert archive["established_on"] == today().isoformat()  # 建档日期, the day it was made
    for name in ("ethnicity", "blood_type", "contact", "living_conditions", "drug_allergies", "family_history",
                 "past_history", "payment_other", "disabilities_other", "hereditary_diseases", "residence_type"):
        assert archive[name] == body[name], name
    assert client.get(f"/api/v1/archives/{archive['id']}", headers=doctor).get_json()["blood_type"] == \
        {"abo": "a", "rh": "unknown"}
    stored = db.archives.find_one({"_id": archive["id"]})
    for name in ("ethnicity", "blood_type", "education", "occupation", "marital_status", "contact", "work_unit",
                 "drug_allergies", "exposures", "hereditary_diseases", "living_conditions", "registered_address"):
        assert set(stored[name]) == {"k", "n", "c"}, name
    assert (stored["residence_type"], stored["archiving_institution"]) == ("registered", "柳河村卫生室")
    for secret in ("头孢曲松", "血友病", "青光眼", "胃大部切除术", "王建军", "penicillin", "malignant_tumour"):
        assert secret not in repr(stored)


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"ethnicity": "hanzu"}, "ethnicity", "Must be one of: han, mongol, hui, tibetan"),
    ({"sex": "m"}, "sex", "Must be one of: male, female, unknown, unspecified."),
    ({"blood_type": {"abo": "A", "rh": "positive"}}, "blood_type.abo", "Must be one of: a, b, o, ab, unknown."),
    ({"payment_methods": ["nhi"]}, "payment_methods.0", "employee_insurance, resident_insurance"),
    ({"living_conditions": {"kitchen_exhaust": "none", "fuel": "gas", "water": "tap", "toilet": "sanitary",
                            "livestock_pen": "none"}}, "living_conditions.fuel", "lpg, coal, natural_gas"),
    ({"past_history": {"diseases": [{"code": "flu"}]}}, "past_history.diseases.0.code", "hypertension, diabetes"),
    ({"past_history": {"diseases": [{"code": "other"}]}}, "past_history.diseases.0.name", "Name the disease"),
    ({"family_history": [{"relation": "uncle", "conditions": ["stroke"]}]}, "family_history.0.relation",
     "father, mother, sibling, child"),
    ({"family_history": [{"relation": "father"}]}, "family_history.0.condition", "Tick the relative's conditions"),
    ({"family_history": [{"relation": "father", "conditions": ["other"]}]}, "family_history.0.condition",
     "Say what it is"),
    ({"contact": {"name": "王建军", "phone": "12345"}}, "contact.phone", "11-digit mobile number"),
    ({"drug_allergies": ["other"]}, "allergies", "Name the other drugs"),
    ({"payment_methods": ["other"]}, "payment_other", "Name the other payment"),
    ({"disabilities": ["visual", "other"]}, "disabilities_other", "Name the other disability"),
])
def test_bad_input_says_how_to_fix_it_and_writes_nothing(client, db, doctor, changes, field, text):
    assert_invalid(post_archive(client, doctor, **changes), **{field: text})
    assert db.archives.count_documents({}) == 0


def test_sex_per_gb_t_2261_makes_no_claim_against_the_card(client, doctor):
    response = post_archive(client, doctor, sex="unspecified")  # the card says female
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["sex"] == "unspecified"
    assert_invalid(post_archive(client, doctor, 1, sex="unknown", key_populations=["maternal"]),
                   key_populations="women only")


def test_completeness_asks_the_form_of_whom_it_applies_to(client, doctor, login):
    child = {"work_unit": None, "education": None, "occupation": None, "marital_status": None,
             "guardian": {"name": "赵强", "relation": "father", "phone": "13700001111"}}
    young = post_archive(client, doctor, 1, born=years_ago(6), **child).get_json()
    assert young["completeness"] == {"complete": True, "missing": []}
    older = post_archive(client, doctor, 2, born=years_ago(7), **child).get_json()
    assert older["completeness"]["missing"] == ["work_unit", "education", "occupation", "marital_status"]
    urban = post_archive(client, login("village_doctor", URBAN), 3, village_code=URBAN, living_conditions=None,
                         responsible_doctor=None)
    assert urban.get_json()["completeness"] == {"complete": True, "missing": []}


def test_an_archive_made_before_the_coded_lists_is_completed_by_coding_it(client, doctor):
    before = {name: None for name in ("registered_address", "work_unit", "contact", "residence_type", "ethnicity",
                                      "blood_type", "education", "occupation", "marital_status", "payment_methods",
                                      "drug_allergies", "exposures", "hereditary_diseases", "disabilities",
                                      "living_conditions", "archiving_institution")}
    created = post_archive(client, doctor, **before, allergies=["青霉素"],
                           family_history=[{"relation": "father", "condition": "高血压"}],
                           past_history={"diseases": [{"name": "2型糖尿病", "date": "2015-06"}]})
    assert created.status_code == 201, created.get_json()
    missing = created.get_json()["completeness"]["missing"]
    assert missing[:3] == ["registered_address", "work_unit", "contact"]
    assert missing[-2:] == ["past_history.diseases.0.code", "family_history.0.conditions"]
    coded = {name: value for name, value in resident().items() if name in before}
    coded.update(drug_allergies=["penicillin"], allergies=None, family_history=[{"relation": "father",
                                                                                   "conditions": ["hypertension"]}],
                 past_history={"diseases": [{"code": "diabetes", "name": "2型糖尿病", "date": "2015-06"}]})
    response = client.patch(f"/api/v1/archives/{created.get_json()['id']}", json=coded,
                            headers=if_match(doctor, created))
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["completeness"] == {"complete": True, "missing": []}
