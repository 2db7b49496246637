"""Folder mode: one verdict per submission whatever happens, a gradebook, resumable runs."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from grader import batch, spawn
from grader.feedback import Feedback
from grader.options import Options
from grader.gradescope import GradescopeResults
from grader.grade import grade_file
from grader.spec import CHECK_IDS, load_all

from .conftest import SUBMISSIONS, points, seed000_score, total


@pytest.fixture
def classroom(tmp_path: Path) -> Path:
    """Three students in sub-folders (two hand in hw3.py), one at top level, one broken file."""
    room = tmp_path / "submissions"
    for student, fixture in (("alice", "bp-torch/correct_seed001_template.py"),
                             ("bob", "bp-torch/seed002_only_w1_zeroed.py")):
        (room / student).mkdir(parents=True)
        shutil.copy(SUBMISSIONS / fixture, room / student / "hw3.py")
    shutil.copy(SUBMISSIONS / "bp-torch/update_sign_error.py", room / "carol.py")
    shutil.copy(SUBMISSIONS / "bp-torch/correct_seed001_template.py", room / "carol.ipynb.py")
    (room / "dave.py").write_text("def forward_propagate(x1, x2)\n    pass\n")
    return room


def test_every_submission_gets_its_json_a_row_and_the_summary(classroom: Path, tmp_path: Path):
    out = tmp_path / "results"
    results = batch.grade_folder(classroom, out, Options(assignment="bp-torch"), jobs=2, gradescope_too=True)
    assert sorted(results) == ["alice__hw3", "bob__hw3", "carol", "carol.ipynb", "dave"]
    for key, fb in results.items():
        assert Feedback.model_validate_json((out / f"{key}.json").read_text()) == fb
    assert results["alice__hw3"].submission == "alice/hw3.py" and results["alice__hw3"].score == total("bp-torch")
    assert results["alice__hw3"].plot == str(out / "plots" / "alice__hw3.png") and Path(results["alice__hw3"].plot).is_file()
    assert results["alice__hw3"].view == "instructor" and results["dave"].plot is None
    assert results["bob__hw3"].score == total("bp-torch") - points("bp-torch", "update")  # one bug, one check
    assert results["dave"].status == "error"
    rows = list(csv.DictReader((out / "grades.csv").open()))
    torch_checks = [c for c in CHECK_IDS if c in load_all()["bp-torch"].checks]  # no empty policy column
    assert list(rows[0]) == ["submission", "score", "max_score", "status", "task", *torch_checks,
                             "student", "assignment", "percent", "error"]
    bob = next(r for r in rows if r["submission"] == "bob__hw3")
    assert (bob["update"], bob["training"], bob["gradients"]) == (
        "0", f"{points('bp-torch', 'training'):g}", f"{points('bp-torch', 'gradients'):g}")
    assert (bob["student"], bob["assignment"], bob["error"]) == ("bob", "bp-torch", "")
    assert float(bob["percent"]) == pytest.approx(100 * results["bob__hw3"].score / total("bp-torch"), abs=0.05)
    dave = next(r for r in rows if r["submission"] == "dave")
    assert (dave["max_score"], dave["percent"], dave["student"]) == (f"{total('bp-torch'):g}", "0.0", "dave")
    assert dave["error"] == results["dave"].error and "syntax error" in dave["error"]
    assert {r["submission"]: r["task"] for r in rows} == {k: fb.task or "" for k, fb in results.items()}
    assert bob["task"] == "sigmoid" and next(r for r in rows if r["submission"] == "dave")["task"] == ""
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count("<tr data-status=") == 5 and report.count("<dialog ") == 5
    s = json.loads((out / "summary.json").read_text())
    assert (s["count"], s["graded"], s["errors"]) == (5, 4, 1)
    assert s["pass_rate"]["update"] == 0.5  # alice and carol.ipynb pass; bob and carol fail
    assert any("syntax error at line #" in f["message"] for f in s["common_failures"])  # grouped: no numbers
    assert not list(out.glob(".*.tmp"))
    assert (out / "histogram.png").read_bytes().startswith(b"\x89PNG")
    gs = GradescopeResults.model_validate_json((out / "gradescope" / "bob__hw3" / "results.json").read_text())
    assert (gs.score, sum(t.max_score for t in gs.tests)) == (results["bob__hw3"].score, total("bp-torch"))
    assert isinstance(gs.execution_time, float)
    update = next(t for t in gs.tests if t.name == "update")
    assert update.status == "failed" and update.visibility == "visible" and "hint:" in update.output
    assert {t.status for t in gs.tests if t.name != "update" and t.name != "training"} == {"passed"}


def test_files_read_while_the_server_starts_are_graded_as_alone(classroom: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch):
    spawn.shutdown()  # this batch starts its own fork server, and reads files while it imports
    read: list[Path] = []
    real = batch.load

    def spy(path: Path) -> object:
        read.append(path)
        return real(path)

    monkeypatch.setattr(batch, "load", spy)
    results = batch.grade_folder(classroom, tmp_path / "results", Options(assignment="bp-torch"), jobs=2)
    assert len(read) > 1  # the first file tells the framework; the others were read ahead
    for sub in batch.discover(classroom):
        alone = grade_file(sub.path, Options(assignment="bp-torch", view="instructor"))
        assert results[sub.key].model_dump(exclude={"seconds", "submission", "plot", "graded_with"}) == \
            alone.model_dump(exclude={"seconds", "submission", "plot", "graded_with"})


def test_rerun_resumes_and_force_regrades(classroom: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    out = tmp_path / "results"
    first = batch.grade_folder(classroom, out, Options(assignment="bp-torch"), jobs=2)
    graded: list[Path] = []

    def spy(path: Path, *args: object, **kwargs: object) -> Feedback:
        graded.append(path)
        return first[next(k for k, v in first.items() if classroom / v.submission == path)]

    monkeypatch.setattr(batch, "grade_file", spy)
    (classroom / "carol.py").touch()  # carol handed in again: newer than her JSON
    os.utime(out / "carol.json", (0, 0))
    batch.grade_folder(classroom, out, Options(assignment="bp-torch"), jobs=1)
    assert graded == [classroom / "carol.py"]
    graded.clear()
    batch.grade_folder(classroom, out, Options(assignment="bp-torch"), jobs=1, force=True)
    assert len(graded) == 5
    graded.clear()
    batch.grade_folder(classroom, out, Options(assignment="bp-torch"), jobs=1)
    assert graded == []  # nothing changed since
    batch.grade_folder(classroom, out, Options(assignment="bp-torch", task="relu"), jobs=1)
    assert len(graded) == 5  # another task: every verdict anew, never the sigmoid one kept
    graded.clear()
    batch.grade_folder(classroom, out, Options(assignment="bp-torch", task="relu", seed=7), jobs=1)
    assert len(graded) == 5  # other hidden cases


def test_a_verdict_depends_on_the_options_the_assignment_files_and_the_grader(monkeypatch: pytest.MonkeyPatch,
                                                                                tmp_path: Path):
    base = batch.settings(Options(assignment="bp-torch"))
    assert base == batch.settings(Options(assignment="bp-torch"))
    others = [Options(assignment="bp-torch", task="relu"), Options(assignment="bp-torch", seed=1),
              Options(assignment="bp-torch", lang="zh"), Options(), Options(assignment="bp-torch", bind={"loss": "l"})]
    assert len({base, *(batch.settings(o) for o in others)}) == 1 + len(others)
    names = {p.name for p in batch._grading_files()}
    assert {"bp-torch.toml", "stages.py", "probes.py", "zh.toml", "net222.py", "mistakes.py"} <= names
    edited = tmp_path / "bp-torch.toml"
    edited.write_bytes(next(p for p in batch._grading_files() if p.name == "bp-torch.toml").read_bytes() + b"\n")
    files = tuple(edited if p.name == "bp-torch.toml" else p for p in batch._grading_files())
    monkeypatch.setattr(batch, "_grading_files", lambda: files)
    assert batch.settings(Options(assignment="bp-torch")) != base  # e.g. an instructor loosened a tolerance


def test_a_grader_crash_costs_one_verdict_not_the_batch(classroom: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch):
    real = batch.grade_file

    def flaky(path: Path, *args: object, **kwargs: object) -> Feedback:
        if path.name == "carol.py":
            raise RuntimeError("boom")
        return real(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "grade_file", flaky)
    results = batch.grade_folder(classroom, tmp_path / "results", Options(assignment="bp-torch"), jobs=2)
    assert results["carol"].status == "error" and "internal grader error (RuntimeError: boom)" in results["carol"].error
    assert results["alice__hw3"].score == total("bp-torch") and len(results) == 5


def test_write_atomic_leaves_the_old_file_when_writing_fails(tmp_path: Path):
    target = tmp_path / "grades.csv"
    batch.write_atomic(target, "old\n")

    with pytest.raises(TypeError):
        batch.write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "old\n" and not list(tmp_path.glob(".*.tmp"))


def test_ctrl_c_stops_at_once_keeps_whole_verdicts_and_a_rerun_grades_the_rest(tmp_path: Path):
    """SIGINT while a submission loops for its whole time limit: the batch ends now, not after that limit."""
    room = tmp_path / "submissions"
    room.mkdir()
    template = (SUBMISSIONS / "bp-torch/correct_seed001_template.py").read_text(encoding="utf-8")
    (room / "a_keeps_the_window_open.py").write_text(template + "\nwhile True:\n    pass\n", encoding="utf-8")
    for i in range(6):
        shutil.copy(SUBMISSIONS / "bp-torch/correct_seed001_template.py", room / f"student{i}.py")
    out = tmp_path / "results"
    command = [sys.executable, "-m", "grader", room, "--assignment", "bp-torch", "--out", out, "--jobs", "2"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # the tests may run
    deadline = time.monotonic() + 120  # in the background, whose SIGINT is ignored (and Python would keep it so)
    while not list(out.glob("student*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(out.glob("student*.json")), "no verdict was written before the interrupt"
    proc.send_signal(signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=15)  # the looping child alone would hold it for 40 s
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("Ctrl-C did not stop the batch") from None
    assert proc.returncode == 130 and "Traceback" not in stderr
    saved = sorted(out.glob("*.json"))
    assert f"{len(saved)} of 7 verdicts are saved" in stderr and "run the same command again" in stderr
    for path in saved:  # whole files only, and never the interrupted verdicts
        assert Feedback.model_validate_json(path.read_text()).status == "graded"
    assert not list(out.glob(".*.tmp"))

    first = {p.name: p.stat().st_mtime_ns for p in saved}
    (room / "a_keeps_the_window_open.py").unlink()  # its 40 s are not this test's subject
    results = batch.grade_folder(room, out, Options(assignment="bp-torch"), jobs=2)
    assert len(results) == 6 and all(fb.score == total("bp-torch") for fb in results.values())
    assert {p.name: p.stat().st_mtime_ns for p in saved} == first  # kept, not regraded


def test_every_submission_gets_its_own_json_name(tmp_path: Path):
    room = tmp_path / "submissions"
    (room / "alice").mkdir(parents=True)
    for rel in ("alice/hw3.py", "alice__hw3.py", "alice__hw3.ipynb", "Alice__HW3.py", "summary.py", "bob.py",
                ".ipynb_checkpoints/bob-checkpoint.ipynb"):
        (room / rel).parent.mkdir(parents=True, exist_ok=True)
        (room / rel).write_text("")
    subs = batch.discover(room)
    keys = [s.key for s in subs]
    assert len({k.casefold() for k in keys}) == len(keys) == 6  # the checkpoint folder is not a submission
    assert "summary" not in keys and {"summary-py", "bob"} <= set(keys)
    assert {s.name for s in subs} == {"alice/hw3.py", "alice__hw3.py", "alice__hw3.ipynb", "Alice__HW3.py",
                                      "summary.py", "bob.py"}


def test_a_class_in_every_seed_style_without_assignment_is_graded_as_alone(tmp_path: Path):
    """GBK without a coding line, a notebook with magics, the lecture's top-level loop, the misspelled
    loss_fuction template, one sub-folder per student: each detected on its own, two fork servers."""
    room = tmp_path / "submissions"
    for rel, fixture in (("wang/hw2.py", "bp-numpy/correct_gbk_no_coding_line.py"),
                         ("li/hw3.ipynb", "bp-torch/notebook_with_magics.ipynb"),
                         ("zhang/hw3.py", "bp-torch/correct_seed001_template.py"),
                         ("lecture.py", "linear/seed003_linear.py"),
                         ("hw2_seed000.py", "bp-numpy/seed000_hidden_delta.py")):
        (room / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(SUBMISSIONS / fixture, room / rel)
    results = batch.grade_folder(room, tmp_path / "results", Options(), jobs=2)
    assert [results[k].assignment for k in ("wang__hw2", "li__hw3", "zhang__hw3", "lecture", "hw2_seed000")] == \
        ["bp-numpy", "bp-torch", "bp-torch", "linear", "bp-numpy"]
    rows = csv.DictReader((tmp_path / "results" / "grades.csv").open())
    assert {r["submission"]: r["task"] for r in rows} == {k: fb.task for k, fb in results.items()}  # detected each
    for sub in batch.discover(room):
        alone = grade_file(sub.path, Options(view="instructor"))
        assert results[sub.key].model_dump(exclude={"seconds", "submission", "plot", "graded_with"}) == \
            alone.model_dump(exclude={"seconds", "submission", "plot", "graded_with"})
    assert results["hw2_seed000"].score == seed000_score() and results["li__hw3"].score == results["li__hw3"].max_score


def _zip(path: Path, members: dict[str, bytes]) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


def test_zips_txt_empty_folders_and_two_versions_all_say_what_became_of_them(tmp_path: Path):
    room = tmp_path / "download"
    template = (SUBMISSIONS / "bp-torch/correct_seed001_template.py").read_bytes()
    for folder in ("amy", "ben", "cat", "dan", "eve"):
        (room / folder).mkdir(parents=True)
    _zip(room / "amy" / "hw3.zip", {"hw3/hw3.py": template, "__MACOSX/hw3/._hw3.py": b"\0", "../../evil.py": b"x=1",
                                    "/etc/also_evil.py": b"x=1"})
    (room / "ben" / "hw3.txt").write_bytes(template)  # pasted into a .txt: not graded, and said so
    (room / "dan" / "hw3_old.py").write_bytes((SUBMISSIONS / "bp-torch/update_sign_error.py").read_bytes())
    (room / "dan" / "hw3_final.py").write_bytes(template)
    os.utime(room / "dan" / "hw3_old.py", (1_700_000_000, 1_700_000_000))
    (room / "eve" / "hw3.py").write_bytes(template)
    (room / "eve" / "utils.py").write_text("def helper():\n    return 1\n")  # no contract function: a helper
    _zip(room / "fay.zip", {"hw3.py": template})  # a flat zip: the student fay
    (room / "readme.txt").write_text("downloaded from the LMS")
    out = tmp_path / "out"
    results = batch.grade_folder(room, out, Options(assignment="bp-torch"), jobs=2)
    by = {fb.submission: fb for fb in results.values()}
    assert set(by) == {"amy/hw3.zip/hw3/hw3.py", "ben/", "cat/", "dan/hw3_final.py", "eve/hw3.py", "fay.zip/hw3.py"}
    full = total("bp-torch")
    for name in ("amy/hw3.zip/hw3/hw3.py", "dan/hw3_final.py", "eve/hw3.py", "fay.zip/hw3.py"):
        assert by[name].score == by[name].max_score == full, name
    assert by["ben/"].status == by["cat/"].status == "error" and by["ben/"].max_score == by["cat/"].max_score == full
    assert "hw3.txt" in by["ben/"].error and "is empty" in by["cat/"].error
    assert any("graded hw3_final.py, the newest" in n for n in by["dan/hw3_final.py"].notes)
    assert any("utils.py" in n and "helpers" in n for n in by["eve/hw3.py"].notes)
    s = json.loads((out / "summary.json").read_text())
    skipped = {x["name"]: x["why"] for x in s["skipped"]}
    assert set(skipped) == {"readme.txt", "amy/hw3.zip/../../evil.py", "amy/hw3.zip//etc/also_evil.py"}
    assert all("outside its folder" in why for name, why in skipped.items() if "evil" in name)
    assert not (tmp_path / "evil.py").exists() and not list(tmp_path.rglob("evil.py"))
    rows = {r["student"]: r for r in csv.DictReader((out / "grades.csv").open(encoding="utf-8"))}
    assert set(rows) == {"amy", "ben", "cat", "dan", "eve", "fay"}


def test_pick_chooses_among_a_students_versions(tmp_path: Path):
    room = tmp_path / "download" / "dan"
    room.mkdir(parents=True)
    (room / "hw3_final.py").write_bytes((SUBMISSIONS / "bp-torch/correct_seed001_template.py").read_bytes())
    (room / "hw3_v2.py").write_bytes((SUBMISSIONS / "bp-torch/update_sign_error.py").read_bytes())
    os.utime(room / "hw3_final.py", (1_700_000_000, 1_700_000_000))  # the older of the two
    for pick, graded in (("newest", "hw3_v2.py"), ("name", "hw3_v2.py"), ("*final*", "hw3_final.py")):
        results = batch.grade_folder(room.parent, tmp_path / f"out-{pick.strip('*')}", Options(assignment="bp-torch"),
                                     pick=pick)
        (fb,) = results.values()
        assert fb.submission == f"dan/{graded}", pick


def test_a_csv_for_excel_starts_with_a_bom(tmp_path: Path):
    room = tmp_path / "download"
    room.mkdir()
    shutil.copy(SUBMISSIONS / "linear/seed003_linear.py", room / "张三.py")
    for options, bom, expected in ((Options(), True, True), (Options(), None, False), (Options(lang="zh"), None, True),
                                   (Options(lang="zh"), False, False)):
        out = tmp_path / f"out-{bom}-{options.lang}"
        batch.grade_folder(room, out, options, csv_bom=bom)
        raw = (out / "grades.csv").read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") == expected
        assert "张三" in raw.decode("utf-8-sig")


def test_a_flat_folder_copies_no_other_students_files_and_a_student_folder_its_own(tmp_path: Path):
    """utils.py beside hw2.py in a student's folder is its helper; at the top of a class folder it is another
    student's file, which no submission may read."""
    helper = SUBMISSIONS / "bp-numpy" / "with_helpers"
    own = tmp_path / "own" / "wu"
    flat = tmp_path / "flat"
    for folder in (own, flat):
        folder.mkdir(parents=True)
        for name in ("hw2.py", "utils.py", "data.csv"):
            shutil.copy(helper / name, folder / name)
    mine = batch.grade_folder(own.parent, tmp_path / "out-own", Options(assignment="bp-numpy"))
    assert mine["wu__hw2"].score == total("bp-numpy")
    theirs = batch.grade_folder(flat, tmp_path / "out-flat", Options(assignment="bp-numpy"))
    runs = next(c for c in theirs["hw2"].checks if c.id == "runs")
    assert runs.status == "error" and "utils" in runs.message  # not copied: it is someone else's here
    assert theirs["utils"].status == "error"


