"""Grade one submission: load -> detect -> sandboxed run (load, bind, probes, `__main__`) -> checks -> feedback."""

from __future__ import annotations

import ast
import functools
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from . import plan, sandbox, spawn
from .beside import Beside, gather
from .binding import Decision, decide
from .binding.report import described
from .checks import Evidence, judge
from .checks.verdicts import CHILD_FAILED, lost, missing_fix, missing_module
from .detect import detect_assignment, detect_task, outline
from .facts import Facts, read
from .feedback import Feedback, error_feedback
from .frames import Conversation
from .i18n import speaking, t
from .insights import curve, insights
from .load import LoadError, Source, load
from .options import Options
from .protocol import ChildError, LoadFrame, Plan, Probe
from .secret import seed_for
from .spec import Assignment, load_all


class UsageError(Exception):
    """A wrong --assignment, --task or --bind: the caller's mistake, not the submission's."""


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
        defined = sorted(outline(tree).functions) or [t("grade.no_functions")]
        detected.append(t("grade.detected_assignment", id=assignment_id, functions=t("common.names").join(defined)))
    a = assignments[assignment_id]
    if task_id is None:
        task_id, why = detect_task(a, source, tree)
        if len(a.tasks) > 1:
            detected.append(t("grade.detected_task", task=task_id, why=why))
    elif task_id not in a.tasks:  # a task given without its assignment, which was detected
        raise UsageError(t("grade.unknown_task", id=a.id, task=task_id, tasks=t("common.names").join(a.tasks)))
    return a, task_id, detected


def grade_file(path: Path, options: Options = Options(), source: Source | None = None,
               beside: Beside | None = None, on_main: Callable[[float], None] | None = None) -> Feedback:
    """The verdict on one file, in the options' language and view. Never raises for the submission's sake:
    whatever goes wrong while grading it becomes an `error` verdict with a one-line reason.

    The language is set here for this call only (a batch grades in worker threads, which each start in English).
    `source` is the file already read, when a batch read it ahead; `beside` the files copied into its sandbox
    with it (default: those in its own folder, a student grading their own file); `on_main` is told when the
    program's own `__main__` starts, with its time limit.
    """
    with speaking(options.lang):
        started = time.monotonic()
        try:
            fb = _grade(path, options, source, beside, on_main)
        except UsageError:
            raise
        except Exception as e:  # a grader bug costs this file a verdict, never the report or the batch
            fb = error_feedback(path.name, t("grade.internal_error", type=type(e).__name__, error=str(e)[:200]),
                                options.assignment, options.task, _total(options.assignment)
                                ).model_copy(update={"grader_fault": True})
        fb = fb.for_view(options.view)
        return fb.model_copy(update={"seconds": round(time.monotonic() - started, 3), "lang": options.lang})


def _total(assignment_id: str | None) -> float:
    """What an ungradable file is out of: its assignment's total, where it is known (0 where it is not)."""
    return load_all()[assignment_id].max_score if assignment_id in load_all() else 0.0


def _grade(path: Path, options: Options, source: Source | None, beside: Beside | None,
           on_main: Callable[[float], None] | None) -> Feedback:
    name = path.name
    assignments = load_all()
    try:
        source = source or load(path)
    except LoadError as e:
        choose_ids(options.assignment, options.task)
        guess = options.assignment or (e.salvaged and detect_assignment(assignments, e.salvaged))
        return error_feedback(name, str(e), options.assignment or guess or None, options.task, _total(guess or None))
    a, task_id, detected = choose(assignments, options.assignment, options.task, source.tree, source.text)
    if a is None or task_id is None:
        names = sorted({r.names[0] for x in assignments.values() for r in x.roles.values()})
        return error_feedback(name, t("grade.no_contract", names=t("common.names").join(names)), notes=source.notes)
    unknown = sorted(set(options.bind) - {*a.roles, "weights"})
    if unknown:
        raise UsageError(t("grade.unknown_role", roles=t("common.names").join(unknown),
                           known=t("common.names").join(a.roles)))
    a = timed(a, options.time_limit)
    task = a.tasks[task_id]
    beside = beside if beside is not None else gather(path.parent, source.tree, exclude=path)
    notes = looks_like(assignments, a, source.tree) + list(source.notes) + beside.notes(name)

    def fail(reason: str) -> Feedback:
        return error_feedback(name, reason, a.id, task_id, a.max_score, notes)

    facts = read(source.tree)
    seed = options.seed if options.seed is not None else seed_for(source.text.encode(), a.id, beside.files)
    cases = _cases(a.id, task_id, seed)
    hidden = sorted(set(a.forbidden_modules) - facts.imports)  # out of the child's reach; imported openly, policy fails
    run, conversation, decision = converse(a, facts, cases, source.text, name, options, files=beside.files,
                                           on_main=on_main, hidden=hidden)
    notes += sandbox.left_behind(run)
    seen = conversation.seen
    if seen.sandbox is None and run.ended != "interrupted":  # failed before the submission's first line
        return fail(t("sandbox.grader_fault", how=run.ended)).model_copy(
            update={"grader_fault": True})  # a rerun of the batch grades it again
    if conversation.forged is not None:
        return fail(t("grade.forged", why=conversation.forged))
    if seen.load is None or decision is None:
        fb = fail(t("grade.not_loaded", why=lost(run, a.limits.main_seconds)))
        return fb.model_copy(update={"grader_fault": run.ended == f"exit code {CHILD_FAILED}"})  # retried by a rerun
    if (error := seen.load.error) is not None:
        if not seen.load.functions and not seen.load.classes:
            what = t("grade.exits") if error.code == "exit" else t("grade.raised", type=error.type,
                                                                     message=error.message)
            return fail(t("grade.load_failed", what=what + source.place(error.line, error.function)))
        notes.append(load_note(a, source, error))
    if not decision.found and not facts.loops:
        return fail(t("grade.none_found", id=a.id))
    ev = Evidence(a=a, task=task, cases=cases, facts=facts, source=source, run=run, seen=seen, decision=decision)
    checks = judge(ev)
    results = {c.id: c for c in checks}
    return Feedback(submission=name, assignment=a.id, task=task_id, status="graded",
                    score=round(sum(c.score for c in checks), 6), max_score=sum(c.max_score for c in checks),
                    checks=checks, detected=t("common.sep").join(detected) or None,
                    notes=notes + _binding_notes(ev) + insights(ev, results), curve=curve(ev),
                    binding=described(a, decision, seen.load, seen.layout), seed=seed,
                    protections=sandbox.protections(seen.sandbox, hidden))


