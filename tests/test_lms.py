"""The issue's "done when": a 35-student class folder as an LMS download really arrives (tests/lms/build.py),
made of the habits that broke the grader, grades with no silent skip, one total for all, and every correct
file at full marks; the buggy ones keep their real verdicts, the ungradable ones say why."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from grader import batch
from grader.feedback import Feedback
from grader.options import Options
from grader.spec import load_all

from .lms.build import class_folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("lms")
    students = class_folder(root / "download")
    out = root / "results"
    results = batch.grade_folder(root / "download", out, Options(), jobs=2)  # the assignment detected per file
    return students, results, out


def test_every_student_has_one_row_and_nothing_is_skipped_silently(graded):
    students, results, out = graded
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8-sig")))
    assert len(students) == 35 and len(rows) == len(results) == 35
    assert sorted(r["student"] for r in rows) == sorted(s.name for s in students)
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    left_out = {x["name"]: x["why"] for x in s["skipped"]}
    assert set(left_out) == {"index.html", next(n for n in left_out if n.endswith("hw3.zip/../outside.py"))}
    assert "not a .py, .ipynb or .zip file" in left_out["index.html"]
    report = (out / "report.html").read_text(encoding="utf-8")
    assert report.count("<tr data-status=") == 35 and "index.html" in report and "outside.py" in report


def test_one_total_for_all(graded):
    _, results, out = graded
    total = load_all()["bp-torch"].max_score
    assert {fb.max_score for fb in results.values()} == {total}
    rows = list(csv.DictReader((out / "grades.csv").open(encoding="utf-8-sig")))
    assert {r["max_score"] for r in rows} == {f"{total:g}"}


def test_every_correct_file_at_full_marks_whatever_its_habit(graded):
    students, results, _ = graded
    by_student = {fb.submission.split("/")[0]: fb for fb in results.values()}
    wrong = []
    for s in students:
        fb = by_student[s.folder]
        if s.expect == "correct" and not (fb.status == "graded" and fb.score == fb.max_score):
            wrong.append(f"{s.name} ({s.habit}): {fb.score}/{fb.max_score} {fb.error or ''} "
                         + "; ".join(f"{c.id} {c.status}: {c.message[:100]}" for c in fb.checks if c.status != "pass"))
        if s.expect == "buggy" and not (fb.status == "graded" and 0 < fb.score < fb.max_score):
            wrong.append(f"{s.name} ({s.habit}) should lose points for its bug: {fb.score}/{fb.max_score}")
        if s.expect == "error" and not (fb.status == "error" and fb.error and fb.score == 0):
            wrong.append(f"{s.name} ({s.habit}) should be ungradable with a reason: {fb.status} {fb.error}")
    assert not wrong, "\n".join(wrong)


def test_what_each_habit_is_told(graded):
    students, results, _ = graded
    fb = {s.name: next(f for f in results.values() if f.submission.startswith(s.folder)) for s in students}
    assert any("graded hw3_final.py, the newest" in n and "not graded: hw3_old.py" in n for n in fb["shen"].notes)
    assert fb["shen"].submission.endswith("/hw3_final.py")
    assert any("copied into its sandbox" in n and "data.csv, utils.py" in n for n in fb["feng"].notes)
    assert any("Colab-only" in n for n in fb["wu"].notes)
    assert any("in the order your notebook ran them" in n for n in fb["zheng"].notes)
    assert fb["jiang"].submission.endswith("hw3.zip/hw3/hw3.py")
    assert fb["zhu"].task == "zero-init-cross-entropy" and fb["han"].task == "relu" and fb["he"].task == "sigmoid"
    assert any("notes.txt" in n for n in fb["cao"].notes)
    runs = {k: next(c for c in fb[k].checks if c.id == "runs").message for k in ("chen", "chu", "tao")}
    assert "UTF-16" in runs["chen"] and "coding=gbk" in runs["chu"] and "seaborn" in runs["tao"]
    assert "is empty" in fb["qi"].error and "hw3.txt" in fb["xie"].error and "syntax error" in fb["jiang2"].error
    assert fb["jiang2"].assignment == "bp-torch"  # told from what the rest of the broken file defines
    for f in results.values():
        Feedback.model_validate_json(f.model_dump_json())


def test_the_summary_averages_the_graded_files_only(graded):
    _, results, out = graded
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    fractions = [fb.score / fb.max_score for fb in results.values() if fb.status == "graded"]
    assert s["graded"] == len(fractions) == 31 and s["errors"] == 4
    assert s["mean_fraction"] == pytest.approx(sum(fractions) / len(fractions), abs=1e-4)
    sign = next(f for f in s["common_failures"] if f["message"].startswith("update: "))
    assert sign == {"message": "update: Update with the wrong sign: w + step·grad climbs the loss", "count": 2}


def test_a_rerun_regrades_nothing_and_keeps_the_rows(graded, tmp_path: Path):
    _, results, out = graded
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json") if p.name != "summary.json"}
    again = batch.grade_folder(out.parent / "download", out, Options(), jobs=2)
    assert again.keys() == results.keys()
    graded_files = [k for k, fb in results.items() if fb.status == "graded"]
    after = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json") if p.name != "summary.json"}
    assert all(after[f"{k}.json"] == before[f"{k}.json"] for k in graded_files)  # unzipped files keep their times


def test_the_whole_download_as_one_zip_is_the_same_class(graded, tmp_path: Path):
    """`grade download.zip --out DIR`: the LMS's own zip, empty folders and all."""
    import shutil

    students, results, out = graded
    archive = Path(shutil.make_archive(str(tmp_path / "download"), "zip", out.parent / "download"))
    again = batch.grade_folder(archive, tmp_path / "results", Options(), jobs=2)
    assert len(again) == len(students)
    assert sorted((fb.score, fb.max_score, fb.status) for fb in again.values()) == \
        sorted((fb.score, fb.max_score, fb.status) for fb in results.values())
