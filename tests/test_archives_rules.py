"""The archive rules on their own, without HTTP or a database: what a complete archive
holds, which key populations follow from the birth date, the form of a name the search
index is built from, and the whole-archive check with the normalisation it does."""

import random
from datetime import date

import pytest
from stdnum.cn import ric

from healthrec.archives.rules import check, completeness, derived_populations, name_key
from healthrec.ids import fake_id_card

TODAY = date(2026, 6, 15)
BORN = date(1958, 4, 12)
CARD = fake_id_card(random.Random(1), BORN, "female")


def archive(**changes):
    """A complete archive as the service hands it to the rules: plaintext, dates parsed.
    A change to None leaves the field out."""
    doc = {"name": "李秀英", "sex": "female", "birth_date": BORN, "id_card": CARD, "phone": "13912345678",
           "address": "柳河村2组8号", "registered_address": "柳河村2组8号", "work_unit": "柳河村委会",
           "contact": {"name": "王建军", "phone": "13812345678"}, "residence_type": "registered",
           "ethnicity": "hui", "blood_type": {"abo": "o", "rh": "positive"}, "education": "junior_high",
           "occupation": "agriculture", "marital_status": "widowed", "payment_methods": ["rural_cooperative"],
           "drug_allergies": [], "exposures": [], "family_history": [], "past_history": {},
           "hereditary_diseases": [], "disabilities": [],
           "living_conditions": {"kitchen_exhaust": "chimney", "fuel": "firewood", "water": "well",
                                 "toilet": "pit_cesspool", "livestock_pen": "separate"},
           "responsible_doctor": "village101", "archiving_institution": "柳河村卫生室"}
    doc.update(changes)
    return {key: value for key, value in doc.items() if value is not None}


def card_ending_in_x(born, sex):
    return next(number for number in (fake_id_card(random.Random(n), born, sex) for n in range(500))
                if number.endswith("X"))


# --- Completeness ----------------------------------------------------------------------

def test_a_complete_archive_lacks_nothing():
    assert completeness(archive(), TODAY) == {"complete": True, "missing": []}


def test_only_absent_fields_are_missing_in_the_order_of_the_basic_content():
    lacking = archive(drug_allergies=None, name=None, responsible_doctor=None, address=None, ethnicity=None)
    assert completeness(lacking, TODAY) == {"complete": False, "missing": [
        "name", "address", "ethnicity", "drug_allergies", "responsible_doctor"]}
    # Empty answers ("asked, none") are answers.
    answered = archive(family_history=[], past_history={}, drug_allergies=[], exposures=[], disabilities=[])
    assert completeness(answered, TODAY)["complete"] is True


def test_allergies_in_words_answer_the_drug_allergy_question_of_the_older_form():
    assert completeness(archive(drug_allergies=None, allergies=[]), TODAY)["complete"] is True
    assert completeness(archive(drug_allergies=None, allergies=["青霉素"]), TODAY)["complete"] is True
    assert completeness(archive(drug_allergies=None), TODAY)["missing"] == ["drug_allergies"]


def test_a_young_child_is_not_asked_about_work_schooling_or_marriage():
    items = {"work_unit": None, "education": None, "occupation": None, "marital_status": None}
    guardian = {"name": "赵强", "relation": "father", "phone": "13700001111"}
    six = archive(birth_date=date(2019, 6, 16), guardian=guardian, **items)  # 6 until tomorrow
    assert completeness(six, TODAY) == {"complete": True, "missing": []}
    seven = archive(birth_date=date(2019, 6, 15), guardian=guardian, **items)
    assert completeness(seven, TODAY)["missing"] == ["work_unit", "education", "occupation", "marital_status"]


def test_living_conditions_are_asked_in_rural_villages_only():
    assert completeness(archive(living_conditions=None), TODAY)["missing"] == ["living_conditions"]
    assert completeness(archive(living_conditions=None), TODAY, rural=False)["complete"] is True


def test_histories_written_before_the_coded_lists_are_named_until_coded():
    older = archive(past_history={"diseases": [{"code": "hypertension", "date": "2010"},
                                               {"name": "2型糖尿病", "date": "2015-06"}]},
                    family_history=[{"relation": "father", "condition": "高血压"},
                                    {"relation": "mother", "conditions": ["stroke"]}])
    assert completeness(older, TODAY)["missing"] == ["past_history.diseases.1.code", "family_history.0.conditions"]