def timed(a: Assignment, seconds: float | None) -> Assignment:
    """The assignment with `__main__` given `seconds` (--time-limit): the probes keep their own share."""
    if seconds is None:
        return a
    lim = a.limits
    probes = max(lim.total_seconds - lim.main_seconds, 0.0)
    return a.model_copy(update={"limits": lim.model_copy(update={"main_seconds": seconds,
                                                                 "total_seconds": probes + seconds})})


def looks_like(assignments: dict[str, Assignment], a: Assignment, tree: ast.Module) -> list[str]:
    """A note when the file looks like another assignment of another framework than the one it is graded as
    (a numpy file graded as bp-torch fails in ways that say nothing of the mix-up)."""
    best = detect_assignment(assignments, tree)
    if best is None or best == a.id or assignments[best].framework == a.framework:
        return []
    return [t("grade.looks_like", graded=a.id, detected=best, framework=assignments[best].framework)]


def load_note(a: Assignment, source: Source, e: ChildError) -> str:
    """What loading the file statement by statement lost: a statement that raised costs only itself (the rest
    was loaded), one that exits or runs out of time ends the loading there, as python's would."""
    where = source.place(e.line, e.function)
    missing = missing_module(e)
    if missing is not None:
        return t("grade.load_missing_module", module=missing, where=where, fix=missing_fix(a, missing))
    if e.code == "raised":
        return t("grade.load_skipped", what=t("grade.raised", type=e.type, message=e.message) + where)
    what = t("grade.exits") if e.code == "exit" else t("grade.times_out", seconds=a.limits.main_seconds)
    return t("grade.load_partial", what=what + where)


def converse(a: Assignment, facts: Facts, cases: list[plan.Case], text: str, filename: str, options: Options,
             planned: Callable[[Assignment, list[plan.Case], Decision], list[Probe]] = plan.probes, *,
             files: Mapping[str, bytes] | None = None, on_main: Callable[[float], None] | None = None,
             hidden: list[str] | None = None) -> tuple[sandbox.ChildRun, Conversation, Decision | None]:
    """One child's whole run: it loads the file, the binding is decided from what it reports, it runs the
    probes planned for that binding, then its `__main__`. The decision, once the child reported its load.
    `files` are copied into its scratch folder first (its helpers and data); `on_main` is told when its
    `__main__` starts; `hidden` are the forbidden libraries kept out of its reach."""
    decisions: list[Decision] = []

    def planner(frame: LoadFrame) -> Plan:
        decision = decide(a, facts, frame, options.bind)
        decisions.append(decision)
        return Plan(binding=decision.binding, probes=planned(a, cases, decision))

    conversation = Conversation(planner)
    lim = a.limits
    listener = _Watched(conversation, lambda: on_main(lim.main_seconds)) if on_main else conversation
    job = {**plan.job(a, text, filename), "hidden": hidden or [],
           "preload": spawn.preloads(a.framework, facts.imports)}  # what the child imports before it is confined
    run = sandbox.run(job, listener, lim.total_seconds + 5, int(lim.total_seconds), lim.memory_mib, options.start,
                      files=dict(files or {}))
    return run, conversation, decisions[0] if decisions else None


class _Watched:
    """A conversation whose `done` frame (the probes are over: the program's own `__main__` starts) is told."""

    def __init__(self, inner: Conversation, main_starts: Callable[[], None]) -> None:
        self.inner, self.main_starts = inner, main_starts

    def feed(self, frame: dict[str, Any]) -> bytes | None:
        answer = self.inner.feed(frame)
        if frame.get("kind") == "done" and self.inner.forged is None:
            self.main_starts()
        return answer

    def garbled(self) -> None:
        self.inner.garbled()


def _binding_notes(ev: Evidence) -> list[str]:
    """What the report must say about binding: a packed vector whose order could not be read from its forward."""
    d, layout = ev.decision, ev.seen.layout
    if d.weights.packed is not None and ev.a.packed is not None and (layout is None or layout.order is None):
        return [t("binding.order_assumed", name=d.weights.packed, order=t("common.names").join(ev.a.weights))]
    return []


@functools.lru_cache(maxsize=256)
def _cases(assignment_id: str, task_id: str, seed: int) -> list[plan.Case]:
    """The cases of a seed (read-only): a batch with a fixed --seed plans them once."""
    a = load_all()[assignment_id]
    return plan.cases(a, a.tasks[task_id], seed)

