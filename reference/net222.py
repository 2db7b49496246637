"""The 2-2-2 network of homework 2 and 3, with gradients derived by hand.

Weights are a length-8 vector w1..w8 (index 0..7); h1 = act(w1*x1 + w3*x2),
h2 = act(w2*x1 + w4*x2), o1 = act(w5*h1 + w7*h2), o2 = act(w6*h1 + w8*h2).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTIVATIONS = ("sigmoid", "relu")
LOSSES = ("mse", "mse-mean", "cross-entropy")


def loss(o: np.ndarray, y: np.ndarray, kind: str = "mse") -> float:
    """The loss of outputs o against targets y."""
    return _loss(np.asarray(o, dtype=float), np.asarray(y, dtype=float), kind)[0]


def _act(z: np.ndarray, kind: str) -> np.ndarray:
    if kind == "sigmoid":
        with np.errstate(over="ignore"):  # exp(-z) = inf for z << 0 gives the right 0.0
            return 1.0 / (1.0 + np.exp(-z))
    if kind == "relu":
        return np.maximum(z, 0.0)
    raise ValueError(f"unknown activation {kind!r}")


def _act_slope(a: np.ndarray, kind: str) -> np.ndarray:
    """d act / d z from the output a alone (a > 0 exactly when z > 0; torch's relu'(0) = 0)."""
    if kind == "sigmoid":
        return a * (1.0 - a)
    return (a > 0).astype(float)


def _loss(o: np.ndarray, y: np.ndarray, kind: str) -> tuple[float, np.ndarray]:
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
class Pass:
    """Everything one forward and backward pass computes."""

    h: np.ndarray  # (h1, h2)
    o: np.ndarray  # (o1, o2)
    loss: float
    grad: np.ndarray  # dE/dw1..dE/dw8
    z: np.ndarray | None = None  # pre-activations (z_h1, z_h2, z_o1, z_o2)


def evaluate(x: np.ndarray, y: np.ndarray, w: np.ndarray, act: str = "sigmoid", loss: str = "mse") -> Pass:
    """Forward and hand-derived backward pass for one sample."""
    x, y, w = (np.asarray(v, dtype=float) for v in (x, y, w))
    z_h = np.array([w[0] * x[0] + w[2] * x[1], w[1] * x[0] + w[3] * x[1]])
    h = _act(z_h, act)
    z_o = np.array([w[4] * h[0] + w[6] * h[1], w[5] * h[0] + w[7] * h[1]])
    o = _act(z_o, act)
    e, _ = _loss(o, y, loss)
    return Pass(h=h, o=o, loss=e, grad=backward(x, y, w, h, o, act, loss), z=np.concatenate([z_h, z_o]))


def backward(x: np.ndarray, y: np.ndarray, w: np.ndarray, h: np.ndarray, o: np.ndarray,
             act: str = "sigmoid", loss: str = "mse") -> np.ndarray:
    """dE/dw1..dE/dw8 from the forward pass's outputs h and o, whoever computed them."""
    x, y, w, h, o = (np.asarray(v, dtype=float) for v in (x, y, w, h, o))
    _, de_do = _loss(o, y, loss)
    delta_o = de_do * _act_slope(o, act)
    # each hidden unit collects the output deltas through the weights that leave it
    delta_h = np.array([delta_o[0] * w[4] + delta_o[1] * w[5], delta_o[0] * w[6] + delta_o[1] * w[7]])
    delta_h = delta_h * _act_slope(h, act)
    return np.array([
        delta_h[0] * x[0], delta_h[1] * x[0], delta_h[0] * x[1], delta_h[1] * x[1],
        delta_o[0] * h[0], delta_o[1] * h[0], delta_o[0] * h[1], delta_o[1] * h[1],
    ])


def train(x: np.ndarray, y: np.ndarray, w: np.ndarray, step: float, rounds: int,
          act: str = "sigmoid", loss: str = "mse") -> tuple[list[float], np.ndarray]:
    """Plain gradient descent; returns the loss before each update and the final weights."""
    w = np.asarray(w, dtype=float).copy()
    losses = []
    for _ in range(rounds):
        p = evaluate(x, y, w, act, loss)
        losses.append(p.loss)
        w = w - step * p.grad
    return losses, w
