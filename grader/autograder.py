"""What run_autograder does in Gradescope's container: find the one submission, grade it, write results.json.

Whatever happens, results.json is written and says what happened (nothing handed in, several files,
an unreadable notebook, even a grader crash). It is the student view: hidden cases only counted. The
instructor's view, hidden cases' numbers included, is printed on stdout, which Gradescope records in
results/stdout and shows to staff only (results.json also says `stdout_visibility: hidden`).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from . import spawn
from .batch import discover, write_atomic
from .classfolder import holds_contract
from .feedback import Feedback, error_feedback, render_text
from .grade import grade_file
from .gradescope import GradescopeResults, results
from .i18n import speaking, t
from .options import Options
from .spec import load_all

ROOT_VARIABLE, DEFAULT_ROOT = "AUTOGRADER_ROOT", "/autograder"
LISTED = 10  # the files named when no submission is found among them


def root() -> Path:
    """Gradescope's /autograder, or where AUTOGRADER_ROOT moves it (tests)."""
    return Path(os.environ.get(ROOT_VARIABLE) or DEFAULT_ROOT)


def autograde(base: Path, assignment: str, task: str | None, lang: str) -> Feedback:
    """Grade the submission under base/submission/, write base/results/results.json, print the staff's view;
    return the instructor's verdict."""
    a = load_all()[assignment]
    spawn.prestart(a.framework)  # torch imports in its server while the submission is looked for
    with speaking(lang):
        fb = _verdict(base / "submission", assignment, task, lang, a.max_score)
        gradescope = results(fb.for_view("student"))
        _write(base / "results", gradescope)
        sys.stdout.write(render_text(fb) + "\n\n" + fb.model_dump_json(indent=2) + "\n")
    return fb


def _verdict(folder: Path, assignment: str, task: str | None, lang: str, max_score: float) -> Feedback:
    """The one file holding the homework's functions is graded, the other code files beside it are its
    helpers (`from utils import sigmoid`); two such files are refused, as Gradescope's upload has no
    order worth trusting to choose between them."""
    found = discover(folder) if folder.is_dir() else []
    holding = [s for s in found if holds_contract(s.path, assignment)] if len(found) > 1 else found
    if len(holding) == 1:
        sub = holding[0]
        helpers = [s.name for s in found if s is not sub]
        notes = [t("folder.helpers", names=t("common.names").join(helpers), graded=sub.name)] if helpers else []
        try:
            fb = grade_file(sub.path, Options(assignment=assignment, task=task, view="instructor", lang=lang))
            return fb.model_copy(update={"submission": sub.name, "notes": [*notes, *fb.notes]})
        except Exception as e:  # a grader bug: the student still gets a result that says so
            reason = t("batch.internal_error", type=type(e).__name__, error=e)
            return error_feedback(sub.name, reason, assignment, task, max_score)
    if found:
        several = holding or found
        reason = t("autograder.several", count=len(several), names=t("common.names").join(s.name for s in several))
    else:
        others = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()) \
            if folder.is_dir() else []
        reason = t("autograder.none", files=t("common.names").join(others[:LISTED])) if others \
            else t("autograder.empty")
    return error_feedback("", reason, assignment, task, max_score)


def _write(folder: Path, gradescope: GradescopeResults) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_atomic(folder / "results.json", gradescope.to_json())
