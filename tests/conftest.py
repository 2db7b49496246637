from __future__ import annotations

from pathlib import Path

import pytest

SUBMISSIONS = Path(__file__).parent / "submissions"


@pytest.fixture
def write(tmp_path: Path):
    """Write bytes or text to a file in a temporary folder and return its path."""

    def _write(name: str, content: str | bytes) -> Path:
        p = tmp_path / name
        p.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return p

    return _write


@pytest.fixture(autouse=True)
def english_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite expects English reports: a developer's zh_CN locale must not change the CLI's default language."""
    monkeypatch.setenv("LC_ALL", "C.UTF-8")


def total(assignment: str) -> float:
    """An assignment's full marks, as its TOML's points add up."""
    from grader.spec import load_all

    return load_all()[assignment].max_score


def points(assignment: str, check: str) -> float:
    from grader.spec import load_all

    return load_all()[assignment].checks[check].points


SEED000_SCORE_LOST = ("gradients", 4 / 8)  # seed 000: d_w1..d_w4 of 8 gradients wrong (partial credit per weight)


def seed000_score() -> float:
    check, share = SEED000_SCORE_LOST
    return total("bp-numpy") - points("bp-numpy", check) * share
