"""One function per check id: each turns the child's observations into a verdict, in the parent.

Every numeric check runs on the given case and the hidden cases; a check passes only when
all of them match. Each stage was fed the reference's inputs where it could be (see
`plan.py`), and `training` judges only what its prerequisites did not already judge, so one
bug costs the points of the check it belongs to and no others.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from typing import Any, Callable

from reference.mistakes import MISTAKES, REFERENCE, Mistake, applicable

from . import plan
from .compare import Mismatch, compare, scalar
from .detect import Outline
from .expected import backward, expected, losses, trained
from .feedback import CaseDetail, CaseMismatch, CheckResult, Curve, HiddenTally
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
    main_run: ChildRun
    probe_run: ChildRun
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
        return [self.a.checks[check].hint] if self.a.checks[check].hint else []


# ---------------------------------------------------------------- shared helpers


def lost(run: ChildRun, limit: float) -> str:
    """Why a child's observation never arrived, in a student's words."""
    if run.ended == "timeout":
        return f"your program did not finish within the time limit ({limit:g} s)"
    if run.ended == "result flood":
        return "your program sent the grader far too much data"
    if run.ended in ("killed by SIGKILL", "killed by SIGXCPU"):
        return "your program was stopped: it used more memory or CPU time than the grader allows"
    if run.ended.startswith("killed by"):
        return f"your program was {run.ended}"
    if run.ended.startswith("exit code") or run.ended == "ok":
        return "your program ended the Python process itself (os._exit?) before the check could run"
    return f"the grader could not run your program ({run.ended})"


def raised(ev: Evidence, role: str, error: dict[str, Any]) -> str:
    fn = ev.functions.get(role, role)
    if error.get("type") == "Timeout":
        return f"{fn} did not return within {ev.a.limits.probe_seconds:g} s"
    return f"{fn} raised {error.get('type', 'an error')}{ev.source.at(error.get('where'))}: {error.get('message', '')}".rstrip(": ")


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
        return {}, (f"{fn} returned {len(got)} value(s); expected {len(r.outputs)} "
                    f"({', '.join(r.outputs)})")
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
            v.problem, v.errored = lost(ev.probe_run, ev.a.limits.total_seconds), True
        elif "error" in frame:
            v.problem, v.errored = raised(ev, role, frame["error"]), True
        elif (values := case_values(ev, case, frame)) is None:
            v.problem = "the weights your file starts from could not be read as numbers"
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
    t = tally(verdicts)
    given = verdicts[0]
    cases = [CaseDetail(case=v.case.index, passed=v.ok, inputs=v.case.values, problem=v.problem,
                        mismatches=[CaseMismatch(name=m.name, expected=m.expected, actual=m.actual)
                                    for m in v.mismatches]) for v in verdicts]
    hidden_text = f"hidden cases: {t.passed}/{t.total} passed"
    if all(v.ok for v in verdicts):
        return CheckResult(id=check, status="pass", score=points, max_score=points, hidden=t, cases=cases,
                           message=passed_message or f"matches the reference on the given case; {hidden_text}")
    status = "error" if any(v.errored for v in verdicts) else "fail"
    if not given.ok:
        detail = given.problem or "; ".join(str(m) for m in given.mismatches[:SHOWN])
        more = len(given.mismatches) - SHOWN
        message = f"{detail}{f' (and {more} more)' if more > 0 else ''}; {hidden_text}"
    else:
        bad = next(v for v in verdicts if not v.ok)
        message = (f"right on the given case but wrong on {t.total - t.passed} of {t.total} hidden cases "
                   f"(other inputs and weights): a formula that only fits the given numbers, or numbers "
                   f"fixed in the code instead of computed from the parameters and globals?")
        if bad.errored:  # a numeric problem of a hidden case would show its values
            message += f" ({bad.problem})"
    return CheckResult(id=check, status=status, score=score or 0.0, max_score=points, message=message,
                       hints=ev.hint(check), hidden=t, cases=cases)


def diagnosed(ev: Evidence, result: CheckResult, role: str, probe: str, observe: Observe) -> CheckResult:
    """A failing check whose numbers match a known mistake on every case, hidden ones included, names it."""
    if result.status != "fail" or ev.a.model != "net222":
        return result
    ids = [m.id for m in applicable(ev.a.framework, ev.task.activation, ev.task.loss)
           if all(v.ok for v in per_case(ev, result.id, role, probe, observe, m))]
    return with_diagnosis(result, ids)


def with_diagnosis(result: CheckResult, ids: list[str]) -> CheckResult:
    """The mistake's name and explanation join the message; its fix leads the hints."""
    if not ids:
        return result
    texts = [MISTAKES[i].text["en"] for i in ids]
    message = result.message + "".join(f"\nlikely mistake: {t.name}. {t.explanation}" for t in texts)
    hints = [f"fix: {t.fix}" for t in texts] + result.hints
    return result.model_copy(update={"diagnosis": ids, "message": message, "hints": hints})


