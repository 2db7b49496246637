"""What the numbers teach beyond the verdict: notes and the loss curve, read from the evidence.

The seeds keep asking why the loss stops above 0, why a ReLU unit stops learning, why zero
initialisation keeps hidden units equal, and whether the step is too large; these notes
answer from the submission's own numbers. Nothing here changes a score.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from reference.models import MODELS

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
    if bounds := MODELS[a.model].output_range(task.activation):
        outside = [f"{n} = {v:g}" for n, v in zip(a.targets, a.given.targets) if not bounds[0] < v < bounds[1]]
        if outside:
            out.append(t("insights.unreachable", targets=t("common.names").join(outside)))
    mechanics_right = all(results[k].status == "pass" for k in ("gradients", "update") if k in results)
    c = curve(ev) if mechanics_right else None  # with wrong mechanics a rising loss says nothing about the step
    if c and (rise := next((k for k in range(1, len(c.student)) if c.student[k] > c.student[k - 1] * (1 + 1e-9)),
                           None)):
        out.append(t("insights.step_too_large", round=rise, next=rise + 1, before=c.student[rise - 1],
                     after=c.student[rise], step=c.step))
    return out + _dead_units(ev) + _symmetric(ev)


def _symmetric(ev: Evidence) -> list[str]:
    """Equal starting weights: did every hidden unit keep the first one's incoming weights after training?"""
    hidden = MODELS[ev.a.model].hidden
    result = _training(ev)
    final = [scalar(v)[0] for v in result.final] if result is not None else []
    if ev.task.expect_init is None or len(hidden) < 2 or len(final) != len(ev.a.weights):
        return []
    w = dict(zip(ev.a.weights, final))
    pairs = [(n, m) for u in hidden[1:] for n, m in zip(hidden[0].incoming, u.incoming)]
    if any(w[n] != w[m] for n, m in pairs):
        return []
    return [t("insights.symmetry", units=t("common.names").join(u.name for u in hidden),
              equal=t("common.names").join(f"{n} = {m}" for n, m in pairs))]


def _training(ev: Evidence) -> TrainResult | None:
    seen = ev.observed("training", ev.cases[0])
    return seen.result if seen is not None and isinstance(seen.result, TrainResult) else None


def _dead_units(ev: Evidence) -> list[str]:
    """ReLU units, hidden or output, whose every weight gets a zero gradient on the given case: they have stopped
    learning (the homework's own case kills o2: its input is negative)."""
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
    model = MODELS[ev.a.model]
    dead = [u for u in (*model.hidden, *model.output_units) if all(grads.get(f"d_{n}") == 0.0 for n in u.params)]
    return [t("insights.dead_relu", unit=u.name, weights=t("common.names").join(u.params)) for u in dead]


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
