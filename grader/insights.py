"""What the numbers teach beyond the verdict: notes and the loss curve, read from the evidence.

The seeds keep asking why the loss stops above 0, why a ReLU unit stops learning, why zero
initialisation keeps hidden units equal, and whether the step is too large; these notes
answer from the submission's own numbers. Nothing here changes a score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .checks import Evidence
from .checks.stages import outputs
from .compare import scalar
from .expected import losses
from .feedback import CheckResult, Curve
from .i18n import t
from .protocol import AutogradResult, BackwardResult, TrainResult


def insights(ev: Evidence, results: Mapping[str, CheckResult]) -> list[str]:
    """What the numbers teach whatever the verdict: the questions the seeds keep asking."""
    a, task = ev.a, ev.task
    out = []
    if a.model == "net222" and task.activation == "sigmoid":
        outside = [f"{n} = {v:g}" for n, v in zip(a.targets, a.given.targets) if not 0 < v < 1]
        if outside:
            out.append(t("insights.unreachable", targets=t("common.names").join(outside)))
    mechanics_right = all(results[k].status == "pass" for k in ("gradients", "update") if k in results)
    c = curve(ev) if mechanics_right else None  # with wrong mechanics a rising loss says nothing about the step
    if c and (rise := next((k for k in range(1, len(c.student)) if c.student[k] > c.student[k - 1] * (1 + 1e-9)),
                           None)):
        out.append(t("insights.step_too_large", round=rise, next=rise + 1, before=c.student[rise - 1],
                     after=c.student[rise], step=c.step))
    if a.model == "net222":
        out.extend(_dead_units(ev))
        if task.expect_init is not None:
            final = [scalar(v)[0] for v in _training(ev).final] if _training(ev) else []
            if len(final) == len(a.weights) and final[0] == final[1] and final[2] == final[3]:
                out.append(t("insights.symmetry"))
    return out


def _training(ev: Evidence) -> TrainResult | None:
    seen = ev.observed("training", ev.cases[0])
    return seen.result if seen is not None and isinstance(seen.result, TrainResult) else None


def _dead_units(ev: Evidence) -> list[str]:
    """ReLU units whose every weight gets a zero gradient on the given case: they have stopped learning."""
    if ev.task.activation != "relu":
        return []
    seen = ev.observed("gradients", ev.cases[0])
    if seen is None:
        return []
    if isinstance(seen.result, AutogradResult):
        grads = {f"d_{n}": scalar(v)[0] for n, v in seen.result.grads.items()}
    elif isinstance(seen.result, BackwardResult):
        got, _ = outputs(ev, "backward", seen)
        grads = {n: scalar(v)[0] for n, v in got.items()}
    else:
        return []
    units = {"h1": ["d_w1", "d_w3", "d_w5", "d_w6"], "h2": ["d_w2", "d_w4", "d_w7", "d_w8"]}
    dead = [u for u, names in units.items() if all(grads.get(n) == 0.0 for n in names)]
    return [t("insights.dead_relu", unit=u, weights=t("common.names").join(n[2:] for n in units[u])) for u in dead]


def curve(ev: Evidence) -> Curve | None:
    """The given case's training loss, round by round: the submission's, and the reference's from the same start
    at the step its update takes (the homework's, where that step is no step: a sign error must show)."""
    result = _training(ev)
    if result is None or not result.rounds:
        return None
    student = [scalar(r.loss)[0] for r in result.rounds]
    start = [scalar(v)[0] for v in result.rounds[0].weights]
    step = ev.steps.get(0, ev.cases[0].values["step"])
    if not math.isfinite(step) or step <= 0:
        step = ev.cases[0].values["step"]
    if any(v is None or not math.isfinite(v) for v in student) or len(start) != len(ev.a.weights) \
            or any(v is None for v in start):
        return None
    reference = losses(ev.a, ev.task, ev.cases[0].values, start, step, len(result.rounds))  # type: ignore[arg-type]
    return Curve(student=student, reference=reference, step=step)  # type: ignore[arg-type]
