"""The command line contract (SPEC §3): options, report, JSON, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from grader.feedback import Feedback
from grader.spec import load_all
from reference.mistakes import MISTAKES

from .conftest import SUBMISSIONS, seed000_score, total

SEED000 = SUBMISSIONS / "bp-numpy" / "seed000_hidden_delta.py"


def grade(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def test_help_explains_every_option():
    out = grade("--help").stdout
    for option in ("--assignment", "--task", "--json", "--seed"):
        assert option in out
    assert "bp-numpy" in out and "'-' prints only the JSON" in out


def test_report_and_exit_1_on_the_seed_program():
    r = grade(SEED000)
    assert r.returncode == 1, r.stderr
    assert "detected: assignment bp-numpy" in r.stdout
    assert "gradients  FAIL" in r.stdout and "d_w1: expected -0.008421" in r.stdout
    assert "score: 8.5/10" in r.stdout


def test_json_dash_prints_only_valid_feedback(tmp_path: Path):
    r = grade(SEED000, "--json", "-")
    fb = Feedback.model_validate_json(r.stdout)
    assert fb.status == "graded" and fb.assignment == "bp-numpy" and fb.max_score == total("bp-numpy")
    assert {c.id for c in fb.checks} == {"runs", "forward", "loss", "gradients", "update", "training", "policy"}
    data = json.loads(r.stdout)
    assert data["schema_version"] == 1 and data["checks"][3]["hidden"] == {"passed": 0, "total": 3}


def test_json_file_and_report_together(tmp_path: Path):
    out = tmp_path / "fb.json"
    r = grade(SEED000, "--json", out)
    assert "score: 8.5/10" in r.stdout
    assert Feedback.model_validate_json(out.read_text()).score == seed000_score()


def test_could_not_be_graded_exits_2_with_a_json_verdict(tmp_path: Path):
    bad = tmp_path / "hw.py"
    bad.write_text("def forward_propagate(x1, x2)\n    return x1\n")
    r = grade(bad, "--json", "-")
    assert r.returncode == 2
    fb = Feedback.model_validate_json(r.stdout)
    assert fb.status == "error" and fb.error == "syntax error at line 1: expected ':'"


def test_usage_errors_exit_2_with_one_line(tmp_path: Path):
    r = grade(SEED000, "--assignment", "bp-nope")
    assert r.returncode == 2 and "unknown assignment 'bp-nope'" in r.stderr
    assert "Traceback" not in r.stderr
    r = grade(SEED000, "--assignment", "bp-numpy", "--task", "relu")
    assert r.returncode == 2 and "has no task 'relu'" in r.stderr
    r = grade(tmp_path / "missing.py")
    assert r.returncode == 2 and "does not exist" in r.stderr


def lecture_class(tmp_path: Path) -> Path:
    """A class folder of the lecture's two programs (tests/submissions/linear holds many more styles)."""
    room = tmp_path / "linear"
    room.mkdir()
    for name in ("seed003_linear.py", "forgot_zero_grad.py"):
        shutil.copy(SUBMISSIONS / "linear" / name, room / name)
    return room


def test_folder_mode(tmp_path: Path):
    room = lecture_class(tmp_path)
    r = grade(room)
    assert r.returncode == 2 and "--out DIR" in r.stderr
    r = grade(room, "--assignment", "linear", "--out", tmp_path / "out", "--quiet")
    assert r.returncode == 0, r.stderr
    never_zeroed = MISTAKES["lecture-gradients-never-zeroed"].text["en"].name  # the failures, grouped by mistake
    assert "2 submissions: 2 graded" in r.stdout and f"training: {never_zeroed}" in r.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "forgot_zero_grad.json", "grades.csv", "histogram.png", "report.html", "seed003_linear.json", "summary.json"]


@pytest.mark.parametrize("args, started", [
    (["--assignment", "bp-torch"], ("torch", "fork")),
    (["-a", "bp-numpy"], ("numpy", "fork")),
    (["--assignment=linear"], ("torch", "fork")),
    (["--assignment", "bp-torch", "--start", "fresh"], ("torch", "fresh")),  # prestart starts nothing then
    ([], None),  # detected later, from each file
])
def test_the_command_starts_the_assignments_fork_server_first(args: list[str], started: tuple[str, str] | None,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """With --assignment, its fork server starts importing torch as soon as the options are parsed."""
    from typer.testing import CliRunner

    from grader import cli

    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(cli.sandbox, "prestart", lambda framework, start="fork": calls.append((framework, start)))
    (tmp_path / "class").mkdir()
    result = CliRunner().invoke(cli.app, [str(tmp_path / "class"), "--out", str(tmp_path / "out"), *args])
    assert result.exit_code == 0, result.output
    assert calls[:1] == ([started] if started else [])


def test_progress_bar_counts_this_runs_grading_from_the_kept_verdicts(capsys: pytest.CaptureFixture[str],
                                                                       monkeypatch: pytest.MonkeyPatch):
    from grader import cli

    clock = iter([100.0, 102.0, 104.0])
    monkeypatch.setattr(cli.time, "monotonic", lambda: next(clock))
    progress = cli._progress_bar(width=10)
    progress(4, 10)  # four verdicts kept from an earlier run: no rate yet
    progress(5, 10)  # one graded in 2 s
    progress(6, 10)
    frames = capsys.readouterr().err.split("\r")[1:]
    assert frames[0].startswith("[####------] 4/10") and "ETA …" in frames[0]
    assert frames[1].startswith("[#####-----] 5/10  0.5/s  ETA 10 s")
    assert frames[2].startswith("[######----] 6/10  0.5/s  ETA 8 s")


def test_folder_mode_draws_no_progress_when_stderr_is_not_a_terminal(tmp_path: Path):
    r = grade(lecture_class(tmp_path), "--assignment", "linear", "--out", tmp_path / "out")
    assert r.returncode == 0 and "\r" not in r.stderr and "ETA" not in r.stderr
