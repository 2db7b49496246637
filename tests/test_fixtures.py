"""Every fixture submission in tests/submissions gets the verdict written in verdicts.toml.

The fixtures are written the way the seeds write: module globals read inside
functions, `loss_fuction`, GBK, notebooks with magics, inline training loops; each
typical bug has its own file, and bad input must come back as `status: error`.
"""

from __future__ import annotations

import ast
import re
import tomllib
from functools import cache

import pytest

from grader.detect import detect_assignment, detect_task
from grader.expected import expected
from grader.feedback import Feedback
from grader.options import Options
from grader.grade import grade_file
from grader.i18n import LANGS
from grader.load import load
from grader.plan import cases
from grader.spec import load_all
from reference.mistakes import MISTAKES

from .conftest import SUBMISSIONS

VERDICTS = tomllib.loads((SUBMISSIONS / "verdicts.toml").read_text(encoding="utf-8"))
GRADED = sorted(k for k, v in VERDICTS.items() if v["status"] == "graded")


@cache
def graded(name: str, seed: int | None = None) -> Feedback:
    """The student's view of a fixture; `seed` fixes its hidden cases (None: drawn from the grader's secret)."""
    v = VERDICTS[name]
    return grade_file(SUBMISSIONS / name, Options(assignment=v.get("assignment"), task=v.get("task"), seed=seed))


def test_every_fixture_has_a_verdict():
    files = {str(p.relative_to(SUBMISSIONS)) for p in SUBMISSIONS.rglob("*") if p.suffix in (".py", ".ipynb")}
    assert files == set(VERDICTS)


@cache
def graded_for_instructor(name: str) -> Feedback:
    v = VERDICTS[name]
    return grade_file(SUBMISSIONS / name, Options(assignment=v.get("assignment"), task=v.get("task"),
                                                  view="instructor"))


@pytest.mark.parametrize("name", sorted(VERDICTS))
def test_verdict(name: str):
    v = VERDICTS[name]
    fb = graded(name)
    Feedback.model_validate_json(fb.model_dump_json())
    assert fb.status == v["status"], fb.error
    if fb.status == "error":
        assert fb.error and "\n" not in fb.error and "Traceback" not in fb.error
        assert v["error_contains"] in fb.error
        return
    by_status: dict[str, set[str]] = {}
    for c in fb.checks:
        by_status.setdefault(c.status, set()).add(c.id)
    report = "\n".join(f"{c.id}: {c.status} {c.message}" for c in fb.checks)
    for status, key in (("pass", "passed"), ("fail", "failed"), ("skipped", "skipped"), ("error", "errored")):
        assert by_status.get(status, set()) == set(v.get(key, [])), report
    for check_id, fragments in v.get("message_contains", {}).items():
        message = next(c.message for c in fb.checks if c.id == check_id)
        for fragment in fragments:
            assert fragment in message, message
    assert fb.max_score == load_all()[v["assignment"]].max_score, report  # one total for every style
    if not v.get("failed") and not v.get("errored"):
        assert fb.score == fb.max_score > 0, report  # a correct submission loses nothing, whatever its style
    diagnosed = {c.id: c.diagnosis for c in fb.checks if c.diagnosis}
    assert diagnosed == v.get("diagnosis", {}), report  # a correct file is never diagnosed


@pytest.mark.parametrize("name", GRADED)
def test_assignment_and_task_are_detected(name: str):
    source = load(SUBMISSIONS / name).text
    tree = ast.parse(source)
    v = VERDICTS[name]
    assert detect_assignment(load_all(), tree) == v["assignment"]
    assert detect_task(load_all()[v["assignment"]], source, tree)[0] == v["task"]


def _shown(fb: Feedback) -> set[str]:
    text = " ".join([c.message for c in fb.checks] + [h for c in fb.checks for h in c.hints] + fb.notes)
    return {word.strip(";,()") for word in text.split()}


def test_hidden_values_never_reach_a_message():
    """A student sees how many hidden cases passed, never their inputs or expected numbers.

    Four digits of two numbers can agree by chance (a given-case gradient and a hidden one, on some
    machine's secret): a number the report shows just the same when other hidden cases are drawn is not
    theirs; a leaked hidden number changes with the cases."""
    for name in GRADED:
        fb = graded(name)
        a = load_all()[fb.assignment]
        task = a.tasks[fb.task]
        seed = graded_for_instructor(name).seed  # the cases this file met, drawn from the grader's secret
        assert fb.seed is None and seed is not None
        secret = set()
        for case in cases(a, task, seed)[1:]:
            for value in [*case.values.values(), *expected(a, task, case.values).values()]:
                secret.update({f"{value:.4g}", f"{value:#.5g}"})
        leaked = _shown(fb) & secret
        if leaked:
            leaked -= _shown(graded(name, seed + 1))
        assert not leaked, (name, leaked)


