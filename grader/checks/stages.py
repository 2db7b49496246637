"""The stage checks: forward, loss, gradients, update. Each judges its stage on its own inputs.

forward is compared with the reference at the case. loss is the reference's loss of the
submission's *own* outputs (checked to be the outputs its forward gave on the same case), so a
wrong forward costs forward only. gradients: the reference's where forward and loss are right;
where they are not, the slopes of the submission's own loss (central differences of its own
functions), unless those are flat (a file that returns zeros proves nothing). update is handed
known gradients. So one bug costs the check it belongs to, and no other.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from reference.mistakes import REFERENCE, Mistake

from ..compare import compare, scalar
from ..expected import backward, fed_names, loss_of
from ..feedback import CheckResult
from ..frames import Observed
from ..i18n import t
from ..plan import Case
from ..protocol import AutogradResult, BackwardResult, CallResult, UpdateResult
from ..spec import Tolerance
from .evidence import Evidence
from .verdicts import (
    CaseVerdict,
    diagnosed,
    hidden_text,
    per_case,
    reference_values,
    skipped,
    summarize,
    with_diagnosis,
)

# central differences of a submission's own loss: in float32 (torch) good to about 1e-3, in float64 to about 1e-8
OWN_SLOPES = {"torch": Tolerance(rtol=2e-2, atol=1e-4), "numpy": Tolerance(rtol=1e-5, atol=1e-8)}
FLAT = 1e-7  # slopes below this everywhere: the loss is flat, its gradient proves nothing
FED = Tolerance(rtol=1e-9, atol=1e-12)  # the same call on the same case gives the same numbers


def unbound(ev: Evidence, check: str, role: str) -> CheckResult:
    """Why a check cannot be judged: its role has no function, an ambiguous one, or one the grader cannot call."""
    points, _ = ev.spec(check)
    d = ev.decision
    names = t("common.or").join(ev.a.roles[role].names[:3])
    if role in d.unbindable:
        u = d.unbindable[role]
        return CheckResult(id=check, status="error", score=0, max_score=points, hints=ev.hint(check),
                           message=t("checks.unbindable", function=u.function, params=", ".join(u.params),
                                     missing=", ".join(u.missing), role=role,
                                     expected=", ".join(ev.a.roles[role].params)))
    why = d.unfound.get(role)
    if why is not None and why.why == "ambiguous":
        return skipped(ev, check, t("checks.ambiguous", role=role, candidates=t("common.names").join(why.candidates)))
    if why is not None and why.why == "unknown_option":
        return skipped(ev, check, t("checks.unknown_option", role=role, name=why.candidates[0]))
    if not ev.a.roles[role].required:
        return skipped(ev, check, t("checks.inline_update", names=names))
    return skipped(ev, check, t("checks.no_function", names=names))


def outputs(ev: Evidence, role: str, seen: Observed) -> tuple[dict[str, Any], str]:
    """Returned values by the role's output names, or why they cannot be named."""
    r = ev.a.roles[role]
    assert isinstance(seen.result, (CallResult, AutogradResult, BackwardResult))
    got = seen.result.returned
    names = ev.decision.binding.outputs.get(role, [*r.outputs, *r.optional_outputs])
    required = ["error"] if role == "loss" else r.outputs
    if len(got) < len(required):
        return {}, t("checks.too_few_outputs", function=ev.function(role), count=len(got), expected=len(required),
                     names=t("common.names").join(required))
    return dict(zip(names, got)), ""


def own_outputs(ev: Evidence, case: Case) -> dict[str, float] | None:
    """The numbers the submission's forward returned on this case (its forward probe), by output name."""
    seen = ev.observed("forward", case)
    if seen is None or not isinstance(seen.result, CallResult):
        return None
    got, problem = outputs(ev, "forward", seen)
    return None if problem else _numbers(got)


def _numbers(values: dict[str, Any]) -> dict[str, float]:
    """The observed values that are one number each, as numbers."""
    return {k: v for k, value in values.items() if (v := scalar(value)[0]) is not None}


