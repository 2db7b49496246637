"""A non-editable install (`pip install .`) grades: its wheel carries the assignments, locales, catalogue and
templates, and the installed `grade` finds them inside itself, away from this checkout."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from grader import ASSIGNMENTS_DIR

from .conftest import SUBMISSIONS, seed000_score

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", out, ROOT], check=True, timeout=600)
    return next(out.glob("backprop_grader-*.whl"))


def test_the_wheel_holds_every_file_the_grader_reads(wheel: Path):
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = [f"grader/assignments/{p.name}" for p in ASSIGNMENTS_DIR.glob("*.toml")]
    wanted += [p.relative_to(ROOT).as_posix() for p in (ROOT / "grader").rglob("*")
               if p.is_file() and p.suffix in (".py", ".toml", ".html", ".css", ".js", ".sh") or p.parent.name == "templates"]
    wanted += [p.relative_to(ROOT).as_posix() for p in (ROOT / "reference").glob("*") if p.suffix in (".py", ".toml")]
    missing = sorted(n for n in wanted if n not in names and "__pycache__" not in n)
    assert not missing, missing


def test_the_installed_grade_grades_away_from_the_checkout(wheel: Path, tmp_path: Path):
    """Installed without dependencies into a venv that borrows this one's third-party packages (torch, numpy, …)
    but not its editable grader; run from a folder that is not the checkout."""
    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env], check=True, timeout=120)
    site = Path(subprocess.run([env / "bin/python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    subprocess.run([sys.executable, "-m", "pip", "--python", env / "bin/python", "install", "-q", "--no-deps",
                    "--no-index", wheel], check=True, timeout=300)
    (site / "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")  # its .pth files are not read
    r = subprocess.run([env / "bin/grade", SUBMISSIONS / "bp-numpy/seed000_hidden_delta.py", "--json", "-"],
                       capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 1, r.stderr  # a check failed: graded
    fb = json.loads(r.stdout)
    assert fb["assignment"] == "bp-numpy" and fb["score"] == seed000_score()
    where = subprocess.run([env / "bin/python", "-c", "import grader; print(grader.__file__)"],
                           capture_output=True, text=True, cwd=tmp_path, check=True).stdout
    assert str(ROOT) not in where
