"""One tolerant comparator; its mismatches name the quantity and show both numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .i18n import t
from .protocol import NotNumbers
from .spec import Tolerance


@dataclass(frozen=True)
class Mismatch:
    name: str
    expected: float
    actual: float | None  # None: not a number at all
    note: str = ""  # why `actual` is None, e.g. "a tensor of shape [2]"

    def __str__(self) -> str:
        if self.actual is None:
            return t("compare.mismatch", name=self.name, expected=_fmt(self.expected),
                     actual=self.note or t("compare.no_number"))
        e, a = _distinct(self.expected, self.actual)
        return t("compare.mismatch", name=self.name, expected=e, actual=a)


def _fmt(v: float, digits: int = 4) -> str:
    return f"{v:.{digits}g}"


def _distinct(e: float, a: float) -> tuple[str, str]:
    """Enough significant digits for the two numbers to print differently (0.12346 vs 0.12350)."""
    if _fmt(e) != _fmt(a):
        return _fmt(e), _fmt(a)
    digits = next((d for d in range(5, 12) if f"{e:#.{d}g}" != f"{a:#.{d}g}"), 12)
    es, as_ = f"{e:#.{digits}g}", f"{a:#.{digits}g}"
    if "e" in es or "e" in as_:
        return es, as_
    common = min(len(es) - len(es.rstrip("0")), len(as_) - len(as_.rstrip("0")))
    return es[: len(es) - common].rstrip("."), as_[: len(as_) - common].rstrip(".")


def close(expected: float, actual: float, tol: Tolerance) -> bool:
    return math.isfinite(actual) and abs(actual - expected) <= tol.atol + tol.rtol * abs(expected)


def scalar(value: Any) -> tuple[float | None, str]:
    """One number out of an observed value ([0.5] or a description dict), or why not."""
    if value is None:
        return None, t("compare.nothing")
    if isinstance(value, NotNumbers):
        return None, t("compare.a_kind", kind=value.type) if value.shape is None else \
            t("compare.a_kind_of_shape", kind=value.type, shape=value.shape)
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], (int, float)):
        return float(value[0]), ""
    if isinstance(value, list):
        return None, t("compare.many_numbers", count=len(value))
    return None, t("compare.a_kind", kind=type(value).__name__)


def compare(expected: dict[str, float], actual: dict[str, Any], tol: Tolerance) -> list[Mismatch]:
    """Mismatches for every expected name; `actual` holds observed values by the same names."""
    out = []
    for name, e in expected.items():
        a, why = scalar(actual.get(name))
        if a is None:
            out.append(Mismatch(name, e, None, why if name in actual else t("compare.no_value")))
        elif not close(e, a, tol):
            out.append(Mismatch(name, e, a))
    return out