def fed_outputs(ev: Evidence, case: Case, fed: dict[str, float] | None) -> dict[str, float] | None:
    """The forward outputs a later stage was fed, when they are the ones the same case's forward probe
    returned: the child's word alone is not believed (a forward that lies only to backward gains nothing)."""
    own = own_outputs(ev, case)
    if fed is None or own is None or any(k not in own for k in fed):
        return None
    return fed if not compare({k: own[k] for k in fed}, {k: [v] for k, v in fed.items()}, FED) else None


# ---------------------------------------------------------------- forward


def check_forward(ev: Evidence, done: Mapping[str, CheckResult]) -> CheckResult:
    if not ev.bound("forward"):
        return unbound(ev, "forward", "forward")

    def observe(case: Case, seen: Observed, values: dict[str, float], model: Mistake) -> tuple[dict, dict, str]:
        got, problem = outputs(ev, "forward", seen)
        exp = reference_values(ev, values, model)
        return {n: exp[n] for n in got if n != "error" and n in exp}, got, problem

    result = diagnosed(ev, summarize(ev, "forward", per_case(ev, "forward", "forward", "forward", observe)),
                       "forward", "forward", observe)
    init = ev.task.expect_init
    start = _own_start(ev)
    if init is not None and result.status == "pass" and start is not None:
        wrong = [n for n, v in start.items() if v != init]
        if wrong:
            result = result.model_copy(update={
                "status": "fail", "score": 0.0,
                "message": t("checks.forward.wrong_start", title=ev.task.title, names=t("common.names").join(wrong),
                             init=init)})
    return result


def _members(ev: Evidence) -> list[str]:
    """The weight each position of the program's own trace holds: a packed vector's order as its forward showed."""
    layout = ev.seen.layout
    return list(layout.order) if layout is not None and layout.order else list(ev.a.weights)


def _own_start(ev: Evidence) -> dict[str, float] | None:
    """The weights the program itself starts from: its globals when loaded, else its run's first backward()."""
    load, main = ev.seen.load, ev.seen.main
    w = ev.decision.weights
    if main is not None and main.steps:  # a notebook trains while it loads: its first backward() is the start
        first = [scalar(v)[0] for v in main.steps[0].weights]
        return {k: v for k, v in zip(_members(ev), first) if v is not None} or None
    if load is not None and w.packed is not None and w.packed in load.globals:
        got = load.globals[w.packed].numbers
        return dict(zip(ev.a.weights, got)) if got and len(got) == len(ev.a.weights) else None
    if load is not None and w.names and all(g in load.globals for g in w.names.values()):
        got_ = {k: load.globals[g].numbers for k, g in w.names.items()}
        return {k: v[0] for k, v in got_.items() if v} or None
    return None


# ---------------------------------------------------------------- loss


def check_loss(ev: Evidence, done: Mapping[str, CheckResult]) -> CheckResult:
    role = "loss" if "loss" in ev.a.roles else "forward"  # bp-numpy: the error forward returns
    if not ev.bound(role):
        return unbound(ev, "loss", role)
    if role == "forward" and "error" not in ev.decision.binding.outputs["forward"]:
        return skipped(ev, "loss", t("checks.loss.not_returned", function=ev.function("forward")))
    if role == "forward":
        seen = ev.observed("forward", ev.cases[0])
        if seen is not None and isinstance(seen.result, CallResult) and \
                len(seen.result.returned) < len(ev.decision.binding.outputs["forward"]):
            return skipped(ev, "loss", t("checks.loss.not_returned", function=ev.function("forward")))
    probe = role

    def observe(case: Case, seen: Observed, values: dict[str, float], model: Mistake) -> tuple[dict, dict, str]:
        got, problem = outputs(ev, role, seen)
        if model is REFERENCE:
            own = _numbers(got) if role == "forward" else \
                fed_outputs(ev, case, getattr(seen.result, "fed", None)) or own_outputs(ev, case)
            if own is not None and all(k in own for k in ev.a.roles["forward"].outputs[:len(ev.a.targets)]):
                return {"error": loss_of(ev.a, ev.task, values, own)}, got, problem
        return {"error": reference_values(ev, values, model)["error"]}, got, problem

    return diagnosed(ev, summarize(ev, "loss", per_case(ev, "loss", role, probe, observe)), role, probe, observe)


