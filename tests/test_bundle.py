"""`grade bundle`: the zip Gradescope's autograder upload takes. Its wheel installs the grader that built it (into a
venv that shares only the third-party packages of this one), and its real run_autograder, run against a temporary
root laid out like /autograder, writes results.json in Gradescope's documented format whatever was handed in."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from pydantic import ValidationError

import grader
from grader import ASSIGNMENTS_DIR
from grader.feedback import Feedback
from grader.gradescope import GradescopeResults, results
from grader.grade import grade_file
from grader.options import Options

from .conftest import SUBMISSIONS, points, total

CORRECT = SUBMISSIONS / "bp-torch/correct_seed001_template.py"
BUGGY = SUBMISSIONS / "bp-torch/seed002_only_w1_zeroed.py"
BROKEN_NOTEBOOK = SUBMISSIONS / "bad/corrupted.ipynb"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"  # bash, cat, mkdir: and no `grade`


def grade(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two bundles made by the command line: bp-torch in English (task detected), and task relu in Chinese."""
    where = tmp_path_factory.mktemp("bundles")
    made = {"en": where / "autograder.zip", "zh-relu": where / "relu-zh.zip"}
    for args, out in ((["--assignment", "bp-torch", "--lang", "en"], made["en"]),
                      (["--assignment", "bp-torch", "--task", "relu", "--lang", "zh"], made["zh-relu"])):
        r = grade("bundle", *args, "--out", out)
        assert r.returncode == 0, r.stderr
        assert f"wrote {out}" in r.stdout or f"已写出 {out}" in r.stdout
    return made


