"""The 2-2-2 network of homework 2 and 3, with gradients derived by hand.

Weights are a length-8 vector w1..w8 (index 0..7); h1 = act(w1*x1 + w3*x2),
h2 = act(w2*x1 + w4*x2), o1 = act(w5*h1 + w7*h2), o2 = act(w6*h1 + w8*h2).
The wiring is written once, in `HIDDEN_IN` and `OUTPUT_IN`: a variant of the network
(one with biases) overrides the pre-activations and the gradients it adds, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .model import Model, Unit, Vector

ACTIVATIONS = ("sigmoid", "relu")
LOSSES = ("mse", "mse-mean", "cross-entropy")
# the weight (index) from each input into each hidden unit, and from each hidden unit into each output
HIDDEN_IN = ((0, 2), (1, 3))  # h1 = act(w1*x1 + w3*x2), h2 = act(w2*x1 + w4*x2)
OUTPUT_IN = ((4, 6), (5, 7))  # o1 = act(w5*h1 + w7*h2), o2 = act(w6*h1 + w8*h2)


def act_of(z: np.ndarray, kind: str) -> np.ndarray:
    if kind == "sigmoid":
        with np.errstate(over="ignore"):  # exp(-z) = inf for z << 0 gives the right 0.0
            return 1.0 / (1.0 + np.exp(-z))
    if kind == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(f"unknown activation {kind!r}")


def slope(a: np.ndarray, kind: str) -> np.ndarray:
    """d act / d z from the output a alone (a > 0 exactly when z > 0; torch's relu'(0) = 0)."""
    if kind == "sigmoid":
        return a * (1.0 - a)
    return (a > 0).astype(float)


def loss_of(o: np.ndarray, y: np.ndarray, kind: str) -> tuple[float, np.ndarray]:
    """The loss and dE/do.

    `mse` is 1/2 sum (o - y)^2; `mse-mean` is torch.nn.MSELoss over the two outputs,
    mean (o - y)^2, the same number; `cross-entropy` is torch.nn.CrossEntropyLoss with
    the targets as class probabilities: -sum y_j log softmax(o)_j.
    """
    if kind in ("mse", "mse-mean"):
        return float(0.5 * np.sum((o - y) ** 2)), o - y
    if kind == "cross-entropy":
        shifted = o - o.max()
        log_softmax = shifted - np.log(np.exp(shifted).sum())
        return float(-(y * log_softmax).sum()), np.exp(log_softmax) * y.sum() - y
    raise ValueError(f"unknown loss {kind!r}")


@dataclass(frozen=True)
class Derivation:
    """How a hand-written backward goes; the defaults are right, every other choice is one known mistake."""

    output_slope: str = "output"  # what multiplies (o - y) in an output delta: o(1-o), h(1-h) by mistake, or "none"
    hidden_signal: str = "deltas"  # what reaches a hidden unit: sum delta_o*w, "gradients" (sum of the output
    # gradients, d_w5 + d_w6, as in seed 000) or "errors" (sum (o - y)*w, the output slope left out)
    hidden_slope: bool = True  # the hidden unit's own slope h(1-h)

    def __post_init__(self) -> None:
        if self.output_slope not in ("output", "hidden", "none") or \
                self.hidden_signal not in ("deltas", "gradients", "errors"):
            raise ValueError(f"unknown derivation {self}")


class Net222(Model):
    """The homework's network, no biases."""

    id = "net222"
    inputs = ("x1", "x2")
    targets = ("y1", "y2")
    params: tuple[str, ...] = ("w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8")
    outputs = ("out_o1", "out_o2", "out_h1", "out_h2", "error")
    fed = ("out_o1", "out_o2", "out_h1", "out_h2")
    derivation = Derivation
    hidden = tuple(Unit(f"h{j + 1}", tuple(f"w{i + 1}" for i in HIDDEN_IN[j]),
                        tuple(f"w{OUTPUT_IN[k][j] + 1}" for k in range(2))) for j in range(2))
    output_units = tuple(Unit(f"o{j + 1}", tuple(f"w{i + 1}" for i in OUTPUT_IN[j]), ()) for j in range(2))

    def hidden_in(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.array([w[i] * x[0] + w[j] * x[1] for i, j in HIDDEN_IN])

    def output_in(self, h: np.ndarray, w: np.ndarray) -> np.ndarray:
        return np.array([w[i] * h[0] + w[j] * h[1] for i, j in OUTPUT_IN])

    def gradients(self, x: np.ndarray, h: np.ndarray, delta_h: np.ndarray, delta_o: np.ndarray) -> np.ndarray:
        """dE/dparam from the deltas: each weight's delta times what enters it."""
        grad = np.zeros(len(self.params))
        for j, into in enumerate(HIDDEN_IN):
            for i, k in enumerate(into):
                grad[k] = delta_h[j] * x[i]
        for j, into in enumerate(OUTPUT_IN):
            for i, k in enumerate(into):
                grad[k] = delta_o[j] * h[i]
        return grad

    def forward(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                loss: str = "mse") -> tuple[dict[str, float], np.ndarray]:
        x, y, w = (np.asarray(v, dtype=float) for v in (x, y, w))
        z_h = self.hidden_in(x, w)
        h = act_of(z_h, act)
        z_o = self.output_in(h, w)
        o = act_of(z_o, act)
        e, _ = loss_of(o, y, loss)
        outputs = {"out_o1": o[0], "out_o2": o[1], "out_h1": h[0], "out_h2": h[1], "error": e}
        return {k: float(v) for k, v in outputs.items()}, np.concatenate([z_h, z_o])

    def loss(self, outputs: Mapping[str, float], y: Vector, loss: str = "mse") -> float:
        return loss_of(np.array([outputs["out_o1"], outputs["out_o2"]]), np.asarray(y, dtype=float), loss)[0]

    def backward(self, x: Vector, y: Vector, w: Vector, fed: Mapping[str, float],
                 act: str = "sigmoid", loss: str = "mse", **slips: str | bool) -> np.ndarray:
        """dE/dparam from the outputs `fed`, as the template's back_propagate derives it (`slips`: a `Derivation`)."""
        how = Derivation(**slips)  # type: ignore[arg-type]
        x, y, w = (np.asarray(v, dtype=float) for v in (x, y, w))
        h = np.array([fed["out_h1"], fed["out_h2"]])
        o = np.array([fed["out_o1"], fed["out_o2"]])
        _, de_do = loss_of(o, y, loss)
        delta_o = de_do * {"output": slope(o, act), "hidden": slope(h, act), "none": 1.0}[how.output_slope]
        # each hidden unit collects, through the weight leaving it towards each output, that output's delta
        through = {"deltas": delta_o, "errors": de_do}.get(how.hidden_signal)
        if through is None:  # seed 000: d_w5 + d_w6 = (delta_o1 + delta_o2) * h1
            signal = (delta_o[0] + delta_o[1]) * h
        else:
            signal = np.array([through[0] * w[OUTPUT_IN[0][j]] + through[1] * w[OUTPUT_IN[1][j]] for j in range(2)])
        delta_h = signal * (slope(h, act) if how.hidden_slope else 1.0)
        return self.gradients(x, h, delta_h, delta_o)

    def well_conditioned(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                         loss: str = "mse") -> bool:
        """Off every ReLU kink and not saturating the sigmoid to nothing."""
        p = self.evaluate(x, y, w, act, loss)
        assert p.z is not None
        return bool(np.all(np.abs(p.z) > 0.05) and np.all(np.abs(p.grad) > 1e-4))

    def output_range(self, act: str) -> tuple[float, float] | None:
        return (0.0, 1.0) if act == "sigmoid" else None


MODEL = Net222()