@pytest.mark.parametrize("name", sorted(k for k, v in VERDICTS.items() if v.get("diagnosis")))
def test_a_diagnosis_names_the_mistake_in_both_languages(name: str):
    v = VERDICTS[name]
    for lang in LANGS:
        fb = grade_file(SUBMISSIONS / name, Options(assignment=v.get("assignment"), task=v.get("task"), lang=lang))
        for check_id, ids in v["diagnosis"].items():
            check = next(c for c in fb.checks if c.id == check_id)
            assert check.diagnosis == ids
            for i in ids:
                text = MISTAKES[i].text[lang].written_for(fb_framework(fb))
                assert text.name in check.message and any(text.fix in h for h in check.hints), (lang, check.message)


def fb_framework(fb: Feedback) -> str:
    return load_all()[fb.assignment].framework


@pytest.mark.parametrize("name", ["bp-torch/correct_seed001_template.py", "bp-numpy/correct_seed001_fixed.py"])
def test_training_says_how_many_rounds_it_drove(name: str):
    fb = graded(name)
    a = load_all()[fb.assignment]
    given, hidden = a.training.curve, a.training.rounds
    message = next(c.message for c in fb.checks if c.id == "training")
    assert f"{max(given, hidden)} rounds on the given case ({hidden} on each hidden one)" in message


def test_an_ungradable_file_is_zero_of_the_total():
    """A syntax error is 0 of its assignment's total (detected from what the rest of it defines), so
    a spreadsheet never divides by 0; with --assignment, of that one's."""
    broken = grade_file(SUBMISSIONS / "bad/syntax_error.py")
    assert broken.status == "error" and broken.assignment is not None
    assert (broken.score, broken.max_score) == (0, load_all()[broken.assignment].max_score)
    for aid in ("bp-torch", "linear"):
        fb = grade_file(SUBMISSIONS / "bad/corrupted.ipynb", Options(assignment=aid))
        assert fb.status == "error" and (fb.score, fb.max_score) == (0, load_all()[aid].max_score)


def test_the_hint_names_the_students_own_step():
    fb = graded("linear/forgot_zero_grad_lr_005.py")
    training = next(c for c in fb.checks if c.id == "training")
    assert any("w.data -= 0.05 * w.grad.data" in h for h in training.hints)
    assert not any("0.01" in h for h in training.hints)


def test_a_numpy_hint_never_suggests_torch():
    """The catalogue's texts a numpy submission reads: loss-doubled's fix is ½·Σ, not MSELoss()(torch.cat(...))."""
    for mid, m in MISTAKES.items():
        if "numpy" not in m.frameworks:
            continue
        for lang in LANGS:
            text = m.text[lang].written_for("numpy")
            assert not re.search(r"torch|MSELoss|autograd|\.grad\b|backward\(\)", f"{text.explanation} {text.fix}"), (mid, lang)


def test_a_numpy_file_graded_as_bp_torch_says_it_looks_like_bp_numpy():
    fb = grade_file(SUBMISSIONS / "bp-numpy/correct_seed001_fixed.py", Options(assignment="bp-torch"))
    assert fb.notes[0].startswith("this file looks like bp-numpy (numpy), not bp-torch")
    assert "--assignment bp-numpy" in fb.notes[0]
    assert not any(n.startswith("this file looks like") for n in graded("bp-numpy/correct_seed001_fixed.py").notes)


def test_the_detected_task_names_the_evidence_and_the_candidates():
    def detected(name: str) -> Feedback:
        return grade_file(SUBMISSIONS / name)

    fb = detected("bp-torch/seed000_item8_zero_cross_entropy.py")
    assert fb.task == "zero-init-cross-entropy"
    assert "loss_fuction calls torch.nn.CrossEntropyLoss" in fb.detected and "every weight starts at 0" in fb.detected
    assert "considered: cross-entropy, zero-init, zero-init-cross-entropy" in fb.detected
    assert detected("bp-torch/unused_relu_defined.py").task == "sigmoid"
    assert "torch.zeros(1)" in detected("bp-torch/zero_init_torch_zeros.py").detected


def test_a_combination_no_task_has_is_graded_as_the_closest_and_says_so(tmp_path):
    """relu with a zero start: no task asks for both; the grader says which one it graded."""
    src = (SUBMISSIONS / "bp-torch/zero_init_torch_zeros.py").read_text(encoding="utf-8")
    path = tmp_path / "hw3.py"
    path.write_text(src.replace("out_h1 = sigmoid(in_h1)", "out_h1 = torch.relu(in_h1)"), encoding="utf-8")
    a = load_all()["bp-torch"]
    task, why = detect_task(a, path.read_text(encoding="utf-8"), ast.parse(path.read_text(encoding="utf-8")))
    assert "forward_propagate calls torch.relu" in why and "every weight starts at 0" in why
    assert f"no task asks for all of that, so it is graded as {task}, the closest" in why
    assert task in ("relu", "zero-init")
