"""An assignment file that validates grades: it cannot name a check without its role, nor plan no hidden case."""

from __future__ import annotations

import tomllib

import pytest
from pydantic import ValidationError

from grader import plan
from grader.spec import ASSIGNMENTS_DIR, Assignment


def _raw(assignment: str) -> dict:
    return tomllib.loads((ASSIGNMENTS_DIR / f"{assignment}.toml").read_text(encoding="utf-8"))


def test_every_assignment_file_validates():
    for path in ASSIGNMENTS_DIR.glob("*.toml"):
        Assignment.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))


def test_a_check_without_the_role_it_judges_is_refused():
    raw = _raw("bp-torch")
    del raw["roles"]["update"]
    with pytest.raises(ValidationError, match="checks.update needs a role update"):
        Assignment.model_validate(raw)


def test_points_cannot_move_to_a_check_the_assignment_lacks():
    raw = _raw("linear")
    raw["checks"]["forward"]["moves_to"] = ["update"]
    with pytest.raises(ValidationError, match="moves_to"):
        Assignment.model_validate(raw)


def test_hidden_ranges_no_case_passes_are_a_clear_error_not_a_hang():
    raw = _raw("bp-torch")
    raw["hidden"]["weights"] = [-1.0, -0.99]  # every ReLU unit dead on every draw: no well-conditioned case
    a = Assignment.model_validate(raw)
    with pytest.raises(ValueError, match="widen the \\[hidden\\] ranges"):
        plan.cases(a, a.tasks["relu"], seed=1)
