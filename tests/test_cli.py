"""The command line contract (README "Use"): options, report, JSON, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
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
    for option in ("--assignment", "--task", "--json", "--seed", "--watch"):
        assert option in out
    assert "bp-numpy" in out and "'-' prints only the JSON" in out
    assert "Grade the file again each time it is saved" in out


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
    monkeypatch.setattr(cli.spawn, "prestart", lambda framework, start="fork": calls.append((framework, start)))
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


def test_a_gbk_console_gets_the_whole_report_and_the_exit_code(tmp_path: Path):
    """A Chinese Windows terminal (or a redirect to one): what GBK cannot encode (−) is written as ASCII."""
    env = {**os.environ, "PYTHONIOENCODING": "gbk", "COLUMNS": "200"}
    for lang in ("en", "zh"):
        r = subprocess.run([sys.executable, "-m", "grader", str(SEED000), "--lang", lang], capture_output=True,
                           env=env, timeout=300)
        assert r.returncode == 1 and b"Traceback" not in r.stderr, r.stderr[-400:]
        text = r.stdout.decode("gbk")
        assert "d_w1: expected -0.008421" in text or "d_w1:应为 -0.008421" in text
        assert "(o1 - y1)" in text and "\u2212" not in text  # the diagnosis's fix, its minus signs made ASCII
    r = subprocess.run([sys.executable, "-m", "grader", str(SEED000), "--json", "-"], capture_output=True, env=env,
                       timeout=300)
    assert r.returncode == 1 and Feedback.model_validate_json(r.stdout.decode("ascii")).score == seed000_score()


def test_short_help_and_version():
    assert "--assignment" in grade("-h").stdout
    r = grade("--version")
    assert r.returncode == 0 and r.stdout.startswith("grade (backprop-grader) ")


def test_json_with_a_folder_is_refused(tmp_path: Path):
    r = grade(lecture_class(tmp_path), "--out", tmp_path / "out", "--json", tmp_path / "fb.json")
    assert r.returncode == 2 and "--json writes one submission's feedback" in r.stderr
    assert not (tmp_path / "fb.json").exists() and not (tmp_path / "out").exists()


def test_time_limit_on_the_command_line_and_the_hint_to_train_less(tmp_path: Path):
    slow = tmp_path / "hw3.py"
    src = (SUBMISSIONS / "bp-torch" / "correct_seed001_template.py").read_text(encoding="utf-8")
    slow.write_text(src.replace("for i in range(11):", "for i in range(100000):"), encoding="utf-8")
    assert "range(100000)" in slow.read_text(encoding="utf-8")
    r = grade(slow, "--time-limit", "2", "--json", tmp_path / "fb.json")
    fb = Feedback.model_validate_json((tmp_path / "fb.json").read_text())
    runs = next(c for c in fb.checks if c.id == "runs")
    assert r.returncode == 1 and runs.status == "error" and "did not finish within 2 s" in runs.message
    assert "range(100000) to range(1000)" in runs.message and "--time-limit" in runs.message
    assert fb.seconds < load_all()["bp-torch"].limits.main_seconds  # 2 s, not the assignment's 20
    assert {c.id for c in fb.checks if c.status == "pass"} == {"forward", "loss", "gradients", "update", "training"}


def test_the_sandbox_line_is_one_word_unless_verbose():
    short = grade(SEED000).stdout
    line = next(x for x in short.splitlines() if x.strip().startswith("sandbox:"))
    assert line.split(":", 1)[1].strip() in ("full", "partial") or line.split(":", 1)[1].strip().startswith("partial")
    verbose = next(x for x in grade(SEED000, "--verbose").stdout.splitlines() if x.strip().startswith("sandbox:"))
    assert "separate process" in verbose and "wall-clock deadline" in verbose


def test_one_of_something_is_said_in_the_singular():
    """"all 1 gradients match", "1 updates": the lecture's single weight, and a loop of one update."""
    r = grade(SUBMISSIONS / "linear" / "seed003_linear.py")
    assert "the gradient matches" in r.stdout and "all 1 gradients" not in r.stdout
    from grader.i18n import t

    assert t("checks.training.settings", count=1, step=0.5) == "1 update at step 0.5"
    assert t("checks.training.settings", count=2, step=0.5) == "2 updates at step 0.5"