@pytest.fixture(scope="module")
def bundled_grade(bundles: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ folder of a fresh venv with only the bundle's wheel installed (pip, no dependencies); torch, numpy
    and the rest come from this venv's site-packages through a .pth file, but not this checkout's grader."""
    env = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env], check=True, timeout=120)
    site = Path(subprocess.run([env / "bin/python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    with zipfile.ZipFile(bundles["en"]) as z:
        wheel = next(n for n in z.namelist() if n.endswith(".whl"))
        z.extract(wheel, env.parent)
    subprocess.run([sys.executable, "-m", "pip", "--python", env / "bin/python", "install", "--no-deps", "--no-index",
                    "-q", env.parent / wheel], check=True, timeout=300)
    (site / "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # its own .pth files: not read
    return env / "bin"


def _unzip(bundle: Path, target: Path) -> None:
    """As unzip does it: the files and their modes."""
    with zipfile.ZipFile(bundle) as z:
        for info in z.infolist():
            path = Path(z.extract(info, target))
            path.chmod((info.external_attr >> 16) & 0o777)


def autograder_root(base: Path, bundle: Path, handed_in: dict[str, Path | bytes]) -> Path:
    """A folder laid out as Gradescope lays out /autograder: source/ (the zip), run_autograder, submission/."""
    root = base / "autograder"
    _unzip(bundle, root / "source")
    shutil.copy2(root / "source/run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    for name, content in handed_in.items():
        target = root / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.read_bytes())
    return root


def run_autograder(root: Path, path: str) -> tuple[GradescopeResults, str, str]:
    """Run the real script as Gradescope does (from /autograder); the validated results, their text, and stdout."""
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "PATH": path}
    r = subprocess.run([root / "run_autograder"], cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    text = (root / "results/results.json").read_text(encoding="utf-8")
    return GradescopeResults.model_validate_json(text), text, r.stdout


def staff_view(stdout: str) -> Feedback:
    """The instructor's verdict that run_autograder prints after its text report."""
    return Feedback.model_validate_json(stdout[stdout.index("\n{\n"):])


def test_the_zip_holds_what_gradescope_takes_at_its_root(bundles: dict[str, Path]):
    with zipfile.ZipFile(bundles["zh-relu"]) as z:
        infos = {i.filename: i for i in z.infolist()}
        scripts = {n: z.read(n).decode() for n in ("setup.sh", "run_autograder")}
    wheel = f"backprop_grader-{grader.__version__}-py3-none-any.whl"
    assert set(infos) == {"setup.sh", "run_autograder", wheel}
    assert all((infos[n].external_attr >> 16) & 0o777 == 0o755 for n in scripts)
    for name, text in scripts.items():
        assert text.startswith("#!/usr/bin/env bash\n")
        assert subprocess.run(["bash", "-n", "-c", text], capture_output=True).returncode == 0, name
    setup = scripts["setup.sh"]
    assert setup.index('"torch==2.13.0"') < setup.index(f'"$here/{wheel}"')  # the CPU pin first, then the grader
    assert "--run --assignment bp-torch --task relu --lang zh" in scripts["run_autograder"]
    fallback = scripts["run_autograder"].split("<<'JSON'\n")[1].split("\nJSON\n")[0]
    assert "自动评分程序未能启动" in GradescopeResults.model_validate_json(fallback).output


def test_the_wheel_is_the_grader_that_built_it_with_its_assignments(bundles: dict[str, Path], bundled_grade: Path):
    with zipfile.ZipFile(bundles["en"]) as z:
        wheel = zipfile.ZipFile(z.open(next(n for n in z.namelist() if n.endswith(".whl"))))
    names = set(wheel.namelist())
    record = next(n for n in names if n.endswith(".dist-info/RECORD"))
    for line in wheel.read(record).decode().splitlines():  # every file as the RECORD says: pip trusts it
        name, digest, size = line.rsplit(",", 2)
        if name != record:
            data = wheel.read(name)
            assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert int(size) == len(data)
    here = Path(grader.__file__).parent
    for path in [*here.rglob("*.py"), *here.glob("locales/*.toml"), *here.glob("templates/*")]:
        assert wheel.read(f"grader/{path.relative_to(here).as_posix()}") == path.read_bytes(), path
    tomls = sorted(ASSIGNMENTS_DIR.glob("*.toml"))
    assert tomls and all(wheel.read(f"grader/assignments/{p.name}") == p.read_bytes() for p in tomls)
    where = subprocess.run([bundled_grade / "python", "-c", "import grader; print(grader.ASSIGNMENTS_DIR)"],
                           capture_output=True, text=True, cwd=bundled_grade, check=True).stdout.strip()
    assert Path(where).is_relative_to(bundled_grade.parent) and Path(where, "bp-torch.toml").is_file()
    r = subprocess.run([bundled_grade / "grade", CORRECT, "--json", "-"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert Feedback.model_validate_json(r.stdout).score == total("bp-torch")


def test_run_autograder_on_a_correct_file(bundles: dict[str, Path], bundled_grade: Path, tmp_path: Path):
    root = autograder_root(tmp_path, bundles["en"], {"hw3.py": CORRECT})
    res, text, stdout = run_autograder(root, f"{bundled_grade}:{SYSTEM_PATH}")
    assert res.score == total("bp-torch") == sum(x.max_score for x in res.tests)
    assert [x.name for x in res.tests] == ["runs", "forward", "loss", "gradients", "update", "training"]
    assert {x.status for x in res.tests} == {"passed"} and {x.visibility for x in res.tests} == {"visible"}
    assert res.stdout_visibility == "hidden" and res.output_format == "text"
    assert res.output.startswith("hw3.py: bp-torch / task sigmoid")
    assert staff_view(stdout).score == total("bp-torch")


def test_run_autograder_on_a_buggy_file_shows_the_student_view_and_keeps_the_staff_view_on_stdout(
        bundles: dict[str, Path], tmp_path: Path):
    """With `grade` of this checkout on PATH (the shortcut run_autograder takes when one is installed)."""
    root = autograder_root(tmp_path, bundles["en"], {"student/hw3.py": BUGGY})
    res, text, stdout = run_autograder(root, f"{Path(sys.executable).parent}:{SYSTEM_PATH}")
    alone = grade_file(BUGGY, Options(assignment="bp-torch", view="student"))
    assert res.score == alone.score == total("bp-torch") - points("bp-torch", "update")  # one bug, one check
    update = next(x for x in res.tests if x.name == "update")
    assert update.status == "failed" and update.score == 0 and update.max_score == points("bp-torch", "update")
    assert "hidden cases: 0/3 passed" in update.output and "hint: fix:" in update.output
    assert res.extra_data == {"assignment": "bp-torch", "task": "sigmoid", "status": "graded"}
    assert '"cases"' not in text and '"inputs"' not in text  # hidden cases only counted
    staff = staff_view(stdout)
    assert staff.view == "instructor" and staff.submission == "student/hw3.py"
    assert all(c.cases for c in staff.checks if c.id in ("forward", "loss", "gradients"))


def test_run_autograder_on_a_broken_notebook_says_so(bundles: dict[str, Path], bundled_grade: Path, tmp_path: Path):
    root = autograder_root(tmp_path, bundles["en"], {"hw3.ipynb": BROKEN_NOTEBOOK})
    res, _, _ = run_autograder(root, f"{bundled_grade}:{SYSTEM_PATH}")
    assert res.score == 0 and res.tests == []
    assert "could not be graded: hw3.ipynb is a corrupted notebook" in res.output


@pytest.mark.parametrize("handed_in, says", [
    ({}, "nothing was handed in"),
    ({"hw3.txt": b"w1 = 0.2", "notes/answer.pdf": b"%PDF"},
     "no .py or .ipynb file was handed in (the submission holds hw3.txt, notes/answer.pdf)"),
    ({"hw3.py": CORRECT, "hw3_old.ipynb": BROKEN_NOTEBOOK, ".ipynb_checkpoints/hw3-checkpoint.py": CORRECT,
      "__MACOSX/._hw3.py": b"\0"},
     "2 files with the homework's functions were handed in (hw3.py, hw3_old.ipynb): submit exactly one"),
])
def test_run_autograder_without_exactly_one_file_says_so(bundles: dict[str, Path], bundled_grade: Path,
                                                          tmp_path: Path, handed_in: dict[str, Path | bytes], says: str):
    root = autograder_root(tmp_path, bundles["en"], handed_in)
    res, _, stdout = run_autograder(root, f"{bundled_grade}:{SYSTEM_PATH}")
    assert res.score == 0 and res.tests == [] and says in res.output, res.output
    assert staff_view(stdout).max_score == total("bp-torch")


def test_run_autograder_grades_the_file_with_the_functions_and_its_helper_beside_it(
        bundles: dict[str, Path], bundled_grade: Path, tmp_path: Path):
    """hw3.py imports its sigmoid from mytools.py, handed in with it: the helper is no second submission."""
    code = CORRECT.read_text(encoding="utf-8").replace("def sigmoid(z):", "from mytools import sigmoid\ndef _unused(z):")
    helper = b"import torch\ndef sigmoid(z):\n    return 1 / (1 + torch.exp(-z))\n"
    root = autograder_root(tmp_path, bundles["en"], {"hw3.py": code.encode(), "mytools.py": helper})
    res, _, _ = run_autograder(root, f"{bundled_grade}:{SYSTEM_PATH}")
    assert res.score == total("bp-torch"), res.output
    assert "mytools.py beside it, with none of the homework's functions, are its helpers" in res.output


def test_run_autograder_with_the_task_and_language_chosen_at_bundle_time(bundles: dict[str, Path],
                                                                        bundled_grade: Path, tmp_path: Path):
    root = autograder_root(tmp_path, bundles["zh-relu"], {"hw3.py": SUBMISSIONS / "bp-torch/relu_correct.py"})
    res, _, stdout = run_autograder(root, f"{bundled_grade}:{SYSTEM_PATH}")
    assert res.score == total("bp-torch") and res.extra_data["task"] == "relu"
    assert "与参考答案一致" in res.tests[1].output, res.tests[1].output
    assert staff_view(stdout).lang == "zh"


def test_run_autograder_that_finds_no_grader_still_writes_results(bundles: dict[str, Path], tmp_path: Path):
    root = autograder_root(tmp_path, bundles["en"], {"hw3.py": CORRECT})  # setup.sh never ran: no venv, no grade
    res, _, stdout = run_autograder(root, SYSTEM_PATH)
    assert res.score == 0 and "could not start" in res.output and "exited with 127" in stdout


def test_bundle_usage_errors_get_one_line_and_exit_2(tmp_path: Path):
    for args, says in ((["--assignment", "bp-nope", "--out", tmp_path / "a.zip"], "unknown assignment 'bp-nope'"),
                       (["--assignment", "bp-torch", "--task", "nope", "--out", tmp_path / "a.zip"], "has no task"),
                       (["--assignment", "bp-torch", "--out", tmp_path / "results"], "must name a .zip file"),
                       (["--assignment", "bp-torch", "--lang", "fr", "--out", tmp_path / "a.zip"], "--lang must be"),
                       (["--assignment", "bp-torch"], "give --out FILE.zip")):
        r = grade("bundle", *args)
        assert r.returncode == 2 and says in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1
    assert not list(tmp_path.iterdir())


def test_a_path_named_bundle_is_graded_as_dot_slash_bundle(tmp_path: Path):
    (tmp_path / "bundle").write_text(CORRECT.read_text(encoding="utf-8"))
    r = grade("bundle", "--assignment", "bp-torch", "--out", "autograder.zip", cwd=tmp_path)
    assert r.returncode == 0 and (tmp_path / "autograder.zip").is_file()
    assert "to grade the file or folder named bundle, write grade ./bundle" in r.stderr
    r = grade("./bundle", cwd=tmp_path)  # named as a path, it is a file to grade (`grade PATH`)
    assert r.returncode == 2 and "bundle is not a .py or .ipynb file" in r.stderr + r.stdout


def test_the_results_model_is_gradescopes_documented_format():
    fb = grade_file(BUGGY, Options(assignment="bp-torch", view="instructor"))
    with pytest.raises(ValueError, match="student view"):
        results(fb)  # the instructor's view never goes to Gradescope's students
    good = json.loads(results(fb.for_view("student")).to_json())
    GradescopeResults.model_validate(good)
    for bad in ({**good, "max_score": 10},  # not a documented top-level field
                {**good, "score": 9},  # a top-level score overrides the tests' total: it must be that total
                {**good, "stdout_visibility": "students"},
                {**good, "tests": [{**good["tests"][0], "status": "ok"}, *good["tests"][1:]]}):
        with pytest.raises(ValidationError):
            GradescopeResults.model_validate(bad)


@pytest.mark.skipif(os.environ.get("GRADER_TEST_SETUP_SH") != "1",
                    reason="installs torch into a new venv (~1 min, ~1 GiB, a package index): "
                           "set GRADER_TEST_SETUP_SH=1 to run it")
def test_setup_sh_installs_a_grader_that_run_autograder_uses(bundles: dict[str, Path], tmp_path: Path):
    root = autograder_root(tmp_path, bundles["en"], {"hw3.py": BUGGY})
    env = {**os.environ, "TORCH_INDEX": ""}  # pip's own index: the PyTorch one may be out of reach here
    try:
        subprocess.run(["bash", root / "source/setup.sh"], env=env, check=True, timeout=1800,
                       stdout=subprocess.DEVNULL)
        res, _, _ = run_autograder(root, SYSTEM_PATH)  # no grade on PATH: the one setup.sh installed
        assert res.score == total("bp-torch") - points("bp-torch", "update")
        assert (root / "source/venv/bin/grade").is_file()
    finally:
        shutil.rmtree(root / "source/venv", ignore_errors=True)