def skipped(ev: Evidence, check: str, role: str) -> CheckResult:
    """A missing function: it costs the points only where the contract requires it."""
    r = ev.a.roles[role]
    points, _ = ev.spec(check)
    names = " or ".join(r.names[:3])
    if r.required:
        return CheckResult(id=check, status="skipped", score=0, max_score=points, hints=ev.hint(check),
                           message=f"no function named {names} is defined")
    return CheckResult(id=check, status="skipped", score=0, max_score=0,
                       message=f"no {names} function: your style updates inline, which `training` judges")


# ---------------------------------------------------------------- the checks


def check_runs(ev: Evidence) -> CheckResult:
    points, _ = ev.spec("runs")
    hints = ev.hint("runs")
    main = ev.main
    if main is None:
        return CheckResult(id="runs", status="error", score=0, max_score=points, hints=hints,
                           message=lost(ev.main_run, ev.a.limits.main_seconds))
    if main.get("error"):
        e = main["error"]
        if e.get("type") == "Timeout":
            message = f"your program did not finish within {ev.a.limits.main_seconds:g} s"
        elif e.get("type") == "EOFError":
            message = "your program calls input(): the grader has no keyboard, so it cannot answer"
        else:
            message = f"your program raised {e.get('type')}{ev.source.at(e.get('where'))}: {e.get('message', '')}"
        return CheckResult(id="runs", status="error", score=0, max_score=points, hints=hints, message=message)
    return CheckResult(id="runs", status="pass", score=points, max_score=points,
                       message="your program runs to the end without an error")


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
                "message": f"task {ev.task.title!r}: {', '.join(wrong)} should start at {init:g}"})
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
    result = summarize(ev, "gradients", verdicts, score=points * len(right) / len(grad_names),
                       passed_message=f"all {len(grad_names)} gradients match on the given case; "
                                      f"hidden cases: {tally(verdicts).passed}/{len(verdicts) - 1} passed")
    if wrong and right:
        bad = [n for n in grad_names if n in wrong]
        result.message += f"\n{_span(bad)} differ from the reference; {_span(right)} match"
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
        return ("\nyour gradients do not match the slopes of your own loss (finite differences of your "
                "forward_propagate's error): the derivation in your backward pass is wrong")
    if any(ev.results[k].status != "pass" for k in ("forward", "loss") if k in ev.results):
        return ("\nyour gradients are the true slopes of your own loss: the backward pass follows your "
                "forward pass, so fix the forward/loss first")
    return ""