def test_a_guardians_phone_stands_in_for_the_residents():
    assert completeness(archive(phone=None), TODAY)["missing"] == ["phone"]
    reached = archive(phone=None, guardian={"name": "王芳", "relation": "daughter", "phone": "13700001111"})
    assert completeness(reached, TODAY) == {"complete": True, "missing": []}
    no_phone = archive(phone=None, guardian={"name": "王芳", "relation": "daughter"})
    assert completeness(no_phone, TODAY)["missing"] == ["phone"]


@pytest.mark.parametrize(("born", "missing"), [
    (date(2008, 6, 16), ["guardian"]),  # 17 until tomorrow
    (date(2008, 6, 15), []),            # 18 today
    (date(2026, 6, 1), ["guardian"]),   # a newborn
])
def test_a_minor_needs_a_guardian(born, missing):
    assert completeness(archive(birth_date=born), TODAY)["missing"] == missing
    guarded = archive(birth_date=born, guardian={"name": "赵强", "relation": "father"})
    assert completeness(guarded, TODAY)["missing"] == []


def test_an_empty_guardian_is_no_guardian_and_no_birth_date_is_only_missing():
    assert completeness(archive(birth_date=date(2015, 1, 1), guardian={}), TODAY)["missing"] == ["guardian"]
    assert completeness(archive(birth_date=None), TODAY)["missing"] == ["birth_date"]


# --- Derived key populations -----------------------------------------------------------

@pytest.mark.parametrize(("born", "today", "flags"), [
    (date(1961, 6, 16), TODAY, []),                     # 64, 65 tomorrow
    (date(1961, 6, 15), TODAY, ["elderly"]),            # 65 today
    (date(1920, 1, 1), TODAY, ["elderly"]),
    (date(2019, 6, 16), TODAY, ["child"]),              # 6 until tomorrow: "0-6岁" counts six-year-olds
    (date(2019, 6, 15), TODAY, []),                     # 7 today
    (TODAY, TODAY, ["child"]),                          # born today
    (date(1990, 1, 1), TODAY, []),
    # Born on 29 February: a year older on 1 March when the year has no 29 February.
    (date(2020, 2, 29), date(2027, 2, 28), ["child"]),
    (date(2020, 2, 29), date(2027, 3, 1), []),
    (date(1960, 2, 29), date(2025, 2, 28), []),
    (date(1960, 2, 29), date(2025, 3, 1), ["elderly"]),
])
def test_derived_populations_at_the_age_boundaries(born, today, flags):
    assert derived_populations(born, today, child_max_age=6) == flags


def test_the_child_age_is_a_setting_and_a_leap_day_birthday_counts_in_a_leap_year():
    four = date(2022, 6, 15)
    assert derived_populations(four, TODAY, child_max_age=6) == ["child"]
    assert derived_populations(four, TODAY, child_max_age=3) == []
    # Under the plan's 0-3: born 29 February 2020, four on 29 February 2024.
    assert derived_populations(date(2020, 2, 29), date(2024, 2, 28), child_max_age=3) == ["child"]
    assert derived_populations(date(2020, 2, 29), date(2024, 2, 29), child_max_age=3) == []


# --- Name key --------------------------------------------------------------------------

@pytest.mark.parametrize(("typed", "key"), [
    ("张伟", "张伟"),
    ("张 伟", "张伟"),
    ("\u3000张\u3000伟\u3000", "张伟"),            # ideographic spaces
    ("张\t伟\n", "张伟"),
    ("ＬＩ　Ｗｅｉ", "LIWei"),                        # full-width letters and space
    ("买买提·艾力", "买买提·艾力"),
    ("买买提•艾力", "买买提·艾力"),                   # bullet
    ("买买提‧艾力", "买买提·艾力"),                   # hyphenation point
    ("买买提・艾力", "买买提·艾力"),                  # katakana middle dot
    ("买买提･艾力", "买买提·艾力"),                   # its half-width form
    ("买买提∙艾力", "买买提·艾力"),                   # bullet operator
    ("买买提⋅艾力", "买买提·艾力"),                   # dot operator
    ("买买提 · 艾力", "买买提·艾力"),
])
def test_name_key_folds_widths_spaces_and_middle_dots(typed, key):
    assert name_key(typed) == key


# --- The whole-archive check -----------------------------------------------------------

def test_a_valid_archive_passes_and_gives_its_parsed_card():
    doc = archive()
    errors, warnings, card = check(doc, TODAY, child_max_age=6)
    assert (errors, warnings) == ({}, [])
    assert (card.number, card.birth_date, card.sex) == (CARD, BORN, "female")


