"""Grade one submission: load -> detect -> plan -> sandboxed runs -> checks -> feedback."""

from __future__ import annotations

import ast
import functools
import time
from pathlib import Path
from typing import Any

from . import plan, sandbox
from .checks import Evidence, child_message, judge, lost
from .insights import curve, insights
from .detect import detect_assignment, detect_task, outline
from .feedback import Feedback, error_feedback
from .i18n import speaking, t
from .load import LoadError, Source, load
from .spec import Assignment, load_all


class UsageError(Exception):
    """A wrong --assignment or --task: the caller's mistake, not the submission's."""


def choose_ids(assignment_id: str | None, task_id: str | None) -> None:
    """Reject an unknown --assignment or --task before any grading starts."""
    assignments = load_all()
    if assignment_id is not None and assignment_id not in assignments:
        raise UsageError(t("grade.unknown_assignment", id=assignment_id,
                           ids=t("common.names").join(assignments)))
    if assignment_id is not None and task_id is not None and task_id not in assignments[assignment_id].tasks:
        raise UsageError(t("grade.unknown_task", id=assignment_id, task=task_id,
                           tasks=t("common.names").join(assignments[assignment_id].tasks)))


def choose(assignments: dict[str, Assignment], assignment_id: str | None, task_id: str | None,
           tree: ast.Module, source: str) -> tuple[Assignment | None, str | None, list[str]]:
    """The assignment and task, given or detected, with what was detected and why."""
    choose_ids(assignment_id, task_id)
    detected: list[str] = []
    if assignment_id is None:
        assignment_id = detect_assignment(assignments, tree)
        if assignment_id is None:
            return None, None, []
        defined = sorted(outline(tree).functions & assignments[assignment_id].role_names())
        detected.append(t("grade.detected_assignment", id=assignment_id, functions=t("common.names").join(defined)))
    a = assignments[assignment_id]
    if task_id is None:
        task_id, why = detect_task(a, source, tree)
        if len(a.tasks) > 1:
            detected.append(t("grade.detected_task", task=task_id, why=why))
    elif task_id not in a.tasks:  # a task given without its assignment, which was detected
        raise UsageError(t("grade.unknown_task", id=a.id, task=task_id, tasks=t("common.names").join(a.tasks)))
    return a, task_id, detected


def grade_file(path: Path, assignment_id: str | None = None, task_id: str | None = None,
               seed: int | None = None, view: str = "student", lang: str = "en",
               source: Source | None = None) -> Feedback:
    """The verdict on one file, written in `lang`; `instructor` view adds every case's numbers, hidden ones included.

    The language is set here for this call only (a batch grades in worker threads, which each start in English).
    `source` is the file already read (in `lang`), when a batch read it ahead.
    """
    with speaking(lang):
        started = time.monotonic()
        fb = _grade(path, assignment_id, task_id, seed, source).for_view(view)
        return fb.model_copy(update={"seconds": round(time.monotonic() - started, 3), "lang": lang})


def _grade(path: Path, assignment_id: str | None, task_id: str | None, seed: int | None,
           source: Source | None) -> Feedback:
    name = path.name
    assignments = load_all()
    try:
        source = source or load(path)
    except LoadError as e:
        return error_feedback(name, str(e), assignment_id, task_id)
    tree = source.tree
    a, task_id, detected = choose(assignments, assignment_id, task_id, tree, source.text)
    if a is None or task_id is None:
        names = sorted({r.names[0] for x in assignments.values() for r in x.roles.values()})
        return error_feedback(name, t("grade.no_contract", names=t("common.names").join(names)), notes=source.notes)
    task = a.tasks[task_id]
    fail = dict(assignment=a.id, task=task_id, max_score=a.max_score, notes=source.notes)
    o = outline(tree)
    if not o.functions & a.role_names():
        wanted = t("common.names").join(r.names[0] for r in a.roles.values())
        return error_feedback(name, t("grade.none_defined", id=a.id, names=wanted), **fail)
    has_update = bool(o.functions & set(a.roles["update"].names)) if "update" in a.roles else False
    cases, probes = _planned(a.id, task_id, seed, has_update)
    lim = a.limits
    hidden = sorted(set(a.forbidden_modules) - o.imports)  # out of the child's reach; imported openly, policy fails
    run = sandbox.run({**plan.job(a, source.text, name, probes), "hidden": hidden}, lim.total_seconds + 5,
                      int(lim.total_seconds), lim.memory_mib)
    fail["notes"] = source.notes + sandbox.left_behind(run)
    if run.grader_fault:  # a rerun of the batch grades it again
        return error_feedback(name, t("sandbox.grader_fault", how=run.ended), **fail).model_copy(
            update={"grader_fault": True})
    if run.forged or run.garbled:
        return error_feedback(name, t("grade.forged"), **fail)
    frames: dict[str, dict[str, Any]] = {}
    for f in run.frames:  # each id arrives once: a repeat was refused above
        if f.get("kind") == "probe" and isinstance(f.get("id"), str):
            frames.setdefault(f["id"], f)
    load_frame = first(run, "load")
    if load_frame is None:
        return error_feedback(name, t("grade.not_loaded", why=lost(run, a.limits.main_seconds)), **fail)
    notes = list(fail["notes"])
    if load_frame.get("error"):
        e = load_frame["error"]
        what = (t("grade.exits") if e.get("type") == "SystemExit"
                else t("grade.raised", type=e.get("type"), message=child_message(e, None))) + source.at(e.get("where"))
        if not load_frame.get("functions"):
            return error_feedback(name, t("grade.load_failed", what=what), **fail)
        notes.append(t("grade.load_partial", what=what))
    if not load_frame.get("functions"):
        return error_feedback(name, t("grade.none_found", id=a.id), **fail)
    ev = Evidence(a=a, task=task, cases=cases, outline=o, run=run, load=load_frame, main=first(run, "main"),
                  frames=frames, done=first(run, "done"), source=source)
    checks = judge(ev)
    return Feedback(submission=name, assignment=a.id, task=task_id, status="graded",
                    score=round(sum(c.score for c in checks), 6), max_score=sum(c.max_score for c in checks),
                    checks=checks, detected=t("common.sep").join(detected) or None, notes=notes + insights(ev),
                    curve=curve(ev), protections=sandbox.protections(run, hidden))


@functools.lru_cache(maxsize=64)
def _planned(assignment_id: str, task_id: str, seed: int | None,
             has_update: bool) -> tuple[list[plan.Case], list[dict[str, Any]]]:
    """The cases and probes, the same for every submission of a batch: planned once (read-only)."""
    a = load_all()[assignment_id]
    task = a.tasks[task_id]
    cases = plan.cases(a, task, seed)
    return cases, plan.probes(a, task, cases, has_update)


def first(run: sandbox.ChildRun, kind: str) -> dict[str, Any] | None:
    """The run's frame of that kind (each kind the harness sends once comes once: repeats are refused)."""
    return next((f for f in run.frames if f.get("kind") == kind), None)