def _span(names: list[str]) -> str:
    return ", ".join(names) if len(names) < 3 else f"{names[0]}..{names[-1]}" if _consecutive(names) \
        else ", ".join(names)


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
            return {}, {}, f"{ev.functions['update']} did not give back {len(ev.a.weights)} numeric weights"
        ratios = [(old[n] - v) / g for n, v, g in zip(ev.a.weights, new, case.grads)]  # type: ignore[operator]
        measured = statistics.median(ratios) if all(math.isfinite(r) for r in ratios) else math.nan
        step = case.values["step"] if frame.get("step_given") else measured
        ev.steps[case.index] = step
        if not math.isfinite(step) or step <= 0 or (frame.get("step_given") and measured < 0):
            if measured < 0:
                seen[case.index] = "update-sign-error"
            return {}, {}, ("the weights move along the gradient instead of against it: "
                            "use w = w - step * grad (sign error)" if measured < 0
                            else "the update does not change the weights by a step times the gradient")
        if not frame.get("step_given") and not case.hidden:
            notes.append(f"{ev.functions['update']} fixes its own step; measured: {step:.6g}")
        want = {n: old[n] - step * g for n, g in zip(ev.a.weights, case.grads)}
        got: dict[str, Any] = {n: [v] for n, v in zip(ev.a.weights, new)}
        if is_torch:
            stale = [n for n, g in zip(ev.a.weights, frame.get("grads_after") or [])
                     if g is not None and scalar(g)[0] not in (0.0, None)]
            if stale:
                if stale == ev.a.weights or stale == ev.a.weights[1:]:
                    seen[case.index] = "gradients-never-zeroed" if stale == ev.a.weights \
                        else "gradients-zeroed-for-w1-only"
                return {}, {}, (f"{_span(stale)} still hold their gradient after {ev.functions['update']}: "
                                f"zero every weight's gradient (w.grad.data.zero_())")
        return want, got, ""

    verdicts = per_case(ev, "update", "update", "update", observe)
    result = summarize(ev, "update", verdicts)
    if notes:
        result.message += f" ({notes[0]})"
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
                           message="training is judged on top of loss, gradients and update: all failed above")
    grad_names = [f"d_{n}" for n in ev.a.weights]

    def observe(case: Case, frame: dict[str, Any], _: dict[str, float], __: Mistake) -> tuple[dict, dict, str]:
        rounds = frame.get("rounds") or []
        if len(rounds) != plan.rounds(ev.a, case):
            return {}, {}, f"training stopped after {len(rounds)} of {plan.rounds(ev.a, case)} rounds"
        step = ev.steps.get(case.index, case.values["step"])
        nexts = [r.get("weights") for r in rounds[1:]] + [frame.get("final")]
        for k, (r, nxt) in enumerate(zip(rounds, nexts), start=1):
            w = [scalar(v)[0] for v in r.get("weights") or []]
            if len(w) != len(ev.a.weights) or any(v is None for v in w):
                return {}, {}, f"round {k}: the weights are not {len(ev.a.weights)} numbers any more"
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
                    want.update({f"{n} after": wv - step * gv for n, wv, gv in zip(ev.a.weights, w, g)})  # type: ignore[operator]
                    got.update({f"{n} after": v for n, v in zip(ev.a.weights, nxt or [])})
            mism = compare(want, got, ev.spec("training")[1])
            if mism:
                return {}, {}, f"round {k}: " + "; ".join(str(m) for m in mism[:SHOWN])
        return {}, {}, ""

    verdicts = per_case(ev, "training", "update", "training", observe)
    judged = ", ".join(k for k, ok in gates.items() if ok)
    result = summarize(ev, "training", verdicts, passed_message=(
        f"{ev.a.training.rounds} rounds driven through your functions agree with the reference "
        f"round by round ({judged}); hidden cases: {tally(verdicts).passed}/{len(verdicts) - 1} passed"))
    if result.status == "fail" and "update" in ev.results:  # gradients piling up show across rounds
        return with_diagnosis(result, [i for i in ev.results["update"].diagnosis if MISTAKES[i].check == "training"])
    return result


def _training_from_main(ev: Evidence) -> CheckResult:
    """No update function: judge what the student's own loop left behind, given case only."""
    points, tol = ev.spec("training")
    main = ev.main or {}
    base = dict(id="training", max_score=points, hints=ev.hint("training"))
    if ev.main is None or main.get("error"):
        return CheckResult(status="error", score=0, message="your program's own training loop did not finish "
                           "(see `runs`)", **base)
    updates = int(main.get("backward_calls") or 0)
    if updates == 0:
        return CheckResult(status="skipped", score=0, message="no update function and no training loop "
                           "(backward() is never called in your program)", **base)
    start = [scalar((main.get("initial") or {}).get(n))[0] for n in ev.a.weights]
    final = {n: (main.get("final") or {}).get(n) for n in ev.a.weights}
    if any(v is None for v in start):
        return CheckResult(status="fail", score=0, message="the weights your loop starts from are not numbers",
                           **base)
    step = main.get("step") or ev.a.given.step
    want = trained(ev.a, ev.task, ev.cases[0].values, start, step, updates)  # type: ignore[arg-type]
    mism = compare(dict(zip(ev.a.weights, want)), final, tol)
    what = f"{updates} updates at step {step:g} in your own loop"
    if mism:
        return CheckResult(status="fail", score=0, message=f"after {what}: " + "; ".join(map(str, mism[:SHOWN])),
                           **base)
    return CheckResult(status="pass", score=points, message=f"after {what} the weights match the reference run "
                       "(judged on your own run: the given case only)", **base)


