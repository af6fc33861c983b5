"""Properties that hold for every input, not just the examples we thought of (hypothesis):
archive codes in each layout, ID card numbers, and sealed fields."""

import random
import re
import unicodedata
from datetime import date

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from healthrec import crypto
from healthrec.ids import ArchiveCodeError, CodeLayout, IdCardError, fake_id_card, parse_id_card
from healthrec.regions.codes import LEVELS, REGION_PATTERN, level_of, normalized
from schemas.common import ArchiveId

LAYOUTS = [CodeLayout(serial, rule) for serial in (4, 5) for rule in ("archive", "statistical")]
# The zero of every set of decimal digits Unicode has: ASCII, full-width, Arabic-Indic,
# Devanagari, mathematical bold… Each set's 1-9 follow its zero.
ZEROS = [chr(c) for c in range(0x110000) if unicodedata.decimal(chr(c), None) == 0]


def in_digits(text, zero):
    """`text` with its ASCII digits written in the digit set that starts at `zero`."""
    return "".join(chr(ord(zero) + int(c)) if c.isascii() and c.isdigit() else c for c in text)


def codes(layout):
    return st.from_regex(layout.pattern, fullmatch=True)


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: f"{layout.length}-{layout.village_codes}")
@given(data=st.data())
def test_an_archive_code_is_taken_exactly_when_it_matches_the_documented_pattern(layout, data):
    # Half of the digit strings drawn are codes of the pattern, half anything of that length.
    code = data.draw(st.one_of(codes(layout), st.text("0123456789", min_size=layout.length,
                                                       max_size=layout.length)))
    matches = re.fullmatch(layout.pattern, code) is not None
    try:
        village, serial = layout.parse(code)
    except ArchiveCodeError as error:
        assert not matches, error
    else:
        assert matches and layout.format(village, serial) == code


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: f"{layout.length}-{layout.village_codes}")
@given(data=st.data(), zero=st.sampled_from(ZEROS))
def test_an_archive_code_in_other_digits_is_read_as_ascii_or_refused(layout, data, zero):
    code = data.draw(codes(layout))
    typed = in_digits(code, zero)
    # Full-width and other compatibility digits (what phones type) become the ASCII code;
    # the digits of other scripts are refused, never read as some other archive.
    if normalized(typed) == code:
        assert layout.parse(normalized(typed)) == layout.parse(code)
    else:
        with pytest.raises(ArchiveCodeError):
            layout.parse(normalized(typed))


@given(data=st.data(), zero=st.sampled_from(ZEROS), spaces=st.sampled_from(["", " ", "\u3000"]))
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_archive_id_field_takes_what_normalises_to_the_code_and_nothing_else(app, data, zero, spaces):
    layout = CodeLayout(app.config["ARCHIVE_SERIAL_DIGITS"], app.config["VILLAGE_CODES"])
    code = data.draw(codes(layout))
    typed = spaces + in_digits(code, zero) + spaces
    with app.app_context():
        try:
            taken = ArchiveId().deserialize(typed)
        except ValidationError:
            assert normalized(typed) != code
        else:
            assert taken == code


@given(code=st.from_regex(REGION_PATTERN, fullmatch=True))
def test_a_region_code_of_the_documented_pattern_is_one(code):
    assert level_of(code) == LEVELS[len(code)]


def cards():
    """Well-formed ID card numbers with the birth date and sex they carry."""
    return st.builds(
        lambda born, sex, seed: (fake_id_card(random.Random(seed), born, sex), born, sex),
        st.dates(date(1900, 1, 1), date(2025, 12, 31)), st.sampled_from(["male", "female"]), st.integers())


@given(card=cards())
def test_a_well_formed_id_card_is_taken_with_its_birth_date_and_sex(card):
    number, born, sex = card
    parsed = parse_id_card(number, today=date(2026, 1, 1))
    assert (parsed.number, parsed.birth_date, parsed.sex) == (number, born, sex)
    assert parse_id_card(number.lower(), today=date(2026, 1, 1)).number == number  # x for X


@given(card=cards(), position=st.integers(0, 16), digit=st.integers(0, 9))
def test_one_mistyped_digit_is_caught_by_the_check_digit(card, position, digit):
    number = card[0]
    assume(number[position] != str(digit))
    mistyped = number[:position] + str(digit) + number[position + 1:]
    with pytest.raises(IdCardError):
        parse_id_card(mistyped, today=date(2026, 1, 1))


@given(card=cards(), zero=st.sampled_from(ZEROS))
def test_an_id_card_in_other_digits_is_read_as_ascii_or_refused(card, zero):
    number = card[0]
    typed = in_digits(number, zero)
    if normalized(typed) == number:
        assert parse_id_card(typed, today=date(2026, 1, 1)).number == number
    else:
        with pytest.raises(IdCardError):
            parse_id_card(typed, today=date(2026, 1, 1))


RING = crypto.KeyRing.from_json(crypto.generate())
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12)


@given(value=JSON, doc_id=st.text(min_size=1), field=st.text(min_size=1))
def test_any_value_sealed_unseals_to_itself(value, doc_id, field):
    sealed = RING.seal(value, doc_id, field)
    assert crypto.is_sealed(sealed) and sealed["c"] != RING.seal(value, doc_id, field)["c"]  # a fresh nonce
    assert RING.unseal(sealed, doc_id, field) == value


@given(text=st.text(), part=st.sampled_from(["n", "c"]), data=st.data())
def test_a_sealed_value_changed_anywhere_does_not_unseal(text, part, data):
    sealed = RING.seal(text, "4114231011010001", "name")
    altered = bytearray(sealed[part])
    at = data.draw(st.integers(0, len(altered) - 1))
    altered[at] ^= data.draw(st.integers(1, 255))
    with pytest.raises(crypto.KeyRingError, match="altered data"):
        RING.unseal({**sealed, part: bytes(altered)}, "4114231011010001", "name")


@given(text=st.text(), other=st.sampled_from([("4114231011010002", "name"), ("4114231011010001", "phone")]))
def test_a_sealed_value_moved_to_another_archive_or_field_does_not_unseal(text, other):
    sealed = RING.seal(text, "4114231011010001", "name")
    with pytest.raises(crypto.KeyRingError):
        RING.unseal(sealed, *other)
