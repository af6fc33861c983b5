"""Rates as the plan writes them: percentages with one decimal, halves rounded up (not to
even, as round() would), null where there is nothing to divide by; coverage targets by
programme year."""

import pytest

from healthrec.metrics.rates import coverage_target, rate, target


@pytest.mark.parametrize("part, whole, expected", [
    (1, 400, 0.3),  # 0.25: a half, rounded up (round(0.25, 1) gives 0.2)
    (3, 400, 0.8),  # 0.75
    (1, 8, 12.5),
    (1, 16, 6.3),  # 6.25
    (2, 3, 66.7),
    (1, 3, 33.3),
    (999, 1000, 99.9),
    (19999, 20000, 100.0),  # 99.995
    (0, 7, 0.0),
    (7, 7, 100.0),
    (5, 0, None),
    (0, None, None),
])
def test_a_rate_has_one_decimal_rounded_half_up(part, whole, expected):
    assert rate(part, whole) == expected


@pytest.mark.parametrize("kind, year, expected", [
    ("urban", 2020, 30), ("urban", 2021, 40), ("urban", 2022, 50), ("urban", 2030, 50),
    ("rural", 2020, 5), ("rural", 2021, 20), ("rural", 2022, 30), ("rural", 2031, 30),
    ("urban", 2019, None), ("other", 2022, None), (None, 2022, None),
])
def test_coverage_targets_rise_over_the_programmes_three_years(kind, year, expected):
    assert coverage_target(kind, year, start_year=2020) == expected


def test_a_target_is_met_when_the_rate_as_shown_reaches_it():
    assert target(30.0, 30) == {"rate": 30, "met": True}
    assert target(29.9, 30) == {"rate": 30, "met": False}
    assert target(None, 30) == {"rate": 30, "met": None}
    assert target(12.0, None) == {"rate": None, "met": None}
