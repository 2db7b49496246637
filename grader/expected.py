"""Expected values for one case, named as the assignment files name them (`out_o1`, `d_w3`, …).

The only bridge between `reference/` and the grader; it runs in the parent alone.
"""

from __future__ import annotations

import functools

import numpy as np

from reference import lecture, net222
from reference.mistakes import REFERENCE, Mistake

from .spec import Assignment, Task


def expected(a: Assignment, task: Task, case: dict[str, float], model: Mistake = REFERENCE) -> dict[str, float]:
    """The named values of one case, as the reference computes them (or a known mistake).

    The reference's are memoized on everything they depend on: every submission of a batch asks for the same cases.
    """
    key = (a.model, tuple(a.inputs), tuple(a.targets), tuple(a.weights), task.activation, task.loss)
    if model is REFERENCE:
        return dict(_reference(*key, tuple(case.items())))
    return _evaluate(*key, case, model)


@functools.lru_cache(maxsize=4096)
def _reference(model_name: str, inputs: tuple[str, ...], targets: tuple[str, ...], weights: tuple[str, ...],
               activation: str, loss: str, items: tuple[tuple[str, float], ...]) -> dict[str, float]:
    return _evaluate(model_name, inputs, targets, weights, activation, loss, dict(items), REFERENCE)


def _evaluate(model_name: str, inputs: tuple[str, ...], targets: tuple[str, ...], weights: tuple[str, ...],
              activation: str, loss: str, case: dict[str, float], model: Mistake) -> dict[str, float]:
    w = np.array([case[n] for n in weights])
    if model_name == "net222":
        x = np.array([case[n] for n in inputs])
        y = np.array([case[n] for n in targets])
        p = model.run_evaluate(x, y, w, activation, loss)
        values = {"out_o1": p.o[0], "out_o2": p.o[1], "out_h1": p.h[0], "out_h2": p.h[1], "error": p.loss}
        grad = p.grad
    else:  # y_pred = w . features(x), error (y_pred - y)^2: the mistake may change the features
        x, y = case[inputs[0]], case[targets[0]]
        f = model.run_features(model_name, x)
        y_pred = float(np.dot(w, f))
        values = {"y_pred": y_pred, "error": (y_pred - y) ** 2}
        grad = 2.0 * (y_pred - y) * f
    values.update({f"d_{n}": g for n, g in zip(weights, grad)})
    return {k: float(v) for k, v in values.items()}


def backward(a: Assignment, task: Task, case: dict[str, float], fed: dict[str, float],
             model: Mistake = REFERENCE) -> dict[str, float]:
    """The gradients the reference (or a mistake) derives from forward outputs `fed`, the submission's own."""
    x = np.array([case[n] for n in a.inputs])
    y = np.array([case[n] for n in a.targets])
    w = np.array([case[n] for n in a.weights])
    grad = model.run_backward(x, y, w, np.array([fed["out_h1"], fed["out_h2"]]),
                              np.array([fed["out_o1"], fed["out_o2"]]), task.activation, task.loss)
    return {f"d_{n}": float(g) for n, g in zip(a.weights, grad)}


def trained(a: Assignment, task: Task, case: dict[str, float], start: list[float], step: float,
            updates: int, model: Mistake = REFERENCE, data: tuple[list[float], list[float]] | None = None) -> list[float]:
    """The weights after the reference's own run (or a mistake's) of `updates` steps from `start`: on the case
    (the 2-2-2 net's one sample), or per sample through `data` (the lecture's, or the student's own)."""
    if a.model == "net222":
        x = np.array([case[n] for n in a.inputs])
        y = np.array([case[n] for n in a.targets])
        _, w = model.run_train(x, y, np.array(start), step, updates, task.activation, task.loss)
    else:
        xs, ys = data or (a.given.data_x, a.given.data_y)
        w = model.run_lecture_train(a.model, np.array(start), xs, ys, step, updates)
    return [float(v) for v in w]


def loss_of(a: Assignment, task: Task, case: dict[str, float], outputs: dict[str, float]) -> float:
    """The reference's loss of outputs someone else computed (the student's own forward): judged on its inputs."""
    if a.model == "net222":
        o = np.array([outputs["out_o1"], outputs["out_o2"]])
        return float(net222.loss(o, np.array([case[n] for n in a.targets]), task.loss))
    return float((outputs["y_pred"] - case[a.targets[0]]) ** 2)


def losses(a: Assignment, task: Task, case: dict[str, float], start: list[float], step: float,
           rounds: int) -> list[float]:
    """The reference's loss before each of `rounds` updates from `start`: the curve to draw beside a student's.

    Memoized: a class mostly starts from the homework's weights with the same few steps.
    """
    x = tuple(case[n] for n in a.inputs)
    y = tuple(case[n] for n in a.targets)
    return list(_losses(a.model, x, y, tuple(start), step, rounds, task.activation, task.loss))


@functools.lru_cache(maxsize=1024)
def _losses(model_name: str, x: tuple[float, ...], y: tuple[float, ...], start: tuple[float, ...], step: float,
            rounds: int, activation: str, loss: str) -> tuple[float, ...]:
    w = np.array(start, dtype=float)
    if model_name == "net222":
        return tuple(float(v) for v in net222.train(np.array(x), np.array(y), w, step, rounds, activation, loss)[0])
    out = []
    for _ in range(rounds):
        out.append(lecture.loss(model_name, w, x[0], y[0]))
        w = w - step * lecture.gradient(model_name, w, x[0], y[0])
    return tuple(out)


def well_conditioned(a: Assignment, task: Task, case: dict[str, float]) -> bool:
    """A hidden case must not sit on a ReLU kink nor saturate the sigmoid to nothing."""
    if a.model != "net222":
        return True
    x = np.array([case[n] for n in a.inputs])
    y = np.array([case[n] for n in a.targets])
    p = net222.evaluate(x, y, np.array([case[n] for n in a.weights]), task.activation, task.loss)
    assert p.z is not None
    return bool(np.all(np.abs(p.z) > 0.05) and np.all(np.abs(p.grad) > 1e-4))
