"""The command line contract (SPEC §3): options, report, JSON, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader import entry
from grader.feedback import Feedback
from grader.spec import load_all

from .conftest import SUBMISSIONS

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
    assert fb.status == "graded" and fb.assignment == "bp-numpy" and fb.max_score == 10
    assert {c.id for c in fb.checks} == {"runs", "forward", "loss", "gradients", "update", "training", "policy"}
    data = json.loads(r.stdout)
    assert data["schema_version"] == 1 and data["checks"][3]["hidden"] == {"passed": 0, "total": 3}


def test_json_file_and_report_together(tmp_path: Path):
    out = tmp_path / "fb.json"
    r = grade(SEED000, "--json", out)
    assert "score: 8.5/10" in r.stdout
    assert Feedback.model_validate_json(out.read_text()).score == 8.5


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


def test_folder_mode(tmp_path: Path):
    r = grade(SUBMISSIONS / "linear")
    assert r.returncode == 2 and "--out DIR" in r.stderr
    r = grade(SUBMISSIONS / "linear", "--assignment", "linear", "--out", tmp_path / "out", "--quiet")
    assert r.returncode == 0, r.stderr
    stems = sorted(p.stem for p in (SUBMISSIONS / "linear").glob("*.py"))
    assert f"{len(stems)} submissions: {len(stems)} graded" in r.stdout and "training: after 300 updates" in r.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        [*(f"{s}.json" for s in stems), "grades.csv", "histogram.png", "summary.json"])


@pytest.mark.parametrize("args, assignment", [
    (["subs/", "--assignment", "bp-torch", "--out", "r/"], "bp-torch"),
    (["hw.py", "-a", "bp-numpy"], "bp-numpy"),
    (["subs/", "--assignment=linear", "--out", "r/"], "linear"),
    (["subs/", "--assignment", "bp-torch", "--start", "fresh"], None),  # no fork server to start
    (["subs/", "--assignment", "no-such-homework"], None),
    (["subs/", "--assignment", "../assignments/bp-torch"], None),
    (["hw.py"], None),  # detected later, from the file
])
def test_the_entry_point_starts_the_right_fork_server_early(args: list[str], assignment: str | None):
    """It reads the framework from the assignment file without pydantic; spec.py reads it with."""
    assert entry._framework(args) == (load_all()[assignment].framework if assignment else None)


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
    r = grade(SUBMISSIONS / "linear", "--assignment", "linear", "--out", tmp_path / "out")
    assert r.returncode == 0 and "\r" not in r.stderr and "ETA" not in r.stderr
