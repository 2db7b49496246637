"""The training check: several consecutive rounds, judged on what the stage checks did not judge already.

With an update function the grader drives the rounds through the submission's own functions
and compares each with the reference at the submission's own weights. Without one (the
lecture's loop, the list style) the program's own run is judged from its trace: before each
backward() the gradients were zeroed, every parameter is still a leaf, each update is
w - step * grad with one step, and, where forward, loss and gradients are right and the loop
walks through data the grader can read, the final weights equal the reference's run with the
program's own data, step and number of updates.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from typing import Any

from reference.mistakes import MISTAKES

from .. import plan
from ..binding.names import Keys
from ..compare import compare, scalar
from ..expected import trained
from ..feedback import CheckResult, CheckStatus
from ..i18n import t
from ..plan import Case
from ..protocol import MainFrame, Step, TrainResult
from ..spec import Tolerance
from .evidence import Evidence
from .stages import FLAT, _members, unbound
from .verdicts import (
    by_case,
    candidates,
    hidden_text,
    lost,
    mismatches,
    raised,
    reference_values,
    skipped,
    summarize,
    with_diagnosis,
)

START = Tolerance(rtol=1e-6, atol=1e-9)  # round 1 starts from the case's weights (float32 holds them to ~6e-8)


def check_training(ev: Evidence, done: Mapping[str, CheckResult]) -> CheckResult:
    if not ev.bound("update"):
        if "update" in ev.a.roles and ev.a.roles["update"].required:
            return unbound(ev, "training", "update")
        return _from_main(ev, done)
    gates = {k: done[k].status == "pass" for k in ("loss", "gradients", "update") if k in done
             and done[k].status != "skipped"}
    # compared with the reference at the student's own weights only where the model itself is right: a
    # forward (or loss) mistake was counted there, and its gradients were judged against its own slopes
    model_right = all(done[k].status in ("pass", "skipped") for k in ("forward", "loss") if k in done)
    points, _ = ev.spec("training")
    if not any(gates.values()):  # nothing right to build on
        return CheckResult(id="training", status="fail", score=0, max_score=points, hints=ev.hint("training"),
                           message=t("checks.training.all_failed"))
    torch = ev.a.framework == "torch"
    compare_loss = gates.get("loss", False) and model_right
    compare_grads = gates.get("gradients", False) and model_right and (gates.get("update", False) or not torch)

    def judge(case: Case) -> tuple[dict[str, float], dict[str, Any], str]:
        seen = ev.observed("training", case)
        if seen is None:
            return {}, {}, lost(ev.run, ev.a.limits.total_seconds)
        if seen.frame.error is not None:
            return {}, {}, raised(ev, None, seen.frame.error, case.hidden)
        values = ev.values(case, seen)
        result = seen.result
        assert isinstance(result, TrainResult)
        if values is None:
            return {}, {}, t("checks.own_weights_unreadable")
        total = plan.rounds(ev.a, case)
        if len(result.rounds) != total:
            return {}, {}, t("checks.training.stopped", done=len(result.rounds), total=total)
        step = ev.steps.get(case.index, case.values["step"])
        nexts = [r.weights for r in result.rounds[1:]] + [result.final]
        evidence = 0
        for k, (r, nxt) in enumerate(zip(result.rounds, nexts), start=1):
            w = [v for v in (scalar(x)[0] for x in r.weights) if v is not None]
            if len(w) != len(ev.a.weights):
                return {}, {}, t("checks.training.not_numbers", round=k, count=len(ev.a.weights))
            if k == 1 and compare({n: values[n] for n in ev.a.weights}, dict(zip(ev.a.weights, r.weights)),
                                  START):
                return {}, {}, t("checks.training.wrong_start")
            state = {**values, **dict(zip(ev.a.weights, w))}  # the student's own weights
            exp = reference_values(ev, state)
            flat = max(abs(exp[f"d_{n}"]) for n in ev.a.weights) < FLAT
            evidence += not flat
            want: dict[str, float] = {}
            got: dict[str, Any] = {}
            if compare_loss and not flat:
                want["error"], got["error"] = exp["error"], r.loss
            if compare_grads and not flat:
                want.update({f"d_{n}": exp[f"d_{n}"] for n in ev.a.weights})
                got.update({f"d_{n}": g for n, g in zip(ev.a.weights, r.grads)})
            if gates.get("update"):
                g = [scalar(v)[0] for v in r.grads]
                if len(g) == len(w) and all(v is not None for v in g):
                    after = [t("checks.training.after", name=n) for n in ev.a.weights]
                    want.update({name: wv - step * gv for name, wv, gv in zip(after, w, g)})  # type: ignore[operator]
                    got.update(dict(zip(after, nxt)))
            mism = compare(want, got, ev.spec("training")[1])
            if mism:
                return {}, {}, t("checks.training.round", round=k, detail=mismatches(mism))
        if not evidence:
            return {}, {}, t("checks.training.flat")
        return {}, {}, ""

    verdicts = by_case(ev, "training", judge)
    judged = t("common.names").join(k for k, ok in (("loss", compare_loss), ("gradients", compare_grads),
                                                      ("update", gates.get("update", False))) if ok)
    result = summarize(ev, "training", verdicts, passed_message=t(
        "checks.training.pass", rounds=plan.rounds(ev.a, ev.cases[0]), hidden_rounds=ev.a.training.rounds,
        judged=judged, hidden=hidden_text(verdicts)))
    if result.status == "fail" and "update" in done:  # gradients piling up show across rounds
        return with_diagnosis(result, [i for i in done["update"].diagnosis if MISTAKES[i].check == "training"],
                              ev.a.framework)
    return result


# ---------------------------------------------------------------- the program's own loop


def _from_main(ev: Evidence, done: Mapping[str, CheckResult]) -> CheckResult:
    points, tol = ev.spec("training")
    hints = ev.hint("training")

    def verdict(status: CheckStatus, message: str, ids: list[str] | None = None) -> CheckResult:
        result = CheckResult(id="training", status=status, score=points if status == "pass" else 0.0,
                             max_score=points, hints=hints, message=message)
        return with_diagnosis(result, ids or [], ev.a.framework)

    main = ev.seen.main
    if main is None:
        return verdict("error", lost(ev.run, ev.a.limits.main_seconds))
    if main.backward_calls == 0:
        if main.error is not None:
            return verdict("error", t("checks.training.loop_unfinished"))
        return skipped(ev, "training", t("checks.training.no_loop"))
    members = _members(ev)
    steps = main.steps
    if not steps or not steps[0].weights or len(steps[0].weights) != len(members):
        return skipped(ev, "training", t("checks.training.no_weights"))
    step, how = _step(ev, main)
    hints = ev.hint("training", step)  # its own step, not the homework's: `w.data -= 0.05 * ...`
    problem, ids = _mechanics(ev, main, members, step)
    settings = _settings(ev, main, step, how)
    if problem:  # an error where the loop also crashed (the problem is why, as far as the trace shows)
        return verdict("error" if main.error else "fail", t("checks.training.loop_failed", what=settings,
                                                             detail=problem), ids)
    if main.error is not None:
        return verdict("error", t("checks.training.loop_unfinished"))
    upstream = all(done[k].status in ("pass", "skipped") for k in ("forward", "loss", "gradients") if k in done)
    data = _data(ev, main)
    if not upstream or data is None:
        why = t("checks.training.mechanics_only_upstream") if not upstream else t("checks.training.mechanics_only")
        return verdict("pass", t("checks.training.loop_mechanics", what=settings, why=why))
    start = _ordered(members, [scalar(v)[0] for v in steps[0].weights])
    final = dict(zip(members, main.final))
    case = {**ev.cases[0].values, **data[1]}
    samples = [([x], [y]) for x, y in zip(*data[0])] if data[0] is not None else None
    want = trained(ev.a, ev.task, case, [start[n] for n in ev.a.weights], step, main.backward_calls, data=samples)
    mism = compare(dict(zip(ev.a.weights, want)), final, tol)
    if mism:
        ids = [m.id for m in candidates(ev) if not compare(dict(zip(ev.a.weights, trained(
            ev.a, ev.task, case, [start[n] for n in ev.a.weights], step, main.backward_calls, m, samples))),
            final, tol)]
        return verdict("fail", t("checks.training.loop_failed", what=settings, detail=mismatches(mism)), ids)
    return verdict("pass", t("checks.training.loop_pass", what=settings))


def _ordered(members: list[str], values: list[float | None]) -> dict[str, float]:
    return {m: v for m, v in zip(members, values) if v is not None}


def _step(ev: Evidence, main: MainFrame) -> tuple[float, str]:
    """The step the loop uses: the number in its update, the global it multiplies by, else measured."""
    for s in ev.decision.steps:
        if isinstance(s, float):
            return s, "code"
        value = main.globals.get(s)
        if value is not None and value.numbers and len(value.numbers) == 1:
            return value.numbers[0], s
    if len(main.steps) >= 2:
        w0 = [scalar(v)[0] for v in main.steps[0].weights]
        w1 = [scalar(v)[0] for v in main.steps[1].weights]
        g0 = [scalar(v)[0] for v in main.steps[0].grads_after]
        ratios = [(a - b) / g for a, b, g in zip(w0, w1, g0) if None not in (a, b, g) and g]  # type: ignore[operator]
        if ratios:
            return statistics.median(ratios), "measured"
    return ev.a.given.step, "assignment"


def _mechanics(ev: Evidence, main: MainFrame, members: list[str], step: float) -> tuple[str, list[str]]:
    """What is wrong with the loop's own steps, and the known mistake it is (empty when nothing is).

    An update that rebinds a weight from its own gradient (`w = w - lr * w.grad`) makes a new tensor:
    whatever the trace shows then (a non-leaf, weights that never move, gradients piling up on the
    tensor the program still holds), that is the cause to name."""
    _, tol = ev.spec("training")
    held = {*ev.decision.weights.names.values(), ev.decision.weights.packed}
    rebinding = any(u.rebinds and u.target in held for u in ev.facts.updates)
    problem, ids = _traced(ev, main, members, step, tol)
    if problem and rebinding:
        return t("checks.training.not_leaf", round=1), _ids(ev, "non-leaf")
    return problem, ids


def _traced(ev: Evidence, main: MainFrame, members: list[str], step: float, tol: Tolerance) -> tuple[str, list[str]]:
    if step == 0:
        return t("checks.training.unchanged"), []
    if step < 0:
        return t("checks.update.sign_error"), ["update-sign-error"]
    steps: list[Step] = list(main.steps)
    for k in range(1, len(steps)):
        before, now = steps[k - 1], steps[k]
        if not now.leaf:
            return t("checks.training.not_leaf", round=k), _ids(ev, "non-leaf")
        piled = [m for m, g in zip(members, now.grads_before) if scalar(g)[0] not in (None, 0.0)]
        if piled:
            return t("checks.training.not_zeroed", round=k + 1, names=t("common.names").join(piled)), \
                _ids(ev, "never-zeroed")
        w, g, nxt = ([scalar(v)[0] for v in x] for x in (before.weights, before.grads_after, now.weights))
        if None in w or None in g or None in nxt:
            return t("checks.training.not_numbers", round=k, count=len(members)), []
        want = {m: wv - step * gv for m, wv, gv in zip(members, w, g)}  # type: ignore[operator]
        mism = compare(want, dict(zip(members, now.weights)), tol)
        if mism:
            return t("checks.training.round_update", round=k, detail=mismatches(mism)), _ids(ev, "update")
    return "", []


def _ids(ev: Evidence, kind: str) -> list[str]:
    """The catalogue's mistakes of the lecture's loop that this kind of trace problem is."""
    return sorted(m.id for m in candidates(ev) if m.check == "training" and kind in m.id)


def _data(ev: Evidence, main: MainFrame) -> tuple[tuple[list[float], list[float]] | None, dict[str, float]] | None:
    """The data the loop walked through, as the program holds it: the lecture's lists, or the 2-2-2 net's
    own inputs and targets. None when the loop's data cannot be read (the final weights are then not compared)."""
    g = main.globals
    if ev.a.model != "net222":
        names = ev.decision.data
        if not ev.decision.per_sample or len(names) != 2 or any(n not in g or not g[n].numbers for n in names):
            return None
        xs, ys = (list(g[n].numbers or []) for n in names)
        return ((xs, ys), {}) if len(xs) == len(ys) > 0 else None
    own: dict[str, float] = {}
    k = Keys(ev.a)
    for name, kind in g.items():
        key = k.key(name)
        if key in ev.a.inputs + ev.a.targets and kind.numbers and len(kind.numbers) == 1:
            own[key] = kind.numbers[0]
        elif key in k.packs and kind.numbers and len(kind.numbers) == len(k.packs[key]):
            own.update(zip(k.packs[key], kind.numbers))
    return (None, own) if all(n in own for n in ev.a.inputs + ev.a.targets) else None


def _settings(ev: Evidence, main: MainFrame, step: float, how: str) -> str:
    n = main.backward_calls
    data = _data(ev, main)
    if data is not None and data[0] is not None:
        xs, ys = data[0]
        epochs = n // len(xs) if n % len(xs) == 0 else None
        shown = t("checks.training.data", x=_list(xs), y=_list(ys))
        if epochs is not None:
            return t("checks.training.settings_epochs", count=n, epochs=epochs, samples=len(xs), step=step,
                     data=shown)
        return t("checks.training.settings_data", count=n, step=step, data=shown)
    return t("checks.training.settings", count=n, step=step)


def _list(values: list[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in values[:8]) + (", …" if len(values) > 8 else "") + "]"

