"""The cases (the homework's own and the hidden ones) and the probes the child must run.

A probe names a role, a kind of call and a case; it carries inputs only, never an expected
value of a hidden case, so nothing the child can read tells it the answer. Which probes run
depends on the binding: a style without an update function has no update or training probe.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .binding import Decision
from .expected import well_conditioned
from .protocol import Probe
from .spec import Assignment, Task


@dataclass(frozen=True)
class Case:
    index: int  # 0 is the homework's given case
    values: dict[str, float]  # inputs, targets, weights by name, and step
    grads: tuple[float, ...]  # what the update probe pretends the gradients are
    own_weights: bool = False  # start from the submission's own initial weights

    @property
    def hidden(self) -> bool:
        return self.index > 0

    @property
    def label(self) -> str:
        return f"hidden case {self.index}" if self.hidden else "the given case"


def cases(a: Assignment, task: Task, seed: int) -> list[Case]:
    """The given case (its update gradients drawn from the assignment's public seed: its messages are the same for
    every file) and `count` hidden cases drawn from `seed`."""
    public = np.random.default_rng(a.hidden.seed)
    rng = np.random.default_rng(seed)
    g = a.given
    start = [task.expect_init] * len(a.weights) if task.expect_init is not None else g.weights  # zero-init: 0
    given = {**dict(zip(a.inputs, g.inputs)), **dict(zip(a.targets, g.targets)),
             **dict(zip(a.weights, start)), "step": g.step}
    own = task.init == "submission" and task.expect_init is None  # random-init: from the submission's own start
    out = [Case(0, given, _grads(public, len(a.weights)), own_weights=own)]
    h = a.hidden
    for _ in range(1000 * h.count):
        if len(out) > h.count:
            return out
        values = {**{n: float(rng.uniform(*h.inputs)) for n in a.inputs},
                  **{n: float(rng.uniform(*h.targets)) for n in a.targets},
                  **{n: float(rng.uniform(*h.weights)) for n in a.weights},
                  "step": float(rng.uniform(*h.step))}
        if well_conditioned(a, task, values):
            out.append(Case(len(out), values, _grads(rng, len(a.weights))))
    raise ValueError(f"{a.id}: no {h.count} hidden cases pass the filter in {1000 * h.count} draws; "
                     "widen the [hidden] ranges")


def _grads(rng: np.random.Generator, n: int) -> tuple[float, ...]:
    """Gradients of mixed sign away from 0, so the step of an update can be measured."""
    return tuple(float(v) for v in rng.choice([-1.0, 1.0], n) * rng.uniform(0.1, 1.0, n))


def probes(a: Assignment, all_cases: list[Case], decision: Decision) -> list[Probe]:
    """Every call the grader makes of the submission, case by case, for the roles it could bind."""
    bound = decision.bound
    by_hand = "backward" in a.roles
    trains = bound("update") and (bound("forward") and bound("backward") if by_hand else bound("loss"))
    out: list[Probe] = []
    for c in all_cases:
        if bound("forward"):
            out.append(Probe(f"forward/{c.index}", "call", "forward", c.values, c.own_weights))
        if trains:
            out.append(Probe(f"training/{c.index}", "train", "update", c.values, c.own_weights, rounds=rounds(a, c)))
        if by_hand:
            # backward is fed the submission's own forward outputs and judged against the reference's
            # backward of those same outputs: one bug, one failure, and no hidden answer in the child
            if bound("backward") and bound("forward"):
                out.append(Probe(f"gradients/{c.index}", "backward", "backward", c.values, c.own_weights,
                                 numeric=True))
        elif bound("loss"):
            # training's first round calls loss on this very case: the loss probe reuses what it observed
            reuse = f"training/{c.index}" if trains else ""
            out.append(Probe(f"loss/{c.index}", "call", "loss", c.values, c.own_weights, reuse=reuse))
            out.append(Probe(f"gradients/{c.index}", "autograd", "loss", c.values, c.own_weights, numeric=True))
        if bound("update"):
            out.append(Probe(f"update/{c.index}", "update", "update", c.values, c.own_weights, grads=list(c.grads)))
    return out


def rounds(a: Assignment, case: Case) -> int:
    """Training rounds probed on a case: a longer run on the given case gives the loss curve."""
    return a.training.rounds if case.hidden else max(a.training.rounds, a.training.curve)


def job(a: Assignment, source: str, filename: str) -> dict[str, object]:
    """Line 1 of the child's job (the sandbox adds its own settings, see protocol.Job): the child loads the
    file and reports what it defines before any probe is planned."""
    lim = a.limits
    return {"source": source, "filename": filename, "framework": a.framework,
            "limits": {"main_seconds": lim.main_seconds, "probe_seconds": lim.probe_seconds,
                       "total_seconds": lim.total_seconds},
            "forbidden_modules": a.forbidden_modules}