def test_a_long_main_is_announced_on_a_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    from grader import cli

    monkeypatch.setattr(cli, "LONG_MAIN_SECONDS", 0.05)
    note = cli._MainNote(cli.Options())
    note.started(20.0)
    time.sleep(0.5)
    note.done()
    err = capsys.readouterr().err
    assert "your program's own __main__ has been running" in err and "the limit is 20 s" in err
    assert err.endswith("\r\033[K")  # erased when the grading ends


def test_watch_takes_one_file(tmp_path: Path):
    r = grade(tmp_path, "--watch")
    assert r.returncode == 2 and "--watch watches one .py or .ipynb file" in r.stderr and "Traceback" not in r.stderr
    r = grade(tmp_path / "missing.py", "--watch")
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_the_early_scan_knows_every_option_that_takes_a_value():
    """grader/entry.py reads the command line before typer does (to start the fork server first): its list of
    the options with values must be the command's own, or it would take a value for the file."""
    import typer.main

    from grader import entry
    from grader.cli import app

    valued = {o for p in typer.main.get_command(app).params
              if p.param_type_name == "option" and not getattr(p, "is_flag", False) for o in p.opts}
    assert set(entry.VALUED) == valued
    assert entry.scan(["hw.py", "-a", "bp-torch", "--json=-", "--watch", "--bind", "forward=f", "-tbig"]) == (
        ["hw.py"], {"--assignment": "bp-torch", "--json": "-", "--bind": "forward=f", "--task": "big"}, {"--watch"})
    assert entry.scan(["--seed", "3", "--", "-odd.py"]) == (["-odd.py"], {"--seed": "3"}, set())


@pytest.mark.parametrize("source, args, started", [
    ("import torch\n", [], ("torch", "fork", {"torch"})),  # one grading: only what the file imports
    ("import numpy as np, matplotlib.pyplot as plt\n", [], ("numpy", "fork", {"matplotlib"})),
    ("from torch import tensor\n", ["--watch"], ("torch", "fork", None)),  # a watch: everything, many children
    ("import torch\n", ["--assignment", "bp-numpy"], ("numpy", "fork", {"torch"})),  # the assignment decides
    ("import numpy\n", ["-a", "linear", "--start", "fresh"], ("torch", "fresh", set())),
    ("import torch\n", ["--assignment", "no-such"], None),  # cli.py says it is unknown
    ("import torch\n", ["--help"], None),
    ("import torch\n", ["-h"], None),
])
def test_the_fork_server_starts_before_the_grader_imports_itself(source: str, args: list[str],
                                                                  started: tuple[str, str, set[str] | None] | None,
                                                                  write, monkeypatch: pytest.MonkeyPatch):
    from grader import entry, spawn

    calls: list[tuple[str, str, set[str] | None]] = []
    monkeypatch.setattr(spawn, "prestart", lambda framework, start, imports: calls.append(
        (framework, start, None if imports is None else set(imports))))
    path = write("hw.py", source)
    entry._prestart([str(path), *args])
    assert calls == ([started] if started else [])
    entry._prestart([str(path.parent), *args])  # a folder: cli.py starts its server, for every file of it
    assert calls == ([started] if started else [])


@pytest.mark.parametrize("name", ["correct_seed001_fixed.py", "style_tkagg_backend.py"])
def test_a_child_imports_what_its_one_file_server_lacks_before_it_is_confined(name: str):
    """A server started for one file without matplotlib (the early guess can miss an import): its child
    imports what the server lacks itself (before Landlock, from the job's preload list), a TkAgg backend
    included, and the verdict is that of a server that preloaded everything."""
    from grader import spawn
    from grader.grade import grade_file

    path = SUBMISSIONS / "bp-numpy" / name
    spawn.shutdown()
    spawn.prestart("numpy", "fork", imports=set())
    try:
        lean = grade_file(path)
        assert spawn._servers["numpy"].modules == ["numpy"]
    finally:
        spawn.shutdown()
    full = grade_file(path)
    assert spawn._servers["numpy"].modules == ["numpy", "matplotlib"]
    assert lean.all_passed and lean.model_dump(exclude={"seconds"}) == full.model_dump(exclude={"seconds"})
