"""How counts become the plan's rates (plan §五.三): pure arithmetic, no database.

Counts add up from villages to townships and counties; rates never do, so every rate is
computed from the summed counts of its region, as a percentage with one decimal rounded
half up, and null where there is nothing to divide by.
"""

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from healthrec.archives.rules import CHRONIC

TENTH = Decimal("0.1")

# Coverage (建档率) targets in the programme's first, second and third year; from the third
# year on the last one holds. Villages of kind "other" have none.
COVERAGE_TARGETS = {"urban": (30, 40, 50), "rural": (5, 20, 30)}


def rate(part, whole):
    """part / whole as a percentage with one decimal, rounded half up; None when whole is 0."""
    if not whole:
        return None
    return float((Decimal(part) * 100 / Decimal(whole)).quantize(TENTH, rounding=ROUND_HALF_UP))


def coverage_target(kind, year, start_year):
    """The coverage target (%) for villages of `kind` in calendar `year`, or None."""
    targets = COVERAGE_TARGETS.get(kind)
    if targets is None or year < start_year:
        return None
    return targets[min(year - start_year, len(targets) - 1)]


def target(coverage, goal):
    """{rate, met}: met when the coverage as shown reaches the goal; None when either is unknown."""
    return {"rate": goal, "met": None if goal is None or coverage is None else coverage >= goal}


def figures(residents, counts: Counter, goal=None):
    """The indicators of one region (or part of one) from its resident population and counts."""
    archived = counts["archived"]
    coverage = rate(archived, residents)
    result = {
        "population": residents,
        "archived": archived,
        "coverage_rate": coverage,
        "complete": counts["complete"],
        "completeness_rate": rate(counts["complete"], archived),
        "active": counts["active"],
        "usage_rate": rate(counts["active"], archived),
        "checked": counts["checked"],
        "qualified": counts["qualified"],
        "qualified_rate": rate(counts["qualified"], counts["checked"]),
        "authentic": counts["authentic"],
        "authenticity_rate": rate(counts["authentic"], counts["checked"]),
        "target": target(coverage, goal),
        "contracted": counts["contracted"],
        "contract_rate": rate(counts["contracted"], residents),
        "elderly": {
            "archived": counts["elderly"],
            "checked_up": counts["elderly_checked_up"],
            "management_rate": rate(counts["elderly_checked_up"], counts["elderly"]),
        },
    }
    for population in CHRONIC:
        patients, managed = counts[population], counts[f"{population}_managed"]
        standardised, controlled = counts[f"{population}_standardised"], counts[f"{population}_controlled"]
        result[population] = {
            "archived": patients, "managed": managed, "standardised": standardised, "controlled": controlled,
            "standardised_rate": rate(standardised, patients), "control_rate": rate(controlled, managed),
        }
    return result
