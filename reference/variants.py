"""The kinds of known mistake: each turns a reference model into the model a buggy submission computes.

A kind is parametric (scale the loss by `factor`, swap two parameters, slip in the hand
derivation, ...) and applies to every model it makes sense for; the catalogue
(`mistakes.toml`) names a kind and its parameters per mistake. A truly new behaviour needs
no new kind: `kind = "custom"` names a function `module:name` that builds its variant.
Each variant keeps the base's names and case filter and recomputes one stage; the stages
after it follow from it (a wrong forward gives a wrong loss, training runs through a wrong
update), exactly as in the submission.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .model import Model, Pass, Sample, Vector

KINDS: dict[str, Callable[..., Model]] = {}
_SHARED = ("id", "inputs", "targets", "params", "outputs", "fed", "hidden", "derivation")


def kind(name: str) -> Callable[[Callable[..., Model]], Callable[..., Model]]:
    """Register a factory `(base, **params) -> Model` under the name the catalogue uses."""

    def register(factory: Callable[..., Model]) -> Callable[..., Model]:
        KINDS[name] = factory
        return factory

    return register


class Variant(Model):
    """The base model, stage for stage, until a subclass recomputes one."""

    def __init__(self, base: Model) -> None:
        self.base = base
        for name in _SHARED:
            setattr(self, name, getattr(base, name))

    def forward(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                loss: str = "mse") -> tuple[dict[str, float], np.ndarray | None]:
        return self.base.forward(x, y, w, act, loss)

    def backward(self, x: Vector, y: Vector, w: Vector, fed: Mapping[str, float],
                 act: str = "sigmoid", loss: str = "mse", **slips: str | bool) -> np.ndarray:
        return self.base.backward(x, y, w, fed, act, loss, **slips)

    def well_conditioned(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                         loss: str = "mse") -> bool:
        return self.base.well_conditioned(x, y, w, act, loss)

    def output_range(self, act: str) -> tuple[float, float] | None:
        return self.base.output_range(act)

    def index(self, names: Sequence[str]) -> list[int]:
        unknown = [n for n in names if n not in self.params]
        if unknown:
            raise ValueError(f"{self.id} has no parameter {', '.join(unknown)}")
        return [self.params.index(n) for n in names]


@kind("scale-loss")
class ScaledLoss(Variant):
    """The loss times `factor` (½ left out, ½ twice, a loss that is always 0); autograd's gradients scale
    with it, a hand-written backward does not see the loss line and stays right."""

    def __init__(self, base: Model, *, factor: float) -> None:
        super().__init__(base)
        self.factor = float(factor)

    def forward(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                loss: str = "mse") -> tuple[dict[str, float], np.ndarray | None]:
        outputs, z = self.base.forward(x, y, w, act, loss)
        return {**outputs, "error": self.factor * outputs["error"]}, z

    def evaluate(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                 loss: str = "mse") -> Pass:
        p = super().evaluate(x, y, w, act, loss)
        return Pass(outputs=p.outputs, grad=self.factor * p.grad, z=p.z)


@kind("permute")
class Permuted(Variant):
    """The parameters numbered in another layout: each pair of `swap` trades places.

    It computes the base at W = w[perm]; its gradients are those of its own function (autograd
    does that; a hand derivation for its own layout too), the base's at W re-indexed.
    """

    def __init__(self, base: Model, *, swap: Sequence[Sequence[str]]) -> None:
        super().__init__(base)
        perm = list(range(len(self.params)))
        for a, b in (self.index(pair) for pair in swap):
            perm[a], perm[b] = perm[b], perm[a]
        self.perm = np.array(perm)
        self.inverse = np.argsort(self.perm)

    def forward(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                loss: str = "mse") -> tuple[dict[str, float], np.ndarray | None]:
        return self.base.forward(x, y, np.asarray(w, dtype=float)[self.perm], act, loss)

    def backward(self, x: Vector, y: Vector, w: Vector, fed: Mapping[str, float],
                 act: str = "sigmoid", loss: str = "mse", **slips: str | bool) -> np.ndarray:
        return self.base.backward(x, y, np.asarray(w, dtype=float)[self.perm], fed, act, loss, **slips)[self.inverse]


@kind("derivation")
class Slipped(Variant):
    """A hand-written backward with slips the base model knows (net222.Derivation); the forward is right."""

    def __init__(self, base: Model, **slips: str | bool) -> None:
        super().__init__(base)
        if base.derivation is None:
            raise ValueError(f"{base.id} has no hand derivation to slip in")
        base.derivation(**slips)  # a slip the base does not know fails here, when the catalogue loads
        self.slips = slips

    def backward(self, x: Vector, y: Vector, w: Vector, fed: Mapping[str, float],
                 act: str = "sigmoid", loss: str = "mse", **slips: str | bool) -> np.ndarray:
        return self.base.backward(x, y, w, fed, act, loss, **{**self.slips, **slips})


@kind("error-reversed")
class ReversedError(Variant):
    """A hand-written backward that starts from y − o instead of o − y: every delta, so every gradient, has
    the wrong sign (the forward, and the loss it prints, are right)."""

    def backward(self, x: Vector, y: Vector, w: Vector, fed: Mapping[str, float],
                 act: str = "sigmoid", loss: str = "mse", **slips: str | bool) -> np.ndarray:
        return -self.base.backward(x, y, w, fed, act, loss, **slips)


@kind("activation")
class OtherActivation(Variant):
    """Another activation than the task's, in every unit (forward and the derivative that follows it)."""

    def __init__(self, base: Model, *, use: str) -> None:
        super().__init__(base)
        self.use = use

    def forward(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                loss: str = "mse") -> tuple[dict[str, float], np.ndarray | None]:
        return self.base.forward(x, y, w, self.use, loss)

    def backward(self, x: Vector, y: Vector, w: Vector, fed: Mapping[str, float],
                 act: str = "sigmoid", loss: str = "mse", **slips: str | bool) -> np.ndarray:
        return self.base.backward(x, y, w, fed, self.use, loss, **slips)


