"""What every check shares: a verdict per case, the message that leads with the given case and only
counts the hidden ones, a known mistake named when the numbers match it on every case, and the
words for what went wrong in the child."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from reference.mistakes import MISTAKES, REFERENCE, Mistake, applicable

from ..compare import Mismatch, compare
from ..expected import expected
from ..feedback import CaseDetail, CaseMismatch, CheckResult, CheckStatus, HiddenTally
from ..frames import Observed
from ..i18n import current, t
from ..plan import Case
from ..protocol import ChildError
from ..sandbox import ChildRun
from ..spec import Assignment
from .evidence import Evidence

SHOWN = 4  # mismatches listed in a message
CHILD_FAILED = 70  # the exit code of a child whose own code failed (grader/child/boot.py)


def lost(run: ChildRun, limit: float) -> str:
    """Why a child's observation never arrived, in a student's words."""
    if run.ended == "timeout":
        return t("checks.lost.timeout", seconds=limit)
    if run.ended == "result flood":
        return t("checks.lost.flood")
    if run.ended in ("killed by SIGKILL", "killed by SIGXCPU"):
        return t("checks.lost.resources")
    if run.ended.startswith("killed by"):
        return t("checks.lost.killed", how=run.ended)
    if run.ended == f"exit code {CHILD_FAILED}":  # the child's own failure: its traceback is on stderr
        last = next((line for line in reversed(run.stderr_tail.splitlines()) if line.strip()), "")
        return t("checks.lost.child_failed", error=last[:200])
    if run.ended.startswith("exit code") or run.ended == "ok":
        return t("checks.lost.exited")
    return t("checks.lost.other", how=run.ended)


def missing_module(e: ChildError) -> str | None:
    """The module an import could not find (`No module named 'seaborn'`), if that is what happened."""
    if e.code != "raised" or e.type not in ("ModuleNotFoundError", "ImportError"):
        return None
    match = re.search(r"No module named '([\w.]+)'", e.message)
    return match.group(1) if match else None


def missing_fix(a: Assignment, module: str) -> str:
    """How to do without a module the sandbox lacks: the packages it has, and what to change."""
    provided = t("common.names").join(["numpy", *(["torch"] if a.framework == "torch" else []), "matplotlib",
                                       *a.packages])
    if module.split(".")[0] == "IPython":
        return t("grade.fix_ipython", provided=provided)
    return t("grade.fix_module", module=module.split(".")[0], provided=provided)


def raised(ev: Evidence, role: str | None, error: ChildError, hidden: bool) -> str:
    """What went wrong in a call of `role`'s function (None: in a run of several, such as a training round,
    the function the error happened in), in the reader's language. On a hidden case only the function and
    the exception's type: its text (or where it happened) could carry the hidden inputs out."""
    called = ev.function(role) if role is not None else error.function or t("checks.raised.your_program")
    inner = error.function if error.function and error.function != called else None
    function = t("checks.raised.called_by", function=inner, caller=called) if inner else called
    if error.code == "timeout":
        return t("checks.raised.timeout", function=function, seconds=ev.a.limits.probe_seconds)
    if error.code == "exit":
        return t("checks.raised.exit", function=function, code=error.exit_code)
    if error.code == "unbound":
        return t("checks.raised.unbound", function=error.function)
    if error.code == "not_tensor":
        return t("checks.raised.not_tensor", function=called, type=error.type)
    if error.code == "no_numbers":
        return t("checks.raised.no_numbers", function=error.function)
    if hidden:
        return t("checks.raised.hidden", function=function, type=error.type)
    return t("checks.raised.error", function=function, type=error.type,
             where=ev.source.place(error.line, error.function), message=error.message).rstrip(": ")


@dataclass
class CaseVerdict:
    case: Case
    mismatches: list[Mismatch] = field(default_factory=list)
    problem: str = ""  # raised, lost or malformed: not a numeric mismatch
    errored: bool = False

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.problem


# (case, what the child observed, the case's values as run, the model judged against) -> (expected, actual, problem)
Observe = Callable[[Case, Observed, dict[str, float], Mistake], tuple[dict[str, float], dict[str, Any], str]]


def per_case(ev: Evidence, check: str, role: str, probe: str, observe: Observe,
             model: Mistake = REFERENCE) -> list[CaseVerdict]:
    """Run `observe` on each case's observation; expected values from the reference, or a known mistake."""
    _, tol = ev.spec(check)
    verdicts = []
    for case in ev.cases:
        v = CaseVerdict(case)
        seen = ev.observed(probe, case)
        if seen is None:
            v.problem, v.errored = lost(ev.run, ev.a.limits.total_seconds), True
        elif seen.frame.error is not None:
            v.problem, v.errored = raised(ev, role, seen.frame.error, case.hidden), True
        elif (values := ev.values(case, seen)) is None:
            v.problem = t("checks.own_weights_unreadable")
        else:
            want, got, v.problem = observe(case, seen, values, model)
            if not v.problem:
                v.mismatches = compare(want, got, tol)
        verdicts.append(v)
    return verdicts


