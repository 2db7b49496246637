"""The cases (the homework's own and the hidden ones) and the probes the child must run.

A probe names a role, a kind of call and a case; it carries inputs only, never an
expected value of a hidden case, so nothing the child can read tells it the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .expected import expected, well_conditioned
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


def cases(a: Assignment, task: Task, seed: int | None = None) -> list[Case]:
    rng = np.random.default_rng(a.hidden.seed if seed is None else seed)
    g = a.given
    given = {**dict(zip(a.inputs, g.inputs)), **dict(zip(a.targets, g.targets)),
             **dict(zip(a.weights, g.weights)), "step": g.step}
    out = [Case(0, given, _grads(rng, len(a.weights)), own_weights=task.init == "submission")]
    h = a.hidden
    while len(out) <= h.count:
        values = {**{n: float(rng.uniform(*h.inputs)) for n in a.inputs},
                  **{n: float(rng.uniform(*h.targets)) for n in a.targets},
                  **{n: float(rng.uniform(*h.weights)) for n in a.weights},
                  "step": float(rng.uniform(*h.step))}
        if well_conditioned(a, task, values):
            out.append(Case(len(out), values, _grads(rng, len(a.weights))))
    return out


def _grads(rng: np.random.Generator, n: int) -> tuple[float, ...]:
    """Gradients of mixed sign away from 0, so the step of an update can be measured."""
    return tuple(float(v) for v in rng.choice([-1.0, 1.0], n) * rng.uniform(0.1, 1.0, n))


def probes(a: Assignment, task: Task, all_cases: list[Case], has_update: bool) -> list[dict[str, Any]]:
    numpy_style = "backward" in a.roles
    out: list[dict[str, Any]] = []
    for c in all_cases:
        base = {"case": c.values, "own_weights": c.own_weights}
        out.append({"id": f"forward/{c.index}", "kind": "call", "role": "forward", **base})
        if has_update:
            out.append({"id": f"training/{c.index}", "kind": "train", "rounds": rounds(a, c), **base})
        if numpy_style:
            # backward is fed the submission's own forward outputs and judged against the reference's
            # backward of those same outputs: one bug, one failure, and no hidden answer in the child.
            # Only the given case (public: the homework prints it) has the reference's as a fallback.
            fallback = {} if c.hidden else {k: v for k, v in expected(a, task, c.values).items()
                                            if k in a.roles["forward"].outputs}
            out.append({"id": f"gradients/{c.index}", "kind": "backward", "role": "backward", "fallback": fallback,
                        **base})
        else:
            # training's first round calls loss and backward on this very case: these two probes reuse
            # what it observed (same call, same numbers; one loss call and one backward fewer each)
            reuse = {"reuse": f"training/{c.index}"} if has_update else {}
            out.append({"id": f"loss/{c.index}", "kind": "call", "role": "loss", **reuse, **base})
            out.append({"id": f"gradients/{c.index}", "kind": "autograd", "role": "loss", **reuse, **base})
        if has_update:
            out.append({"id": f"update/{c.index}", "kind": "update", "role": "update", "grads": list(c.grads),
                        **base})
    return out


def rounds(a: Assignment, case: Case) -> int:
    """Training rounds probed on a case: a longer run on the given case gives the loss curve."""
    return a.training.rounds if case.hidden else max(a.training.rounds, a.training.curve)


def job(a: Assignment, source: str, filename: str, probe_list: list[dict[str, Any]]) -> dict[str, Any]:
    """Everything the harness needs, as plain JSON: it runs the probes, then the program's `__main__`."""
    return {
        "source": source,
        "filename": filename,
        "framework": a.framework,
        "names": {"inputs": a.inputs, "targets": a.targets, "weights": a.weights},
        "lists": a.lists,
        "inject_as": a.inject_as,
        "aliases": a.aliases,
        "roles": {k: r.model_dump() for k, r in a.roles.items()},
        "step_names": a.training.step_names,
        "forbidden_modules": a.forbidden_modules,
        "limits": a.limits.model_dump(),
        "probes": probe_list,
    }
