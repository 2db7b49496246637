"""What every reference model tells the grader: its names, one pass, a hand-written backward, training.

A model is one object (registered in `models.py` under the `model = "..."` of an assignment file).
The grader asks it for names instead of spelling them: the named outputs a forward pass returns
(`out_o1`, …, `error`), the forward outputs a hand-written backward is fed, its parameters in the
order the assignment lists them as `weights`, and its hidden units with the parameters that go in
and out of each (the dead-ReLU and symmetry notes). A known mistake (`variants.py`) is a model too:
the reference with one stage computed the wrong way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

Vector = Sequence[float] | np.ndarray  # inputs, targets, parameters, gradients: in the model's order
Sample = tuple[Vector, Vector]  # (inputs, targets)


@dataclass(frozen=True)
class Pass:
    """Everything one forward and backward pass computes."""

    outputs: dict[str, float]  # by the model's output names, the loss as "error"
    grad: np.ndarray  # dE/dparam, in the model's parameter order
    z: np.ndarray | None = None  # pre-activations, where the model has any

    @property
    def loss(self) -> float:
        return self.outputs["error"]


@dataclass(frozen=True)
class Unit:
    """A unit and its parameters: in its pre-activation (`incoming`) and leaving it (`outgoing`).

    Two units' lists correspond position by position (h1's weight from x1 beside h2's), so equal
    starting weights keep equal units equal; a dead unit's parameters all get a zero gradient.
    """

    name: str
    incoming: tuple[str, ...]
    outgoing: tuple[str, ...]

    @property
    def params(self) -> tuple[str, ...]:
        return self.incoming + self.outgoing


class Model:
    """The reference: float64 numpy, gradients derived by hand. Subclasses give `forward` and `backward`."""

    id: str
    inputs: tuple[str, ...]
    targets: tuple[str, ...]
    params: tuple[str, ...]
    outputs: tuple[str, ...]  # named outputs of `forward`, "error" (the loss) among them
    fed: tuple[str, ...]  # the forward outputs a hand-written backward takes
    hidden: tuple[Unit, ...] = ()
    output_units: tuple[Unit, ...] = ()  # the units the outputs come from (their `outgoing` is empty)
    derivation: Callable[..., Any] | None = None  # what `backward`'s slips may be: the ways a hand derivation errs

    def forward(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                loss: str = "mse") -> tuple[dict[str, float], np.ndarray | None]:
        """The named outputs and the pre-activations (None for a model without any)."""
        raise NotImplementedError

    def backward(self, x: Vector, y: Vector, w: Vector, fed: Mapping[str, float],
                 act: str = "sigmoid", loss: str = "mse", **slips: str | bool) -> np.ndarray:
        """dE/dparam from forward outputs `fed`, whoever computed them; `slips` derive it a known wrong way."""
        raise NotImplementedError

    def loss(self, outputs: Mapping[str, float], y: Vector, loss: str = "mse") -> float:
        """The loss of forward outputs someone computed (a student's own), against targets y."""
        raise NotImplementedError

    def evaluate(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                 loss: str = "mse") -> Pass:
        """Forward, then the backward fed with this very forward's outputs."""
        outputs, z = self.forward(x, y, w, act, loss)
        return Pass(outputs=outputs, grad=self.backward(x, y, w, outputs, act, loss), z=z)

    def update(self, w: Vector, grad: Vector, step: float) -> np.ndarray:
        """One step of gradient descent."""
        return np.asarray(w, dtype=float) - step * np.asarray(grad, dtype=float)

    def train(self, samples: Sequence[Sample], w: Vector, step: float, updates: int, act: str = "sigmoid",
              loss: str = "mse") -> tuple[list[float], np.ndarray]:
        """Per-sample SGD cycling through `samples` in order: the loss before each update, and the final weights."""
        w = np.asarray(w, dtype=float).copy()
        losses = []
        for k in range(updates):
            x, y = samples[k % len(samples)]
            p = self.evaluate(x, y, w, act, loss)
            losses.append(p.loss)
            w = self.update(w, p.grad, step)
        return losses, w

    def well_conditioned(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                         loss: str = "mse") -> bool:
        """Whether a random case may be a hidden case (not on a kink, not saturated to nothing)."""
        return True

    def output_range(self, act: str) -> tuple[float, float] | None:
        """The open interval the outputs cannot leave, if the output activation bounds them."""
        return None
