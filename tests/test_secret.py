"""Hidden cases no file can learn in advance: seeded from the grader's secret and the file's bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import secret
from grader.expected import expected
from grader.grade import grade_file
from grader.options import Options
from grader.plan import cases
from grader.spec import load_all

from .conftest import SUBMISSIONS

CORRECT = SUBMISSIONS / "bp-numpy" / "correct_seed001_fixed.py"


def test_a_file_meets_the_same_cases_each_time_and_any_change_meets_new_ones():
    content = CORRECT.read_bytes()
    assert secret.seed_for(content, "bp-numpy") == secret.seed_for(content, "bp-numpy")
    assert secret.seed_for(content + b"\n", "bp-numpy") != secret.seed_for(content, "bp-numpy")
    assert secret.seed_for(content, "bp-torch") != secret.seed_for(content, "bp-numpy")


def test_another_secret_draws_other_cases(monkeypatch: pytest.MonkeyPatch):
    before = secret.seed_for(b"x", "bp-numpy")
    monkeypatch.setenv("BPGRADE_SECRET", "another course's key")
    secret.key.cache_clear()
    try:
        assert secret.seed_for(b"x", "bp-numpy") != before
    finally:
        monkeypatch.undo()
        secret.key.cache_clear()


def test_the_instructor_json_records_the_seed_and_seed_reproduces_the_verdict():
    fb = grade_file(CORRECT, Options(assignment="bp-numpy", view="instructor"))
    assert fb.seed is not None and grade_file(CORRECT).seed is None  # the student's view keeps it
    again = grade_file(CORRECT, Options(assignment="bp-numpy", view="instructor", seed=fb.seed))
    assert [c.model_dump() for c in again.checks] == [c.model_dump() for c in fb.checks]


def _lookup_table(answers: dict[tuple[float, ...], tuple[float, ...]]) -> str:
    """A forward that returns the reference's outputs for the inputs it has seen, as a student who read them
    in an earlier report would write it, and nonsense for anything else."""
    return (f"ANSWERS = {answers!r}\n\n"
            "def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):\n"
            "    return ANSWERS.get((x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8), (0.0,) * 5)\n\n"
            "def back_propagate(out_o1, out_o2, out_h1, out_h2):\n    return (0.0,) * 8\n\n"
            "def update_w(step, w1, w2, w3, w4, w5, w6, w7, w8):\n    return w1, w2, w3, w4, w5, w6, w7, w8\n")


def test_a_lookup_table_of_the_hidden_cases_a_file_once_met_meets_other_cases(tmp_path: Path):
    """Even knowing every hidden input of one file's grading (as an instructor's JSON, or a leak, shows
    them), a file built from them is another file: its own hidden cases are not in the table."""
    a = load_all()["bp-numpy"]
    task = a.tasks["default"]
    first = tmp_path / "hw.py"
    first.write_text(_lookup_table({}), encoding="utf-8")
    seen = grade_file(first, Options(assignment="bp-numpy", view="instructor")).seed
    assert seen is not None
    names = [*a.inputs, *a.targets, *a.weights]
    answers = {}
    for case in cases(a, task, seen):
        want = expected(a, task, case.values)
        answers[tuple(case.values[n] for n in names)] = tuple(
            want[k] for k in ("out_o1", "out_o2", "out_h1", "out_h2", "error"))
    first.write_text(_lookup_table(answers), encoding="utf-8")
    fb = grade_file(first, Options(assignment="bp-numpy"))
    forward = next(c for c in fb.checks if c.id == "forward")
    assert forward.status == "fail" and forward.hidden is not None and forward.hidden.passed == 0