def by_case(ev: Evidence, check: str, judge: Callable[[Case], tuple[dict[str, float], dict[str, Any], str]]
            ) -> list[CaseVerdict]:
    """A verdict per case from a judge that reads the evidence itself (training, which spans several probes)."""
    _, tol = ev.spec(check)
    out = []
    for case in ev.cases:
        want, got, problem = judge(case)
        out.append(CaseVerdict(case, [] if problem else compare(want, got, tol), problem))
    return out


def tally(verdicts: list[CaseVerdict]) -> HiddenTally:
    hidden = [v for v in verdicts if v.case.hidden]
    return HiddenTally(passed=sum(v.ok for v in hidden), total=len(hidden))


def hidden_text(verdicts: list[CaseVerdict]) -> str:
    h = tally(verdicts)
    return t("checks.hidden_cases", passed=h.passed, total=h.total)


def summarize(ev: Evidence, check: str, verdicts: list[CaseVerdict], score: float | None = None,
              passed_message: str = "") -> CheckResult:
    """Status, score and a message that leads with the given case and counts the hidden ones."""
    points, _ = ev.spec(check)
    hidden = tally(verdicts)
    given = verdicts[0]
    cases = [CaseDetail(case=v.case.index, passed=v.ok, inputs=v.case.values, problem=v.problem,
                        mismatches=[CaseMismatch(name=m.name, expected=m.expected, actual=m.actual)
                                    for m in v.mismatches]) for v in verdicts]
    if all(v.ok for v in verdicts):
        return CheckResult(id=check, status="pass", score=points, max_score=points, hidden=hidden, cases=cases,
                           message=passed_message or t("checks.pass", hidden=hidden_text(verdicts)))
    status: CheckStatus = "error" if any(v.errored for v in verdicts) else "fail"
    if not given.ok:
        detail = given.problem or mismatches(given.mismatches)
        more = len(given.mismatches) - SHOWN
        message = t("checks.given_failed", detail=detail, more=t("checks.and_more", more=more) if more > 0 else "",
                    hidden=hidden_text(verdicts))
    else:
        bad = next(v for v in verdicts if not v.ok)
        message = t("checks.hidden_failed", wrong=hidden.total - hidden.passed, total=hidden.total)
        if bad.errored:  # a numeric problem of a hidden case would show its values; an error's words do not
            message += t("common.paren", text=bad.problem)
    return CheckResult(id=check, status=status, score=score or 0.0, max_score=points, message=message,
                       hints=ev.hint(check), hidden=hidden, cases=cases)


def mismatches(found: list[Mismatch]) -> str:
    """The first few mismatches, joined."""
    return t("common.sep").join(str(m) for m in found[:SHOWN])


def candidates(ev: Evidence) -> list[Mistake]:
    """The known mistakes a submission of this assignment and task can make."""
    return applicable(ev.a.model, ev.a.framework, ev.task.activation, ev.task.loss)


def diagnosed(ev: Evidence, result: CheckResult, role: str, probe: str, observe: Observe) -> CheckResult:
    """A failing check whose numbers match a known mistake on every case, hidden ones included, names it."""
    if result.status != "fail":
        return result
    ids = [m.id for m in candidates(ev) if all(v.ok for v in per_case(ev, result.id, role, probe, observe, m))]
    return with_diagnosis(result, ids, ev.a.framework)


def with_diagnosis(result: CheckResult, ids: list[str], framework: str) -> CheckResult:
    """The mistake's name and explanation join the message; its fix leads the hints. Each in the words written
    for the assignment's framework (a numpy submission is not told to call MSELoss)."""
    if not ids:
        return result
    texts = [MISTAKES[i].text[current()].written_for(framework) for i in ids]
    message = result.message + "".join("\n" + t("checks.likely_mistake", name=x.name, explanation=x.explanation)
                                       for x in texts)
    hints = [t("checks.fix", fix=x.fix) for x in texts] + result.hints
    return result.model_copy(update={"diagnosis": ids, "message": message, "hints": hints})


def skipped(ev: Evidence, check: str, why: str) -> CheckResult:
    """A check this style cannot be judged on: no points at stake here (they move, see checks.judge)."""
    return CheckResult(id=check, status="skipped", score=0, max_score=0, message=why)


def reference_values(ev: Evidence, values: dict[str, float], model: Mistake = REFERENCE) -> dict[str, float]:
    return expected(ev.a, ev.task, values, model)
