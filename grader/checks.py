"""One function per check id: each turns the child's observations into a verdict, in the parent.

Every numeric check runs on the given case and the hidden cases; a check passes only when
all of them match. Each stage was fed the reference's inputs where it could be (see
`plan.py`), and `training` judges only what its prerequisites did not already judge, so one
bug costs the points of the check it belongs to and no others.
"""

from __future__ import annotations

import math
import re
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable

from reference.mistakes import MISTAKES, REFERENCE, Mistake, applicable

from . import plan
from .compare import Mismatch, compare, scalar
from .detect import Outline
from .expected import backward, expected, trained
from .feedback import CaseDetail, CaseMismatch, CheckResult, HiddenTally
from .i18n import current, t
from .load import Source
from .plan import Case
from .sandbox import ChildRun
from .spec import Assignment, Task, Tolerance

SHOWN = 4  # mismatches listed in a message


@dataclass
class Evidence:
    """Everything the checks may look at; filled by `grade.py`, read-only for checks."""

    a: Assignment
    task: Task
    cases: list[Case]
    outline: Outline
    run: ChildRun  # the one child that ran the probes, then the program's `__main__`
    load: dict[str, Any]
    main: dict[str, Any] | None
    frames: dict[str, dict[str, Any]]
    done: dict[str, Any] | None
    source: Source
    results: dict[str, CheckResult] = field(default_factory=dict)
    steps: dict[int, float] = field(default_factory=dict)  # the step each case's update really took

    @property
    def functions(self) -> dict[str, str]:
        return self.load.get("functions") or {}

    def spec(self, check: str) -> tuple[float, Tolerance]:
        c = self.a.checks[check]
        return c.points, c.tolerance or Tolerance(rtol=1e-6, atol=1e-9)

    def hint(self, check: str) -> list[str]:
        hint = self.a.checks[check].hint
        return [hint.text(current())] if hint else []


# ---------------------------------------------------------------- shared helpers


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
    if run.ended.startswith("exit code") or run.ended == "ok":
        return t("checks.lost.exited")
    return t("checks.lost.other", how=run.ended)


_EXIT_CALLED = re.compile(r"sys\.exit\((.*)\) was called", re.DOTALL)


def child_message(error: dict[str, Any], default: Any = "") -> Any:
    """The message of an error the child reported; the harness's own words for exits and timeouts translated."""
    message = error.get("message", default)
    if error.get("type") == "Timeout" and message == "took longer than the time limit":
        return t("checks.child.timeout")
    if error.get("type") == "SystemExit" and isinstance(message, str) and (m := _EXIT_CALLED.fullmatch(message)):
        return t("checks.child.exit_called", code=m.group(1))
    return message


def raised(ev: Evidence, role: str, error: dict[str, Any]) -> str:
    fn = ev.functions.get(role, role)
    if error.get("type") == "Timeout":
        where = str(error.get("where") or "")
        stuck = where.split(" in ", 1)[1] if " in " in where else fn  # maybe another of its functions
        return t("checks.raised.timeout", function=stuck, seconds=ev.a.limits.probe_seconds) + ev.source.at(where)
    return t("checks.raised.error", function=fn, type=error.get("type", t("checks.raised.an_error")),
             where=ev.source.at(error.get("where")), message=child_message(error)).rstrip(": :")


def case_values(ev: Evidence, case: Case, frame: dict[str, Any]) -> dict[str, float] | None:
    """The case's inputs; a case that starts from the submission's own weights takes them from the echo."""
    if not case.own_weights:
        return case.values
    echoed = frame.get("case", {})
    values = dict(case.values)
    for n in ev.a.weights:
        v = echoed.get(n)
        if not isinstance(v, (int, float)) or not math.isfinite(v):
            return None
        values[n] = float(v)
    return values


