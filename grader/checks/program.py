"""The checks of the program as a whole: does it run to the end, does it keep the homework's rules."""

from __future__ import annotations

from collections.abc import Mapping

from ..feedback import CheckResult
from ..i18n import t
from .evidence import Evidence
from .verdicts import lost, missing_fix, missing_module


def check_runs(ev: Evidence, done: Mapping[str, CheckResult]) -> CheckResult:
    points, _ = ev.spec("runs")
    hints = ev.hint("runs")
    main = ev.seen.main
    if main is None:
        return CheckResult(id="runs", status="error", score=0, max_score=points, hints=hints,
                           message=lost(ev.run, ev.a.limits.main_seconds))
    e = main.error
    refused = "\n" + t("checks.runs.refused", why=ev.source.refused) if ev.source.refused else ""
    if e is None:
        return CheckResult(id="runs", status="pass", score=points, max_score=points,
                           message=t("checks.runs.pass") + refused)
    where = ev.source.place(e.line, e.function)
    if e.code == "timeout":
        message = t("checks.runs.timeout", seconds=ev.a.limits.main_seconds) + "\n" + _fewer_rounds(ev)
    elif e.code == "exit":
        message = t("checks.runs.exit", code=e.exit_code, where=where)
    elif (module := missing_module(e)) is not None:
        message = t("checks.runs.no_module", module=module, where=where, fix=missing_fix(ev.a, module))
    else:
        message = t("checks.runs.raised", type=e.type, where=where, message=e.message)
        if e.type == "EOFError" or e.line is not None and "input(" in ev.source.line(e.line):
            message += "\n" + t("checks.runs.input")
    return CheckResult(id="runs", status="error", score=0, max_score=points, hints=hints, message=message + refused)


def _fewer_rounds(ev: Evidence) -> str:
    """How to make a program that ran out of time finish: fewer rounds of its own loop (the grader runs
    its rounds itself), or a longer limit."""
    rounds = [n for n in ev.facts.ranges if n >= 100]
    if rounds:
        return t("checks.runs.fewer_epochs_of", rounds=max(rounds), fewer=max(10, max(rounds) // 100))
    return t("checks.runs.fewer_epochs")


def check_policy(ev: Evidence, done: Mapping[str, CheckResult]) -> CheckResult:
    """Fails on what the parent reads in the source, or on what the child reports against itself (a forbidden
    library loaded, or an import of one that failed because the sandbox kept it out of reach). Nothing the
    child could report makes it pass: a forbidden library the source does not import is unreadable to the
    child (the report's protections say where the sandbox could not do that)."""
    points, _ = ev.spec("policy")
    forbidden = set(ev.a.forbidden_modules)
    seen_in_source = sorted(forbidden & ev.facts.imports)
    frames = [f for f in (ev.seen.main, ev.seen.done) if f is not None]
    at_run_time = sorted({m for f in frames for m in f.forbidden_loaded if m in forbidden})
    tried = _tried(ev, forbidden)
    used = sorted(set(seen_in_source) | set(at_run_time) | tried)
    if used:
        how = t("checks.policy.in_source") if seen_in_source else t("checks.policy.at_run_time") if at_run_time \
            else t("checks.policy.tried")
        return CheckResult(id="policy", status="fail", score=0, max_score=points, hints=ev.hint("policy"),
                           message=t("checks.policy.fail", modules=t("common.names").join(used), how=how))
    return CheckResult(id="policy", status="pass", score=points, max_score=points, message=t("checks.policy.pass"))


def _tried(ev: Evidence, forbidden: set[str]) -> set[str]:
    """Forbidden libraries named by an import that failed in the child (ModuleNotFoundError, or PermissionError
    on the library's files where the submission removed the sandbox's finder)."""
    errors = [f.error for f in (ev.seen.load, ev.seen.main) if f is not None and f.error is not None]
    errors += [o.frame.error for o in ev.seen.probes.values() if o.frame.error is not None]
    out: set[str] = set()
    for e in errors:
        if e.type in ("ModuleNotFoundError", "ImportError", "PermissionError"):
            out |= {m for m in forbidden if f"'{m}'" in e.message or f"'{m}." in e.message or f"/{m}/" in e.message}
    return out