def test_the_card_is_stored_in_its_canonical_form():
    number = card_ending_in_x(BORN, "female")
    doc = archive(id_card=" " + number[:6] + " " + number[6:-1] + "x")
    errors, _warnings, card = check(doc, TODAY, child_max_age=6)
    assert errors == {}
    assert doc["id_card"] == card.number == number


def test_a_card_that_does_not_parse_names_id_card_only():
    wrong = CARD[:17] + ("0" if CARD[17] != "0" else "1")
    doc = archive(id_card=wrong)
    errors, warnings, card = check(doc, TODAY, child_max_age=6)
    assert list(errors) == ["id_card"] and "check digit" in errors["id_card"][0]
    assert (warnings, card) == ([], None)
    assert doc["id_card"] == wrong


def test_a_card_disagreeing_with_birth_date_or_sex_names_both_sides():
    errors, _warnings, _card = check(archive(birth_date=date(1958, 4, 13)), TODAY, child_max_age=6)
    assert set(errors) == {"birth_date", "id_card"} and "1958-04-12" in errors["birth_date"][0]
    errors, _warnings, _card = check(archive(sex="male"), TODAY, child_max_age=6)
    assert set(errors) == {"sex", "id_card"}


def test_an_unknown_birthplace_is_a_warning():
    body = "41142319580412002"  # 411423 did not exist before 1997
    errors, warnings, card = check(archive(id_card=body + ric.calc_check_digit(body + "0")), TODAY, child_max_age=6)
    assert errors == {} and card.birth_date == BORN
    assert [warning["field"] for warning in warnings] == ["id_card"] and "411423" in warnings[0]["message"]


def test_without_a_card_a_guardian_is_needed_and_their_card_is_checked_too():
    errors, _warnings, card = check(archive(id_card=None), TODAY, child_max_age=6)
    assert list(errors) == ["guardian"] and card is None
    guardian_card = card_ending_in_x(date(1985, 3, 3), "male")
    doc = archive(id_card=None, guardian={"name": "李军", "relation": "son", "id_card": guardian_card.lower()})
    assert check(doc, TODAY, child_max_age=6)[0] == {}
    assert doc["guardian"]["id_card"] == guardian_card
    bad = archive(guardian={"name": "李军", "relation": "son", "id_card": "12345"})
    errors, _warnings, _card = check(bad, TODAY, child_max_age=6)
    assert list(errors) == ["guardian.id_card"] and "18 characters" in errors["guardian.id_card"][0]


@pytest.mark.parametrize(("born", "says"), [
    (date(2026, 6, 16), "lies in the future"),
    (date(1879, 12, 31), "before 1880"),
])
def test_impossible_birth_dates_are_named(born, says):
    errors, _warnings, _card = check(archive(birth_date=born, id_card=None, guardian={"name": "王芳",
                                                                                     "relation": "mother"}),
                                     TODAY, child_max_age=6)
    assert list(errors) == ["birth_date"] and says in errors["birth_date"][0]


def test_only_the_doctors_flags_are_kept_sorted_and_once():
    doc = archive(key_populations=["hypertension", "elderly", "diabetes", "hypertension"])  # 68: elderly
    errors, _warnings, _card = check(doc, TODAY, child_max_age=6)
    assert errors == {}
    assert doc["key_populations"] == ["diabetes", "hypertension"]


@pytest.mark.parametrize(("changes", "says"), [
    ({"birth_date": date(1996, 6, 15), "key_populations": ["elderly"]}, "does not apply at age 30"),
    ({"key_populations": ["child"]}, "'child' follows from the birth date"),
    ({"sex": "male", "key_populations": ["maternal"]}, "women only"),
])
def test_flags_that_contradict_the_archive_are_named(changes, says):
    doc = archive(id_card=None, guardian={"name": "王芳", "relation": "daughter"}, **changes)
    errors, _warnings, _card = check(doc, TODAY, child_max_age=6)
    assert list(errors) == ["key_populations"] and says in errors["key_populations"][0]


def test_the_child_flag_follows_the_child_age_setting():
    five = archive(birth_date=date(2021, 6, 1), id_card=None, guardian={"name": "王芳", "relation": "mother"},
                   key_populations=["child"])
    assert check(dict(five), TODAY, child_max_age=6)[0] == {}
    assert list(check(dict(five), TODAY, child_max_age=3)[0]) == ["key_populations"]