def outputs(ev: Evidence, role: str, frame: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Returned values by the role's output names, or why they cannot be named."""
    r = ev.a.roles[role]
    got = frame.get("returned") or []
    if len(got) < len(r.outputs):
        fn = ev.functions.get(role, role)
        return {}, t("checks.too_few_outputs", function=fn, count=len(got), expected=len(r.outputs),
                     names=t("common.names").join(r.outputs))
    return dict(zip(r.outputs + r.optional_outputs, got)), ""


@dataclass
class CaseVerdict:
    case: Case
    mismatches: list[Mismatch] = field(default_factory=list)
    problem: str = ""  # raised, lost or malformed: not a numeric mismatch
    errored: bool = False

    @property
    def ok(self) -> bool:
        return not self.mismatches and not self.problem


Observe = Callable[[Case, dict[str, Any], dict[str, float], Mistake],
                   tuple[dict[str, float], dict[str, Any], str]]


def per_case(ev: Evidence, check: str, role: str, probe: str, observe: Observe,
             model: Mistake = REFERENCE) -> list[CaseVerdict]:
    """Run `observe` on each case's frame: it returns (expected, actual, problem) by name.

    Expected values come from the reference, or from a known mistake when diagnosing.
    """
    _, tol = ev.spec(check)
    verdicts = []
    for case in ev.cases:
        v = CaseVerdict(case)
        frame = ev.frames.get(f"{probe}/{case.index}")
        if frame is None:
            v.problem, v.errored = lost(ev.run, ev.a.limits.total_seconds), True
        elif "error" in frame:
            v.problem, v.errored = raised(ev, role, frame["error"]), True
        elif (values := case_values(ev, case, frame)) is None:
            v.problem = t("checks.own_weights_unreadable")
        else:
            want, got, v.problem = observe(case, frame, expected(ev.a, ev.task, values, model), model)
            if not v.problem:
                v.mismatches = compare(want, got, tol)
        verdicts.append(v)
    return verdicts


def tally(verdicts: list[CaseVerdict]) -> HiddenTally:
    hidden = [v for v in verdicts if v.case.hidden]
    return HiddenTally(passed=sum(v.ok for v in hidden), total=len(hidden))


def summarize(ev: Evidence, check: str, verdicts: list[CaseVerdict], score: float | None = None,
              passed_message: str = "") -> CheckResult:
    """Status, score and a message that leads with the given case and counts the hidden ones."""
    points, _ = ev.spec(check)
    hidden = tally(verdicts)
    given = verdicts[0]
    cases = [CaseDetail(case=v.case.index, passed=v.ok, inputs=v.case.values, problem=v.problem,
                        mismatches=[CaseMismatch(name=m.name, expected=m.expected, actual=m.actual)
                                    for m in v.mismatches]) for v in verdicts]
    hidden_text = t("checks.hidden_cases", passed=hidden.passed, total=hidden.total)
    if all(v.ok for v in verdicts):
        return CheckResult(id=check, status="pass", score=points, max_score=points, hidden=hidden, cases=cases,
                           message=passed_message or t("checks.pass", hidden=hidden_text))
    status = "error" if any(v.errored for v in verdicts) else "fail"
    if not given.ok:
        detail = given.problem or mismatches(given.mismatches)
        more = len(given.mismatches) - SHOWN
        message = t("checks.given_failed", detail=detail, more=t("checks.and_more", more=more) if more > 0 else "",
                    hidden=hidden_text)
    else:
        bad = next(v for v in verdicts if not v.ok)
        message = t("checks.hidden_failed", wrong=hidden.total - hidden.passed, total=hidden.total)
        if bad.errored:  # a numeric problem of a hidden case would show its values
            message += t("common.paren", text=bad.problem)
    return CheckResult(id=check, status=status, score=score or 0.0, max_score=points, message=message,
                       hints=ev.hint(check), hidden=hidden, cases=cases)


def mismatches(found: list[Mismatch]) -> str:
    """The first few mismatches, joined."""
    return t("common.sep").join(str(m) for m in found[:SHOWN])


def diagnosed(ev: Evidence, result: CheckResult, role: str, probe: str, observe: Observe) -> CheckResult:
    """A failing check whose numbers match a known mistake on every case, hidden ones included, names it."""
    if result.status != "fail":
        return result
    ids = [m.id for m in candidates(ev) if all(v.ok for v in per_case(ev, result.id, role, probe, observe, m))]
    return with_diagnosis(result, ids)


def candidates(ev: Evidence) -> list[Mistake]:
    """The known mistakes a submission of this assignment and task can make."""
    if ev.a.model == "net222":
        return applicable(ev.a.framework, ev.task.activation, ev.task.loss)
    return [m for m in MISTAKES.values() if ev.a.model in m.models]


def with_diagnosis(result: CheckResult, ids: list[str]) -> CheckResult:
    """The mistake's name and explanation join the message; its fix leads the hints."""
    if not ids:
        return result
    texts = [MISTAKES[i].text[current()] for i in ids]
    message = result.message + "".join("\n" + t("checks.likely_mistake", name=x.name, explanation=x.explanation)
                                       for x in texts)
    hints = [t("checks.fix", fix=x.fix) for x in texts] + result.hints
    return result.model_copy(update={"diagnosis": ids, "message": message, "hints": hints})


def skipped(ev: Evidence, check: str, role: str) -> CheckResult:
    """A missing function: it costs the points only where the contract requires it."""
    r = ev.a.roles[role]
    points, _ = ev.spec(check)
    names = t("common.or").join(r.names[:3])
    if r.required:
        return CheckResult(id=check, status="skipped", score=0, max_score=points, hints=ev.hint(check),
                           message=t("checks.no_function", names=names))
    return CheckResult(id=check, status="skipped", score=0, max_score=0,
                       message=t("checks.inline_update", names=names))


# ---------------------------------------------------------------- the checks


def check_runs(ev: Evidence) -> CheckResult:
    points, _ = ev.spec("runs")
    hints = ev.hint("runs")
    main = ev.main
    if main is None:
        return CheckResult(id="runs", status="error", score=0, max_score=points, hints=hints,
                           message=lost(ev.run, ev.a.limits.main_seconds))
    if main.get("error"):
        e = main["error"]
        if e.get("type") == "Timeout":
            message = t("checks.runs.timeout", seconds=ev.a.limits.main_seconds)
        elif e.get("type") == "EOFError":
            message = t("checks.runs.input")
        else:
            message = t("checks.runs.raised", type=e.get("type"), where=ev.source.at(e.get("where")),
                        message=child_message(e))
        return CheckResult(id="runs", status="error", score=0, max_score=points, hints=hints, message=message)
    return CheckResult(id="runs", status="pass", score=points, max_score=points,
                       message=t("checks.runs.pass"))


def check_forward(ev: Evidence) -> CheckResult:
    if "forward" not in ev.functions:
        return skipped(ev, "forward", "forward")
    r = ev.a.roles["forward"]

    def observe(case: Case, frame: dict[str, Any], exp: dict[str, float], _: Mistake) -> tuple[dict, dict, str]:
        got, problem = outputs(ev, "forward", frame)
        names = [n for n in r.outputs + r.optional_outputs if n in got and n != "error"]
        return {n: exp[n] for n in names}, got, problem

    verdicts = per_case(ev, "forward", "forward", "forward", observe)
    result = diagnosed(ev, summarize(ev, "forward", verdicts), "forward", "forward", observe)
    init = ev.task.expect_init
    start = ev.load.get("initial") or {}
    if init is not None and result.status == "pass":
        wrong = [n for n in ev.a.weights if scalar(start.get(n))[0] != init]
        if wrong:
            result = result.model_copy(update={
                "status": "fail", "score": 0.0,
                "message": t("checks.forward.wrong_start", title=ev.task.title, names=t("common.names").join(wrong),
                             init=init)})
    return result


def check_loss(ev: Evidence) -> CheckResult:
    role = "loss" if "loss" in ev.a.roles else "forward"  # bp-numpy: the error forward returns
    if role not in ev.functions:
        return skipped(ev, "loss", role)
    probe = "loss" if role == "loss" else "forward"

    def observe(case: Case, frame: dict[str, Any], exp: dict[str, float], _: Mistake) -> tuple[dict, dict, str]:
        got, problem = outputs(ev, role, frame)
        return {"error": exp["error"]}, got, problem

    return diagnosed(ev, summarize(ev, "loss", per_case(ev, "loss", role, probe, observe)), role, probe, observe)


def check_gradients(ev: Evidence) -> CheckResult:
    role = "backward" if "backward" in ev.a.roles else "loss"
    if role not in ev.functions:
        return skipped(ev, "gradients", role)
    grad_names = [f"d_{n}" for n in ev.a.weights]

    def observe(case: Case, frame: dict[str, Any], exp: dict[str, float], model: Mistake) -> tuple[dict, dict, str]:
        want = {n: exp[n] for n in grad_names}
        if role == "backward":
            got, problem = outputs(ev, "backward", frame)
            fed = frame.get("fed") or {}
            if all(isinstance(fed.get(k), (int, float)) for k in ("out_o1", "out_o2", "out_h1", "out_h2")):
                want = backward(ev.a, ev.task, case_values(ev, case, frame) or case.values, fed, model)
            return want, got, problem
        grads = frame.get("grads") or {}
        return want, {f"d_{n}": grads.get(n) for n in ev.a.weights}, ""

    verdicts = per_case(ev, "gradients", role, "gradients", observe)
    points, _ = ev.spec("gradients")
    if any(v.problem for v in verdicts):
        return summarize(ev, "gradients", verdicts)
    wrong = {m.name for v in verdicts for m in v.mismatches}
    right = [n for n in grad_names if n not in wrong]
    hidden = t("checks.hidden_cases", passed=tally(verdicts).passed, total=len(verdicts) - 1)
    result = summarize(ev, "gradients", verdicts, score=points * len(right) / len(grad_names),
                       passed_message=t("checks.gradients.pass", count=len(grad_names), hidden=hidden))
    if wrong and right:
        bad = [n for n in grad_names if n in wrong]
        result.message += "\n" + t("checks.gradients.split", wrong=_span(bad), right=_span(right))
    if role == "backward" and result.status == "fail":
        result.message += _consistency(ev, verdicts[0])
    return diagnosed(ev, result, role, "gradients", observe)


def _consistency(ev: Evidence, given: CaseVerdict) -> str:
    """bp-numpy: do the student's gradients follow the student's own forward (finite differences)?"""
    frame = ev.frames.get("gradients/0") or {}
    numeric = frame.get("numeric")
    got, problem = outputs(ev, "backward", frame)
    if problem or not isinstance(numeric, list) or len(numeric) != len(ev.a.weights):
        return ""
    slopes = {f"d_{n}": v for n, v in zip(ev.a.weights, numeric)}
    if compare(slopes, got, Tolerance(rtol=1e-3, atol=1e-6)):
        return "\n" + t("checks.gradients.not_own_slopes")
    if any(ev.results[k].status != "pass" for k in ("forward", "loss") if k in ev.results):
        return "\n" + t("checks.gradients.own_slopes")
    return ""


def _span(names: list[str]) -> str:
    return t("common.names").join(names) if len(names) < 3 else f"{names[0]}..{names[-1]}" if _consecutive(names) \
        else t("common.names").join(names)


def _consecutive(names: list[str]) -> bool:
    digits = [n.rsplit("w", 1)[-1] for n in names]
    return all(d.isdigit() for d in digits) and \
        [int(d) for d in digits] == list(range(int(digits[0]), int(digits[0]) + len(digits)))


def check_update(ev: Evidence) -> CheckResult:
    if "update" not in ev.functions:
        return skipped(ev, "update", "update")
    is_torch = ev.a.framework == "torch"
    notes: list[str] = []
    seen: dict[int, str] = {}  # case -> the known mistake its numbers show

    def observe(case: Case, frame: dict[str, Any], exp: dict[str, float], _: Mistake) -> tuple[dict, dict, str]:
        old = case_values(ev, case, frame) or case.values
        new = [scalar(w)[0] for w in frame.get("weights", [])]
        if len(new) != len(ev.a.weights) or any(v is None for v in new):
            return {}, {}, t("checks.update.not_weights", function=ev.functions["update"], count=len(ev.a.weights))
        ratios = [(old[n] - v) / g for n, v, g in zip(ev.a.weights, new, case.grads)]  # type: ignore[operator]
        measured = statistics.median(ratios) if all(math.isfinite(r) for r in ratios) else math.nan
        step = case.values["step"] if frame.get("step_given") else measured
        ev.steps[case.index] = step
        if not math.isfinite(step) or step <= 0 or (frame.get("step_given") and measured < 0):
            if measured < 0:
                seen[case.index] = "update-sign-error"
            return {}, {}, (t("checks.update.sign_error") if measured < 0 else t("checks.update.not_a_step"))
        if not frame.get("step_given") and not case.hidden:
            notes.append(t("checks.update.own_step", function=ev.functions["update"], step=step))
        want = {n: old[n] - step * g for n, g in zip(ev.a.weights, case.grads)}
        got: dict[str, Any] = {n: [v] for n, v in zip(ev.a.weights, new)}
        if is_torch:
            stale = [n for n, g in zip(ev.a.weights, frame.get("grads_after") or [])
                     if g is not None and scalar(g)[0] not in (0.0, None)]
            if stale:
                if stale == ev.a.weights or stale == ev.a.weights[1:]:
                    seen[case.index] = "gradients-never-zeroed" if stale == ev.a.weights \
                        else "gradients-zeroed-for-w1-only"
                return {}, {}, t("checks.update.not_zeroed", names=_span(stale), function=ev.functions["update"])
        return want, got, ""

    verdicts = per_case(ev, "update", "update", "update", observe)
    result = summarize(ev, "update", verdicts)
    if notes:
        result.message += t("common.paren", text=notes[0])
    shown = set(seen.values())
    if result.status == "fail" and len(seen) == len(verdicts) and len(shown) == 1:
        return with_diagnosis(result, sorted(shown))
    return result


def check_training(ev: Evidence) -> CheckResult:
    if "update" not in ev.functions:
        if "update" in ev.a.roles and ev.a.roles["update"].required:
            return skipped(ev, "training", "update")
        return _training_from_main(ev)
    gates = {k: ev.results[k].status == "pass" for k in ("loss", "gradients", "update") if k in ev.results}
    points, _ = ev.spec("training")
    if not any(gates.values()):
        return CheckResult(id="training", status="fail", score=0, max_score=points, hints=ev.hint("training"),
                           message=t("checks.training.all_failed"))
    grad_names = [f"d_{n}" for n in ev.a.weights]

    def observe(case: Case, frame: dict[str, Any], _: dict[str, float], __: Mistake) -> tuple[dict, dict, str]:
        rounds = frame.get("rounds") or []
        if len(rounds) != plan.rounds(ev.a, case):
            return {}, {}, t("checks.training.stopped", done=len(rounds), total=plan.rounds(ev.a, case))
        step = ev.steps.get(case.index, case.values["step"])
        nexts = [r.get("weights") for r in rounds[1:]] + [frame.get("final")]
        for k, (r, nxt) in enumerate(zip(rounds, nexts), start=1):
            w = [scalar(v)[0] for v in r.get("weights") or []]
            if len(w) != len(ev.a.weights) or any(v is None for v in w):
                return {}, {}, t("checks.training.not_numbers", round=k, count=len(ev.a.weights))
            state = {**case.values, **dict(zip(ev.a.weights, w))}  # the student's own weights
            exp = expected(ev.a, ev.task, state)
            grads = r.get("grads") or []
            want: dict[str, float] = {}
            got: dict[str, Any] = {}
            if gates.get("loss"):
                want["error"], got["error"] = exp["error"], r.get("loss")
            if gates.get("gradients"):
                want.update({n: exp[n] for n in grad_names})
                got.update(dict(zip(grad_names, grads)))
            if gates.get("update"):
                g = [scalar(v)[0] for v in grads]
                if len(g) == len(w) and all(v is not None for v in g):
                    after = [t("checks.training.after", name=n) for n in ev.a.weights]
                    want.update({name: wv - step * gv for name, wv, gv in zip(after, w, g)})  # type: ignore[operator]
                    got.update(dict(zip(after, nxt or [])))
            mism = compare(want, got, ev.spec("training")[1])
            if mism:
                return {}, {}, t("checks.training.round", round=k, detail=mismatches(mism))
        return {}, {}, ""

    verdicts = per_case(ev, "training", "update", "training", observe)
    judged = t("common.names").join(k for k, ok in gates.items() if ok)
    hidden = t("checks.hidden_cases", passed=tally(verdicts).passed, total=len(verdicts) - 1)
    result = summarize(ev, "training", verdicts, passed_message=t(
        "checks.training.pass", rounds=plan.rounds(ev.a, ev.cases[0]), hidden_rounds=ev.a.training.rounds,
        judged=judged, hidden=hidden))
    if result.status == "fail" and "update" in ev.results:  # gradients piling up show across rounds
        return with_diagnosis(result, [i for i in ev.results["update"].diagnosis if MISTAKES[i].check == "training"])
    return result


def _training_from_main(ev: Evidence) -> CheckResult:
    """No update function: judge what the student's own loop left behind, given case only."""
    points, tol = ev.spec("training")
    main = ev.main or {}
    base = dict(id="training", max_score=points, hints=ev.hint("training"))
    if ev.main is None or main.get("error"):
        return CheckResult(status="error", score=0, message=t("checks.training.loop_unfinished"), **base)
    updates = int(main.get("backward_calls") or 0)
    if updates == 0:
        return CheckResult(status="skipped", score=0, message=t("checks.training.no_loop"), **base)
    start = [scalar((main.get("initial") or {}).get(n))[0] for n in ev.a.weights]
    final = {n: (main.get("final") or {}).get(n) for n in ev.a.weights}
    if any(v is None for v in start):
        return CheckResult(status="fail", score=0, message=t("checks.training.loop_start"), **base)
    step = main.get("step") or ev.a.given.step
    want = trained(ev.a, ev.task, ev.cases[0].values, start, step, updates)  # type: ignore[arg-type]
    mism = compare(dict(zip(ev.a.weights, want)), final, tol)
    what = t("checks.training.loop_what", updates=updates, step=step)
    if mism:
        ids = [m.id for m in candidates(ev) if not compare(
            dict(zip(ev.a.weights, trained(ev.a, ev.task, ev.cases[0].values, start, step, updates, m))),  # type: ignore[arg-type]
            final, tol)]
        return with_diagnosis(CheckResult(status="fail", score=0, message=t(
            "checks.training.loop_failed", what=what, detail=mismatches(mism)), **base), ids)
    return CheckResult(status="pass", score=points, message=t("checks.training.loop_pass", what=what), **base)


def check_policy(ev: Evidence) -> CheckResult:
    """Fails on what the parent reads in the source, or on what the child reports against itself (a forbidden
    library loaded, or an import of one that failed because the sandbox kept it out of reach). Nothing the
    child could report makes it pass: a forbidden library the source does not import is unreadable to the
    child (the report's protections say where the sandbox could not do that)."""
    points, _ = ev.spec("policy")
    forbidden = set(ev.a.forbidden_modules)
    seen_in_source = sorted(forbidden & ev.outline.imports)
    at_run_time = sorted({m for frame in (ev.main, ev.done) if frame for m in frame.get("forbidden_loaded", [])
                          if m in forbidden})
    tried = sorted(_tried(ev, forbidden))
    used = sorted(set(seen_in_source) | set(at_run_time) | set(tried))
    if used:
        how = t("checks.policy.in_source") if seen_in_source else t("checks.policy.at_run_time") if at_run_time \
            else t("checks.policy.tried")
        return CheckResult(id="policy", status="fail", score=0, max_score=points, hints=ev.hint("policy"),
                           message=t("checks.policy.fail", modules=t("common.names").join(used), how=how))
    return CheckResult(id="policy", status="pass", score=points, max_score=points,
                       message=t("checks.policy.pass"))


def _tried(ev: Evidence, forbidden: set[str]) -> set[str]:
    """Forbidden libraries named by an import that failed in the child (ModuleNotFoundError, or PermissionError
    on the library's files where the submission removed the sandbox's finder)."""
    out: set[str] = set()
    for frame in (ev.load, ev.main, *ev.frames.values()):
        error = (frame or {}).get("error")
        if isinstance(error, dict) and error.get("type") in ("ModuleNotFoundError", "ImportError", "PermissionError"):
            message = str(error.get("message", ""))
            out |= {m for m in forbidden if f"'{m}'" in message or f"'{m}." in message or f"/{m}/" in message}
    return out


CHECKS: dict[str, Callable[[Evidence], CheckResult]] = {
    "runs": check_runs,
    "forward": check_forward,
    "loss": check_loss,
    "gradients": check_gradients,
    "update": check_update,
    "training": check_training,
    "policy": check_policy,
}


def judge(ev: Evidence) -> list[CheckResult]:
    """Every check the assignment declares, in contract order (training reads the earlier ones)."""
    for check_id, fn in CHECKS.items():
        if check_id in ev.a.checks:
            ev.results[check_id] = fn(ev)
    return list(ev.results.values())
