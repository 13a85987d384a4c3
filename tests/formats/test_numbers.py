"""Figures people can read (issue 11, item 8): the same rules in every format."""

from __future__ import annotations

import pytest

from scorer.formats.numbers import DASH, amount, rate, ratio_or_dash, share


@pytest.mark.parametrize(
    "x, text",
    [
        (0.0042, "0.0042"),
        (0.014, "0.014"),
        (0.004, "0.0040"),
        (2.2e-05, "0.000022"),
        (0.1, "0.10"),
        (0.666667, "0.67"),
        (1.50829, "1.51"),
        (0, "0"),
        (None, DASH),
    ],
)
def test_rates_keep_two_significant_digits_when_small(x, text):
    assert rate(x) == text


@pytest.mark.parametrize(
    "x, text", [(0.666667, "67%"), (0.004, "0.40%"), (0.0123, "1%"), (0, "0%"), (1, "100%")]
)
def test_shares(x, text):
    assert share(x) == text


@pytest.mark.parametrize("x, text", [(4.0, "4"), (25.857142, "25.9"), (3.428571, "3.4")])
def test_amounts_of_weeks(x, text):
    assert amount(x) == text


def test_zero_over_zero_is_a_dash_and_zero_over_something_is_zero():
    assert ratio_or_dash(0, 0, 0.0) == DASH
    assert ratio_or_dash(0, 8, 0.0) == "0"
    assert ratio_or_dash(0, 0, 0.0, share) == DASH
