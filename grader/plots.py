"""The pictures: a submission's training loss against the reference's, a batch's score histogram.

PNG files written atomically (beside the target, then renamed). Figures are made without
pyplot and drawn one at a time: matplotlib's text layout is not thread-safe, and a batch
draws from its worker threads.
"""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path
from typing import Any

from .feedback import Curve

_UMASK = os.umask(0o022)
os.umask(_UMASK)
READABLE = 0o666 & ~_UMASK  # what a plain open() would have given; mkstemp gives 0600
_drawing = threading.Lock()


def _figure() -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    return fig, fig.add_subplot()


def _save(fig: Any, target: Path) -> None:
    """Called with _drawing held."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".png")
    os.fchmod(fd, READABLE)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=100, format="png")
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def draw_histogram(fractions: list[float], target: Path) -> None:
    """Scores as a fraction of the maximum, one bar per tenth."""
    with _drawing:
        _draw_histogram(fractions, target)


def _draw_histogram(fractions: list[float], target: Path) -> None:
    fig, ax = _figure()
    ax.hist(fractions, bins=[i / 10 for i in range(11)], edgecolor="black")
    ax.set_xlabel("score / maximum")
    ax.set_ylabel("submissions")
    ax.set_title(f"{len(fractions)} graded submissions")
    fig.tight_layout()
    _save(fig, target)


def draw_curve(curve: Curve, title: str, target: Path) -> None:
    """Both curves round by round. Drawn cheaply (no tight layout, no log-scale mathtext): a batch draws one
    per submission and the target is ten submissions a second."""
    with _drawing:
        _draw_curve(curve, title, target)


def _draw_curve(curve: Curve, title: str, target: Path) -> None:
    rounds = range(1, len(curve.student) + 1)
    fig, ax = _figure()
    ax.plot(rounds, curve.reference, "o-", color="tab:gray", label="reference", linewidth=3, alpha=0.5)
    ax.plot(rounds, curve.student, "x--", color="tab:red", label="your functions")
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"round (step {curve.step:g}, the given case)")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    fig.subplots_adjust(left=0.14, right=0.97, top=0.9, bottom=0.15)
    _save(fig, target)
