"""Region codes: county (6 digits, GB/T 2260), township (+3) and village (+3)."""

import unicodedata

LEVELS = {6: "county", 9: "township", 12: "village"}
KINDS = ("urban", "rural", "other")

# What a village segment (digits 10-12) says about the village, by the rule a county's
# codes follow (HEALTHREC_VILLAGE_CODES): the health-archive rule of the provincial plan,
# or the statistical division codes (统计用区划代码) many counties actually hold, where
# 001-199 are residents' committees, 200-399 village committees, 400-499 and 500-599 the
# bodies treated like them.
VILLAGE_RULES = {
    "archive": ((1, 99, "urban"), (101, 199, "rural"), (901, 999, "other")),
    "statistical": ((1, 199, "urban"), (200, 399, "rural"), (400, 499, "urban"), (500, 599, "rural")),
}
RULE_NAMES = {
    "archive": "001-099 (residents' committee, urban), 101-199 (village committee, rural) or 901-999 (other)",
    "statistical": "001-199 (residents' committee, urban), 200-399 (village committee, rural), 400-499 "
                   "(like a residents' committee) or 500-599 (like a village committee)",
}

# The same rules as regular expressions of the 12 digits (the last three of a township
# are never 000), for the OpenAPI document.
_SEGMENT = "(?:00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})"
VILLAGE_PATTERN = {
    "archive": f"[0-9]{{6}}{_SEGMENT}[019](?:0[1-9]|[1-9][0-9])",
    "statistical": f"[0-9]{{6}}{_SEGMENT}(?:00[1-9]|0[1-9][0-9]|[1-5][0-9]{{2}})",
}
# A county, township or village (6, 9 or 12 digits); level_of says what is wrong with others.
REGION_PATTERN = f"^[0-9]{{6}}{_SEGMENT}{{0,2}}$"


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
    """The parent its code names; a merger may have given a village another (see regions.service)."""
    return code[:-3] if len(code) > 6 else None


def village_kind(code, rule="archive"):
    """Urban, rural or other: the guess the village segment allows under `rule`."""
    segment = int(code[9:12])
    for low, high, kind in VILLAGE_RULES[rule]:
        if low <= segment <= high:
            return kind
    raise RegionCodeError(f"{code}: village segment {code[9:12]} is not allowed; use {RULE_NAMES[rule]}.")
