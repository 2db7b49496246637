"""The lecture's linear and quadratic models (seed 003), gradients by hand.

Both are linear in their parameters: y_hat = params . features(x), so one
implementation serves both; the per-sample loss is (y_hat - y)^2.
"""

from __future__ import annotations

import numpy as np

MODELS = ("linear", "quadratic")


def features(model: str, x: float) -> np.ndarray:
    if model == "linear":
        return np.array([x], dtype=float)  # w
    if model == "quadratic":
        return np.array([x * x, x, 1.0])  # w1, w2, b
    raise ValueError(f"unknown model {model!r}")


def predict(model: str, params: np.ndarray, x: float) -> float:
    return float(np.dot(params, features(model, x)))


def loss(model: str, params: np.ndarray, x: float, y: float) -> float:
    return (predict(model, params, x) - y) ** 2


def gradient(model: str, params: np.ndarray, x: float, y: float) -> np.ndarray:
    return 2.0 * (predict(model, params, x) - y) * features(model, x)


def train(model: str, params: np.ndarray, xs: list[float], ys: list[float], step: float,
          updates: int) -> np.ndarray:
    """Per-sample SGD cycling through the data in order, `updates` steps in all."""
    params = np.asarray(params, dtype=float).copy()
    for k in range(updates):
        x, y = xs[k % len(xs)], ys[k % len(ys)]
        params = params - step * gradient(model, params, x, y)
    return params
