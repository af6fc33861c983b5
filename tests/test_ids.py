"""Archive codes and ID card numbers (no database needed)."""

import random
from datetime import date

import pytest
from stdnum.cn import ric

from healthrec.clock import today
from healthrec.ids import (
    ArchiveCodeError,
    CodeLayout,
    IdCardError,
    disagreements,
    fake_id_card,
    parse_id_card,
    prefix_range,
)

# A real-format number: area 110101 (东城区), born 1990-03-07, sequence 123 (odd: male).
CARD = "110101199003071233"


def test_sixteen_digit_layout_formats_and_parses():
    codes = CodeLayout()
    assert codes.length == 16 and codes.max_serial == 9999
    assert codes.format("411423101101", 7) == "4114231011010007"
    assert codes.parse("4114231011010007") == ("411423101101", 7)


def test_national_layout_is_one_setting_away():
    codes = CodeLayout(serial_digits=5)
    assert codes.format("411423101101", 7) == "41142310110100007"
    assert codes.parse("41142310110100007") == ("411423101101", 7)
    with pytest.raises(ArchiveCodeError, match="17 digits"):
        codes.parse("4114231011010007")


@pytest.mark.parametrize("code, says", [
    ("411423101101007", "16 digits"),
    ("41142310110100a7", "16 digits"),
    ("4114231012500007", "village segment 250"),
    ("4114231011010000", "starts at 1"),
])
def test_malformed_codes_say_what_is_wrong(code, says):
    with pytest.raises(ArchiveCodeError, match=says):
        CodeLayout().parse(code)


def test_serial_outside_the_layout_is_refused():
    with pytest.raises(ArchiveCodeError, match="1-9999"):
        CodeLayout().format("411423101101", 10000)


def test_prefix_range_selects_codes_under_a_region():
    query = prefix_range("411423101")
    inside = ["4114231011010001", "4114231011999999"]
    outside = ["4114231021010001", "4114231001010001"]
    assert all(query["$gte"] <= code < query["$lt"] for code in inside)
    assert not any(query["$gte"] <= code < query["$lt"] for code in outside)


def test_valid_card_gives_birth_date_and_sex():
    card = parse_id_card(CARD)
    assert card.number == CARD
    assert card.birth_date == date(1990, 3, 7)
    assert card.sex == "male"
    assert card.warnings == []


def test_lower_case_x_and_spaces_are_normalised():
    number = next(body + "X" for body in (f"11010119900307{seq}" for seq in range(100, 1000))
                  if ric.calc_check_digit(body + "0") == "X")
    card = parse_id_card(" " + number[:6] + " " + number[6:-1] + "x")
    assert card.number == number


@pytest.mark.parametrize("text, says", [
    ("11010119900307123", "18 characters; this one has 17"),
    ("1101011990030712A5", "17 digits followed by a digit or X"),
    ("110101199003071235", "check digit"),
    ("110101199002301234", "not a real date"),
])
def test_malformed_cards_say_which_part_is_wrong(text, says):
    if says == "not a real date":  # give it a correct check digit so the date is what fails
        text = text[:17] + ric.calc_check_digit(text)
    with pytest.raises(IdCardError, match=says):
        parse_id_card(text)


def test_future_birth_date_is_refused():
    body = "11010120990101123"
    with pytest.raises(IdCardError, match="not plausible"):
        parse_id_card(body + ric.calc_check_digit(body + "0"), today=date(2026, 1, 1))


def test_unknown_birthplace_is_only_a_warning():
    # 411423 (宁陵县) exists only from 1997; before that the county was 412324.
    body = "41142319500301123"
    card = parse_id_card(body + ric.calc_check_digit(body + "0"))
    assert card.birth_date == date(1950, 3, 1)
    assert "411423" in card.warnings[0] and "1950" in card.warnings[0]


def test_disagreement_with_birth_date_and_sex_names_the_fields():
    card = parse_id_card(CARD)
    assert disagreements(card, date(1990, 3, 7), "male") == {}
    errors = disagreements(card, date(1990, 3, 8), "female")
    assert set(errors) == {"birth_date", "sex", "id_card"}
    assert "1990-03-07" in errors["birth_date"][0]
    assert "odd" in errors["sex"][0]


def test_fake_cards_pass_every_check_and_agree_with_what_they_were_made_from():
    rng = random.Random(2026)
    for _ in range(500):
        born = date(rng.randint(1925, 2025), rng.randint(1, 12), rng.randint(1, 28))
        sex = rng.choice(("male", "female"))
        number = fake_id_card(rng, born, sex)
        card = parse_id_card(number)
        assert (card.birth_date, card.sex, card.warnings) == (born, sex, [])
        # The area is the demo county's code as it was in the birth year.
        assert number[:6] == ("411423" if born.year >= 1997 else "412324")


def test_fake_cards_have_plausible_birth_dates():
    rng = random.Random(7)
    ages = [(today() - parse_id_card(fake_id_card(rng)).birth_date).days / 365.25 for _ in range(300)]
    assert min(ages) >= 0 and max(ages) <= 96
    assert any(age >= 65 for age in ages) and any(age < 6 for age in ages)
