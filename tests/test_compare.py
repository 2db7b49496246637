"""The comparator: tolerance semantics and messages that name the mismatch."""

from __future__ import annotations

import math

from grader.compare import close, compare
from grader.protocol import NotNumbers
from grader.spec import Tolerance

TOL = Tolerance(rtol=1e-4, atol=1e-6)


def test_close_uses_rtol_and_atol():
    assert close(1.0, 1.00009, TOL)
    assert not close(1.0, 1.0002, TOL)
    assert close(0.0, 9e-7, TOL)
    assert not close(0.0, 2e-6, TOL)


def test_nan_and_inf_never_match():
    assert not close(1.0, math.nan, TOL)
    assert not close(1.0, math.inf, TOL)


def test_message_names_quantity_and_both_numbers():
    (m,) = compare({"d_w1": -0.0084215}, {"d_w1": [0.01207]}, TOL)
    assert str(m) == "d_w1: expected -0.008422, got 0.01207"


def test_digits_grow_until_the_numbers_differ():
    (m,) = compare({"w1": 0.123456}, {"w1": [0.123499]}, TOL)
    assert str(m) == "w1: expected 0.12346, got 0.12350"


def test_non_numbers_are_described():
    got = compare({"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0},
                  {"a": None, "b": NotNumbers("tensor", [2, 3]), "c": [1.0, 2.0]}, TOL)
    text = [str(m) for m in got]
    assert text == ["a: expected 1, got nothing (None)", "b: expected 1, got a tensor of shape [2, 3]",
                    "c: expected 1, got 2 numbers where one is expected", "d: expected 1, got no value"]
