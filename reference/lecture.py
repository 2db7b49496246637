"""The lecture's linear and quadratic models (seed 003), gradients by hand.

Both are linear in their parameters: y_pred = params . features(x), so one class serves
both; the per-sample loss is (y_pred - y)^2, whatever the task's activation and loss say.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from .model import Model, Vector


class Lecture(Model):
    inputs = ("x",)
    targets = ("y",)
    outputs = ("y_pred", "error")
    fed = ("y_pred",)

    def __init__(self, id: str, params: tuple[str, ...], features: Callable[[float], list[float]]) -> None:
        self.id = id
        self.params = params
        self.features = features

    def forward(self, x: Vector, y: Vector, w: Vector, act: str = "sigmoid",
                loss: str = "mse") -> tuple[dict[str, float], None]:
        y_pred = float(np.dot(np.asarray(w, dtype=float), self.features(float(x[0]))))
        return {"y_pred": y_pred, "error": (y_pred - float(y[0])) ** 2}, None

    def loss(self, outputs: Mapping[str, float], y: Vector, loss: str = "mse") -> float:
        return (outputs["y_pred"] - float(y[0])) ** 2

    def backward(self, x: Vector, y: Vector, w: Vector, fed: Mapping[str, float],
                 act: str = "sigmoid", loss: str = "mse", **slips: str | bool) -> np.ndarray:
        if slips:
            raise TypeError(f"the lecture's models have no hand derivation to slip in: {slips}")
        return 2.0 * (fed["y_pred"] - float(y[0])) * np.array(self.features(float(x[0])))


LINEAR = Lecture("linear", ("w",), lambda x: [x])
QUADRATIC = Lecture("quadratic", ("w1", "w2", "b"), lambda x: [x * x, x, 1.0])