def test_the_hidden_cases_change_with_the_files_copied_beside(tmp_path: Path):
    from grader.secret import seed_for

    code = b"import numpy as np\n"
    assert seed_for(code, "bp-numpy", {"data.csv": b"1,2"}) != seed_for(code, "bp-numpy", {"data.csv": b"1,3"})
    assert seed_for(code, "bp-numpy", {"a": b"bc"}) != seed_for(code, "bp-numpy", {"ab": b"c"})
    assert seed_for(code, "bp-numpy", {}) == seed_for(code, "bp-numpy")
    folder = tmp_path / "wu"
    shutil.copytree(SUBMISSIONS / "bp-numpy" / "with_helpers", folder)
    first = grade_file(folder / "hw2.py", Options(view="instructor")).seed
    (folder / "data.csv").write_text((folder / "data.csv").read_text() + "\n")
    assert grade_file(folder / "hw2.py", Options(view="instructor")).seed != first


def test_a_file_graded_alone_gets_only_the_files_its_code_names(tmp_path: Path):
    (tmp_path / "bob.py").write_text("SECRET = 'bob'\n")  # a classmate's file in the same folder
    shutil.copy(SUBMISSIONS / "bp-numpy" / "with_helpers" / "utils.py", tmp_path / "utils.py")
    shutil.copy(SUBMISSIONS / "bp-numpy" / "with_helpers" / "data.csv", tmp_path / "data.csv")
    hw = tmp_path / "hw2.py"
    hw.write_text((SUBMISSIONS / "bp-numpy" / "with_helpers" / "hw2.py").read_text(encoding="utf-8")
                  + "\nimport os\nassert not os.path.exists('bob' + '.py'), 'a classmate was copied'\n", encoding="utf-8")
    fb = grade_file(hw)
    assert fb.score == total("bp-numpy"), [c.message for c in fb.checks if c.status != "pass"]
    assert any("data.csv, utils.py" in n for n in fb.notes) and not any("bob.py" in n for n in fb.notes)