@kind("ascend")
class Ascending(Variant):
    """w + step·grad: the update climbs the loss."""

    def update(self, w: Vector, grad: Vector, step: float) -> np.ndarray:
        return np.asarray(w, dtype=float) + step * np.asarray(grad, dtype=float)


@kind("update-reads")
class MisreadUpdate(Variant):
    """A copy-paste slip in the update: parameter `target` steps from `reads[target]`'s value.

    The updates run in parameter order, as the lines of a loop do, so a source updated
    earlier is read at its new value (`b.data = w1.data - lr * b.grad.data` after w1's line).
    """

    def __init__(self, base: Model, *, reads: Mapping[str, str]) -> None:
        super().__init__(base)
        self.reads = dict(zip(self.index(list(reads)), self.index(list(reads.values()))))

    def update(self, w: Vector, grad: Vector, step: float) -> np.ndarray:
        new, g = np.asarray(w, dtype=float).copy(), np.asarray(grad, dtype=float)
        for i in range(len(new)):
            new[i] = new[self.reads.get(i, i)] - step * g[i]
        return new


@kind("accumulate")
class Accumulating(Variant):
    """torch training where backward() adds into .grad and only the parameters in `zeroed` are reset."""

    def __init__(self, base: Model, *, zeroed: Sequence[str] = ()) -> None:
        super().__init__(base)
        self.zeroed = self.index(zeroed)

    def train(self, samples: Sequence[Sample], w: Vector, step: float, updates: int, act: str = "sigmoid",
              loss: str = "mse") -> tuple[list[float], np.ndarray]:
        w = np.asarray(w, dtype=float).copy()
        held = np.zeros_like(w)  # the .grad of each parameter
        losses = []
        for k in range(updates):
            x, y = samples[k % len(samples)]
            p = self.evaluate(x, y, w, act, loss)
            losses.append(p.loss)
            held = held + p.grad
            w = self.update(w, held, step)
            held[self.zeroed] = 0.0
        return losses, w


@kind("custom")
def custom(base: Model, *, function: str, **params: Any) -> Model:
    """The escape hatch: `function = "package.module:name"`, a factory `(base, **params) -> Model`."""
    module, _, name = function.partition(":")
    factory = getattr(importlib.import_module(module), name)
    return factory(base, **params)
