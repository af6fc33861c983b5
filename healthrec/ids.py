"""Identifiers: the archive code (统一编码) and the resident ID card number (身份证号).

No Flask here: the layout and the checks are plain functions that tests, scripts and the
demo data use alone.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from healthrec import clock
from healthrec.regions.codes import VILLAGE_PATTERN, RegionCodeError, ascii_digits, level_of, normalized, village_kind


class ArchiveCodeError(ValueError):
    """Not an archive code; the message says what the code should look like."""


@dataclass(frozen=True)
class CodeLayout:
    """The archive code: a 12-digit village code (6 county + 3 township + 3 village)
    followed by a serial assigned in order within that village.

    The provincial plan uses a 4-digit serial (16 digits in all); the current national
    layout uses 5 (17 digits). HEALTHREC_ARCHIVE_SERIAL_DIGITS picks one per site, and
    HEALTHREC_VILLAGE_CODES the rule its village segments follow.
    """

    serial_digits: int = 4
    village_codes: str = "archive"

    @property
    def length(self):
        return 12 + self.serial_digits

    @property
    def max_serial(self):
        return 10 ** self.serial_digits - 1

    @property
    def pattern(self):
        """The codes `parse` accepts as a regular expression of ASCII digits, for the OpenAPI
        document: clients and fuzzers then make codes the service takes."""
        serial = "|".join("0" * zeros + f"[1-9][0-9]{{{self.serial_digits - 1 - zeros}}}"
                          for zeros in range(self.serial_digits))
        return f"^{VILLAGE_PATTERN[self.village_codes]}(?:{serial})$"

    def format(self, village, serial):
        if not 1 <= serial <= self.max_serial:
            raise ArchiveCodeError(f"serial {serial} is outside 1-{self.max_serial}")
        return f"{village}{serial:0{self.serial_digits}d}"

    def parse(self, code):
        """(village code, serial) of a well-formed archive code."""
        if not ascii_digits(code) or len(code) != self.length:
            raise ArchiveCodeError(
                f"{code!r} is not an archive code: it has {self.length} digits, the 12-digit "
                f"village code followed by a {self.serial_digits}-digit serial.")
        village, serial = code[:12], int(code[12:])
        try:
            level_of(village[:9])  # a township ending in 000 is no township, so no village is under it
            level_of(village)
            village_kind(village, self.village_codes)
        except RegionCodeError as error:
            raise ArchiveCodeError(f"{code} does not start with a village code: {error}") from None
        if serial == 0:
            raise ArchiveCodeError(f"{code}: the serial starts at 1.")
        return village, serial

    def village_of(self, code):
        return self.parse(code)[0]


def site_layout():
    """The archive-code layout this site uses (HEALTHREC_ARCHIVE_SERIAL_DIGITS, HEALTHREC_VILLAGE_CODES)."""
    from flask import current_app

    return CodeLayout(current_app.config["ARCHIVE_SERIAL_DIGITS"], current_app.config["VILLAGE_CODES"])


def prefix_range(prefix):
    """A query on string `_id`s that start with the digits `prefix`.

    A range rather than a regex: both servers answer it alike and MongoDB walks the
    `_id` index for it. ':' is the character after '9'.
    """
    return {"$gte": prefix, "$lt": prefix + ":"}


# --- ID card (GB 11643: 6 area + 8 birth date + 3 sequence + 1 MOD 11-2 check) ---------

class IdCardError(ValueError):
    """A malformed ID card number; the message says which part is wrong."""


@dataclass
class IdCard:
    number: str
    birth_date: date
    sex: str
    warnings: list = field(default_factory=list)


def parse_id_card(text, today=None):
    """Check an ID card number and read its birth date and sex.

    Raises IdCardError for a wrong length, characters, check digit or birth date. An
    area code that did not exist in the birth year is only a warning: counties were
    renamed and renumbered (宁陵县 was 412324 before 1997), and stdnum's table is not
    complete, so a real card may carry a code it does not know.
    """
    number = normalized(text or "").upper()  # "x" is often typed for "X"
    if len(number) != 18:
        raise IdCardError(f"An ID card number has 18 characters; this one has {len(number)}.")
    if not ascii_digits(number[:17]) or not (ascii_digits(number[17]) or number[17] == "X"):
        raise IdCardError("An ID card number is 17 digits followed by a digit or X.")
    if number[17] != ric.calc_check_digit(number):
        raise IdCardError("The check digit (last character) does not match the other 17: "
                          "one of them was probably mistyped.")
    try:
        born = ric.get_birth_date(number)
    except ValidationError:
        raise IdCardError(f"Characters 7-14 ({number[6:14]}) are not a real date YYYYMMDD.") from None
    today = today or clock.today()
    if born > today or born.year < 1880:
        raise IdCardError(f"The birth date in the number ({born.isoformat()}) is not plausible.")
    card = IdCard(number, born, "male" if int(number[16]) % 2 else "female")
    try:
        ric.get_birth_place(number)
    except ValidationError:
        card.warnings.append(f"The area code {number[:6]} is not known for {born.year}; "
                             "check the first six digits against the card.")
    return card


def disagreements(card, birth_date, sex):
    """Field errors where the archive's birth_date or sex contradicts the ID card."""
    errors = {}
    if birth_date is not None and birth_date != card.birth_date:
        message = f"The ID card says the birth date is {card.birth_date.isoformat()}, not {birth_date.isoformat()}."
        errors["birth_date"] = [message]
        errors.setdefault("id_card", []).append(message)
    # GB/T 2261.1's "unknown" and "not stated" make no claim the card could contradict.
    if sex in ("male", "female") and sex != card.sex:
        message = (f"The ID card's 17th digit is {'odd' if card.sex == 'male' else 'even'}, "
                   f"which means {card.sex}, but sex is {sex}.")
        errors["sex"] = [message]
        errors.setdefault("id_card", []).append(message)
    return errors


# --- Test and demo ID cards -----------------------------------------------------------

def area_for(areas, year):
    """The first of `areas` that stdnum knows as a county in `year`, else the first."""
    for area in areas:
        try:
            ric.get_birth_place(f"{area}{year}0101" + "0000")
        except ValidationError:
            continue
        return area
    return areas[0]


def fake_birth_date(rng, oldest=95, today=None):
    """A real date at most `oldest` years ago."""
    today = today or clock.today()
    return today - timedelta(days=rng.randint(0, oldest * 365))


def fake_id_card(rng=None, birth_date=None, sex=None, areas=("411423", "412324")):
    """A well-formed ID card number with a real check digit, for tests and demo data.

    The area is the first of `areas` valid in the birth year (the demo county's code
    before and after 1997 by default), so the number passes every check.
    """
    rng = rng or random.Random()
    birth_date = birth_date or fake_birth_date(rng)
    sex = sex or rng.choice(("male", "female"))
    sequence = rng.randrange(1 if sex == "male" else 2, 1000, 2)  # odd for men, even for women
    body = f"{area_for(areas, birth_date.year)}{birth_date:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")