def check_policy(ev: Evidence) -> CheckResult:
    points, _ = ev.spec("policy")
    forbidden = set(ev.a.forbidden_modules)
    seen_in_source = sorted(forbidden & ev.outline.imports)
    at_run_time = sorted({m for frame in (ev.main, ev.done) if frame for m in frame.get("forbidden_loaded", [])
                          if m in forbidden})
    used = sorted(set(seen_in_source) | set(at_run_time))
    if used:
        how = "imported in the source" if seen_in_source else "loaded while it ran"
        return CheckResult(id="policy", status="fail", score=0, max_score=points, hints=ev.hint("policy"),
                           message=f"uses {', '.join(used)} ({how}): this homework derives gradients by hand")
    return CheckResult(id="policy", status="pass", score=points, max_score=points,
                       message="numpy only: no autograd library used")


def insights(ev: Evidence) -> list[str]:
    """What the numbers teach whatever the verdict: the questions the seeds keep asking."""
    a, task = ev.a, ev.task
    out = []
    if a.model == "net222" and task.activation == "sigmoid":
        outside = [f"{n} = {v:g}" for n, v in zip(a.targets, a.given.targets) if not 0 < v < 1]
        if outside:
            out.append(f"why the loss never reaches 0: {', '.join(outside)} lies outside sigmoid's range (0, 1), "
                       "so that output can only approach it")
    c = curve(ev) if all(ev.results[k].status == "pass" for k in ("gradients", "update") if k in ev.results) \
        else None  # with wrong mechanics a rising loss says nothing about the step
    if c and (rise := next((k for k in range(1, len(c.student)) if c.student[k] > c.student[k - 1] * (1 + 1e-9)),
                           None)):
        out.append(f"the loss rose from round {rise} to round {rise + 1} ({c.student[rise - 1]:.6g} -> "
                   f"{c.student[rise]:.6g}) at step {c.step:g}: the step is too large, try a smaller one")
    if a.model == "net222":
        out.extend(_dead_units(ev))
        if task.expect_init is not None:
            final = [scalar(v)[0] for v in (ev.frames.get("training/0") or {}).get("final") or []]
            if len(final) == len(a.weights) and final[0] == final[1] and final[2] == final[3]:
                out.append("symmetry: starting from equal weights, h1 and h2 compute the same thing and get the same "
                           "gradients, so w1 = w2 and w3 = w4 after every round; zero initialisation cannot break "
                           "this, random initialisation does")
    return out


def _dead_units(ev: Evidence) -> list[str]:
    """ReLU units whose every weight gets a zero gradient on the given case: they have stopped learning."""
    if ev.task.activation != "relu":
        return []
    frame = ev.frames.get("gradients/0") or {}
    if "grads" in frame:
        grads = {f"d_{n}": scalar(v)[0] for n, v in (frame.get("grads") or {}).items()}
    else:
        got, _ = outputs(ev, "backward", frame) if "backward" in ev.a.roles else ({}, "")
        grads = {n: scalar(v)[0] for n, v in got.items()}
    units = {"h1": ["d_w1", "d_w3", "d_w5", "d_w6"], "h2": ["d_w2", "d_w4", "d_w7", "d_w8"]}
    dead = [u for u, names in units.items() if all(grads.get(n) == 0.0 for n in names)]
    return [f"dead ReLU: {u}'s input is negative on the given case, so relu'(z) = 0 and its weights "
            f"({', '.join(n[2:] for n in units[u])}) get no gradient at all; another start or a smaller step "
            f"can revive it" for u in dead]


def curve(ev: Evidence) -> Curve | None:
    """The given case's training loss, round by round: the submission's and the reference's from the same start."""
    frame = ev.frames.get("training/0") or {}
    rounds = frame.get("rounds") or []
    student = [scalar(r.get("loss"))[0] for r in rounds]
    start = [scalar(v)[0] for v in (rounds[0].get("weights") or [])] if rounds else []
    step = ev.steps.get(0, ev.cases[0].values["step"])
    if not rounds or any(v is None or not math.isfinite(v) for v in student) or len(start) != len(ev.a.weights) \
            or any(v is None for v in start) or not math.isfinite(step):
        return None
    reference = losses(ev.a, ev.task, ev.cases[0].values, start, step, len(rounds))  # type: ignore[arg-type]
    return Curve(student=student, reference=reference, step=step)  # type: ignore[arg-type]


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
