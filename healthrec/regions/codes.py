"""Region codes: county (6 digits, GB/T 2260), township (+3) and village (+3)."""

import unicodedata

LEVELS = {6: "county", 9: "township", 12: "village"}


class RegionCodeError(ValueError):
    pass


def normalized(text):
    """What a person typed as a code or number, in the one form the service keeps: NFKC
    turns full-width digits and letters (１２３, Ｘ) into ASCII ones; spaces go."""
    return "".join(unicodedata.normalize("NFKC", text).split()) if isinstance(text, str) else text


def ascii_digits(text):
    """True for a non-empty string of 0-9 only (str.isdigit also takes other scripts' digits)."""
    return isinstance(text, str) and text.isascii() and text.isdigit()


def level_of(code):
    if not ascii_digits(code) or len(code) not in LEVELS:
        raise RegionCodeError(
            f"{code!r} is not a region code: use 6 digits (county), 9 (township) or 12 (village).")
    if len(code) > 6 and code[-3:] == "000":
        raise RegionCodeError(f"{code}: the last three digits may not be 000.")
    return LEVELS[len(code)]


def parent_of(code):
    return code[:-3] if len(code) > 6 else None


def village_kind(code):
    """Urban residents' committee, rural village committee or other, from the segment."""
    segment = int(code[9:12])
    if 1 <= segment <= 99:
        return "urban"
    if 101 <= segment <= 199:
        return "rural"
    if 901 <= segment <= 999:
        return "other"
    raise RegionCodeError(
        f"{code}: village segment {code[9:12]} is not allowed; use 001-099 (residents' committee,"
        " urban), 101-199 (village committee, rural) or 901-999 (other).")