# ---------------------------------------------------------------- gradients


def check_gradients(ev: Evidence, done: Mapping[str, CheckResult]) -> CheckResult:
    by_hand = "backward" in ev.a.roles
    role = "backward" if by_hand else "loss"
    if not ev.bound(role) or by_hand and not ev.bound("forward"):
        return unbound(ev, "gradients", role if ev.bound("forward") or not by_hand else "forward")
    grad_names = [f"d_{n}" for n in ev.a.weights]
    upstream_right = all(done[k].status == "pass" for k in ("forward", "loss") if k in done
                         and done[k].status != "skipped")
    own_used: list[int] = []

    def observe(case: Case, seen: Observed, values: dict[str, float], model: Mistake) -> tuple[dict, dict, str]:
        result = seen.result
        if by_hand:
            got, problem = outputs(ev, "backward", seen)
            assert isinstance(result, BackwardResult)
            fed = fed_outputs(ev, case, result.fed)
            at_case = {n: reference_values(ev, values, model)[n] for n in grad_names}
            want = backward(ev.a, ev.task, values, fed, model) if fed is not None and \
                all(k in fed for k in fed_names(ev.a)) else at_case
            if max(abs(v) for v in want.values()) < FLAT:  # outputs whose backward is flat (o = 0) prove nothing
                want = at_case
        else:
            assert isinstance(result, AutogradResult)
            got, problem = {f"d_{n}": result.grads.get(n) for n in ev.a.weights}, ""
            want = {n: reference_values(ev, values, model)[n] for n in grad_names}
        slopes = _own_slopes(result.numeric)
        if model is REFERENCE and not upstream_right and slopes is not None and not compare(
                {f"d_{n}": v for n, v in slopes.items()}, got, OWN_SLOPES[ev.a.framework]):
            own_used.append(case.index)
            return {}, {}, ""  # true to its own (wrong) forward and loss: that mistake was counted there
        return want, got, problem

    verdicts = per_case(ev, "gradients", role, "gradients", observe)
    points, _ = ev.spec("gradients")
    if any(v.problem for v in verdicts):
        return summarize(ev, "gradients", verdicts)
    wrong = {m.name for v in verdicts for m in v.mismatches}
    right = [n for n in grad_names if n not in wrong]
    passed = t("checks.gradients.pass", count=len(grad_names), hidden=hidden_text(verdicts))
    if own_used:
        passed += "\n" + t("checks.gradients.own_slopes")
    result = summarize(ev, "gradients", verdicts, score=points * len(right) / len(grad_names), passed_message=passed)
    if wrong and right:
        bad = [n for n in grad_names if n in wrong]
        result.message += "\n" + t("checks.gradients.split", wrong=_span(bad), right=_span(right))
    if by_hand and result.status == "fail":
        result.message += _consistency(ev, verdicts[0])
    return diagnosed(ev, result, role, "gradients", observe)


def _own_slopes(numeric: dict[str, float] | None) -> dict[str, float] | None:
    """Central differences of the submission's own loss, when they prove anything (not flat, all finite)."""
    if not numeric or not all(math.isfinite(v) for v in numeric.values()):
        return None
    return numeric if max(abs(v) for v in numeric.values()) > FLAT else None


def _consistency(ev: Evidence, given: CaseVerdict) -> str:
    """By hand: do the gradients follow the student's own forward (its central differences)?"""
    seen = ev.observed("gradients", ev.cases[0])
    if seen is None or not isinstance(seen.result, BackwardResult):
        return ""
    got, problem = outputs(ev, "backward", seen)
    slopes = _own_slopes(seen.result.numeric)
    if problem or slopes is None:
        return ""
    if compare({f"d_{n}": v for n, v in slopes.items()}, got, OWN_SLOPES[ev.a.framework]):
        return "\n" + t("checks.gradients.not_own_slopes", function=ev.function("forward"))
    return ""


