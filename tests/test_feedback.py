"""Feedback that teaches: the loss curve as a picture, and who may see which numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from grader.options import Options
from grader.grade import grade_file
from grader.spec import load_all
from reference.models import MODELS

from .conftest import SUBMISSIONS
from .test_cli import grade

SEED002 = SUBMISSIONS / "bp-torch" / "seed002_only_w1_zeroed.py"
SEED000 = SUBMISSIONS / "bp-numpy" / "seed000_hidden_delta.py"


def _pixels_near(image: np.ndarray, rgb: tuple[int, int, int], tolerance: float = 0.12) -> int:
    return int((np.abs(image[..., :3] - np.array(rgb) / 255).max(axis=-1) < tolerance).sum())


def test_plots_draws_the_students_curve_beside_the_references(tmp_path: Path):
    run = grade(SEED002, "--plots", tmp_path / "plots", "--json", tmp_path / "fb.json")
    fb = json.loads((tmp_path / "fb.json").read_text())
    assert run.returncode == 1 and fb["plot"] == str(tmp_path / "plots" / "seed002_only_w1_zeroed.png")
    curve = fb["curve"]
    assert len(curve["student"]) == len(curve["reference"]) == load_all()["bp-torch"].training.curve
    assert abs(curve["student"][0] - curve["reference"][0]) < 1e-6 < abs(curve["student"][-1] - curve["reference"][-1])
    image = imread(fb["plot"])
    assert image.shape[0] > 200 and image.shape[1] > 400
    assert _pixels_near(image, (214, 39, 40)) > 200  # the student's: tab:red
    assert _pixels_near(image, (127, 127, 127)) > 200  # the reference's: tab:gray


def test_a_student_sees_no_case_numbers_an_instructor_sees_all():
    student = grade_file(SEED000)
    instructor = grade_file(SEED000, Options(view="instructor"))
    assert student.view == "student" and all(c.cases is None for c in student.checks)
    gradients = next(c for c in instructor.checks if c.id == "gradients")
    assert gradients.cases is not None and [c.case for c in gradients.cases] == [0, 1, 2, 3]
    assert all(not c.passed and c.mismatches for c in gradients.cases)
    assert student.model_dump(exclude={"view", "checks", "seconds", "seed"}) == \
        instructor.model_dump(exclude={"view", "checks", "seconds", "seed"})
    assert student.seed is None and instructor.seed is not None  # the hidden cases' seed: the instructor's to know


def test_the_notes_name_the_models_units_and_weights():
    """The dead-ReLU and symmetry notes read the model's units (reference/models.py), not fixed names: every
    unit whose input the reference finds negative on the given case is named, an output unit too."""
    relu = grade_file(SUBMISSIONS / "bp-torch" / "relu_correct.py")
    dead = [n for n in relu.notes if n.startswith("dead ReLU")]
    model, g = MODELS["net222"], load_all()["bp-torch"].given
    _, z = model.forward(g.inputs, g.targets, g.weights, "relu")
    units = [*model.hidden, *model.output_units]
    negative = [u for u, v in zip(units, z) if v < 0]
    assert [u.name for u in negative] == ["h2", "o2"]  # the homework's case: h2 and o2 die
    assert len(dead) == len(negative)
    for note, unit in zip(dead, negative):
        assert f"{unit.name}'s input" in note and f"({', '.join(unit.params)})" in note
    zero = grade_file(SUBMISSIONS / "bp-torch" / "zero_init_correct.py")
    assert any(n.startswith("symmetry") and "(h1, h2)" in n and "w1 = w2, w3 = w4 after" in n for n in zero.notes)
    assert not any(n.startswith(("symmetry", "dead ReLU")) for n in grade_file(SEED000).notes)


def test_an_update_sign_error_is_drawn_against_the_reference_at_the_homeworks_step():
    """Its measured step is -1: run there, the reference would climb with it and hide the bug."""
    fb = grade_file(SUBMISSIONS / "bp-torch" / "update_sign_error.py")
    curve = fb.curve
    a = load_all()["bp-torch"]
    assert curve is not None and curve.step == a.given.step
    ref = MODELS["net222"].train([(a.given.inputs, a.given.targets)], a.given.weights, a.given.step, len(curve.reference))[0]
    np.testing.assert_allclose(curve.reference, ref, rtol=1e-6)  # from its float32 start
    assert all(b < a_ for a_, b in zip(curve.reference, curve.reference[1:]))  # the reference falls
    assert curve.student[-1] > curve.student[0]  # the student's climbs


def test_chinese_labels_are_drawn_in_a_cjk_font():
    """A file name or a --lang zh label in Chinese: each character its own glyph, not the same box for all."""
    from grader import plots

    if plots.cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-wqy-microhei; .ci/run does)")
    masks = [np.array(plots._label(ch, 14, "lm")[0]) for ch in "训练损失"]
    assert all(m.any() for m in masks)
    assert len({m.tobytes() for m in masks}) == 4


def test_a_chinese_plot_speaks_chinese(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from grader import plots

    drawn: list[str] = []
    real = plots._Chart.text
    monkeypatch.setattr(plots._Chart, "text", lambda self, xy, text, anchor, size=12: (drawn.append(text),
                                                                                       real(self, xy, text, anchor, size)))
    fb = plots.with_plot(grade_file(SEED002, Options(lang="zh")), tmp_path / "curve.png")
    assert Path(fb.plot).is_file()
    assert f"{SEED002.name}:训练损失" in drawn and "参考答案" in drawn and "你的函数" in drawn
    assert any(x.startswith("轮次") for x in drawn)