def _span(names: list[str]) -> str:
    """The names joined, each run of three or more counting up under one stem shortened: d_w1..d_w4, d_b1, d_b2."""
    runs: list[list[str]] = []
    for name in names:
        if runs and _follows(runs[-1][-1], name):
            runs[-1].append(name)
        else:
            runs.append([name])
    return t("common.names").join(f"{r[0]}..{r[-1]}" if len(r) >= 3 else t("common.names").join(r) for r in runs)


def _follows(before: str, name: str) -> bool:
    """d_w3 follows d_w2: the same stem, the next number."""
    a, b = re.fullmatch(r"(.*?)(\d+)", before), re.fullmatch(r"(.*?)(\d+)", name)
    return bool(a and b and a[1] == b[1] and int(b[2]) == int(a[2]) + 1)


# ---------------------------------------------------------------- update


def check_update(ev: Evidence, done: Mapping[str, CheckResult]) -> CheckResult:
    if not ev.bound("update"):
        return unbound(ev, "update", "update")
    is_torch = ev.a.framework == "torch"
    notes: list[str] = []
    seen_mistakes: dict[int, str] = {}  # case -> the known mistake its numbers show
    given = ev.decision.step_given()

    def observe(case: Case, seen: Observed, values: dict[str, float], _: Mistake) -> tuple[dict, dict, str]:
        assert isinstance(seen.result, UpdateResult)
        new = [scalar(w)[0] for w in seen.result.weights]
        if len(new) != len(ev.a.weights) or any(v is None for v in new):
            return {}, {}, t("checks.update.not_weights", function=ev.function("update"), count=len(ev.a.weights),
                             got=_described(seen.result.weights))
        measured = ev.measured_step(case, seen)
        step = ev.steps.get(case.index, math.nan)
        if not math.isfinite(step) or step <= 0 or (given and measured < 0):
            if measured < 0:
                seen_mistakes[case.index] = "update-sign-error"
            return {}, {}, (t("checks.update.sign_error") if measured < 0 else t("checks.update.not_a_step"))
        if not given and not case.hidden:
            notes.append(t("checks.update.own_step", function=ev.function("update"), step=step))
        want = {n: values[n] - step * g for n, g in zip(ev.a.weights, case.grads)}
        got: dict[str, Any] = {n: [v] for n, v in zip(ev.a.weights, new)}
        if is_torch:
            stale = [n for n, g in zip(ev.a.weights, seen.result.grads_after or [])
                     if g is not None and scalar(g)[0] not in (0.0, None)]
            if stale:
                if stale == ev.a.weights or stale == ev.a.weights[1:]:
                    seen_mistakes[case.index] = "gradients-never-zeroed" if stale == ev.a.weights \
                        else "gradients-zeroed-for-w1-only"
                return {}, {}, t("checks.update.not_zeroed", names=_span([f"d_{n}" for n in stale])
                                 .replace("d_", ""), function=ev.function("update"))
        return want, got, ""

    verdicts = per_case(ev, "update", "update", "update", observe)
    result = summarize(ev, "update", verdicts)
    if notes:
        result.message += t("common.paren", text=notes[0])
    shown = set(seen_mistakes.values())
    if result.status == "fail" and len(seen_mistakes) == len(verdicts) and len(shown) == 1:
        return with_diagnosis(result, sorted(shown), ev.a.framework)
    return result


def _described(values: list[Any]) -> str:
    """What an update gave back instead of numbers, value by value (the first few)."""
    parts = []
    for i, v in enumerate(values[:4]):
        number, why = scalar(v)
        parts.append(f"#{i + 1}: {number:.4g}" if number is not None else f"#{i + 1}: {why}")
    return t("common.names").join(parts) or t("compare.nothing")

