"""Expected values for one case, named as the assignment files name them (`out_o1`, `d_w3`, …).

The only bridge between `reference/` and the grader; it runs in the parent alone. Every name
comes from the assignment's model (reference/models.py): its outputs, what its backward is
fed, its parameters; the gradient of parameter `n` is named `d_n`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from reference.mistakes import REFERENCE, Mistake
from reference.model import Model, Sample
from reference.models import MODELS

from .spec import Assignment, Task


def model_of(a: Assignment, mistake: Mistake = REFERENCE) -> Model:
    """The assignment's reference model, or the model a submission with `mistake` computes."""
    return mistake.on(a.model)


def _split(a: Assignment, case: dict[str, float]) -> tuple[list[float], list[float], list[float]]:
    return [case[n] for n in a.inputs], [case[n] for n in a.targets], [case[n] for n in a.weights]


def expected(a: Assignment, task: Task, case: dict[str, float], mistake: Mistake = REFERENCE) -> dict[str, float]:
    """The named values of one case, as the reference computes them (or a known mistake).

    The reference's are memoized on everything they depend on: every submission of a batch asks for the same cases.
    """
    names = (tuple(a.inputs), tuple(a.targets), tuple(a.weights), task.activation, task.loss)
    if mistake is REFERENCE:
        return dict(_reference(a.model, *names, tuple(case.items())))
    return _evaluate(model_of(a, mistake), *names, case)


@functools.lru_cache(maxsize=4096)
def _reference(model: str, inputs: tuple[str, ...], targets: tuple[str, ...], weights: tuple[str, ...],
               activation: str, loss: str, items: tuple[tuple[str, float], ...]) -> dict[str, float]:
    return _evaluate(MODELS[model], inputs, targets, weights, activation, loss, dict(items))


def _evaluate(m: Model, inputs: Sequence[str], targets: Sequence[str], weights: Sequence[str],
              activation: str, loss: str, case: dict[str, float]) -> dict[str, float]:
    p = m.evaluate([case[n] for n in inputs], [case[n] for n in targets], [case[n] for n in weights], activation,
                   loss)
    return {**p.outputs, **{f"d_{n}": float(g) for n, g in zip(weights, p.grad)}}


def backward(a: Assignment, task: Task, case: dict[str, float], fed: dict[str, float],
             mistake: Mistake = REFERENCE) -> dict[str, float]:
    """The gradients the reference (or a mistake) derives from forward outputs `fed`, the submission's own."""
    m = model_of(a, mistake)
    grad = m.backward(*_split(a, case), {k: fed[k] for k in m.fed}, task.activation, task.loss)
    return {f"d_{n}": float(g) for n, g in zip(a.weights, grad)}


def fed_names(a: Assignment) -> tuple[str, ...]:
    """The forward outputs the model's hand-written backward takes."""
    return MODELS[a.model].fed


def samples(a: Assignment, case: dict[str, float]) -> list[Sample]:
    """What a training loop walks through: the lecture's data set where the assignment gives one, else the case."""
    if a.given.data_x:
        return [([x], [y]) for x, y in zip(a.given.data_x, a.given.data_y)]
    x, y, _ = _split(a, case)
    return [(x, y)]


def trained(a: Assignment, task: Task, case: dict[str, float], start: list[float], step: float,
            updates: int, mistake: Mistake = REFERENCE, data: Sequence[Sample] | None = None) -> list[float]:
    """The weights after the reference's own run (or a mistake's) of `updates` steps from `start`, through
    `data` (the student's own, as its loop walks it) or the assignment's."""
    _, w = model_of(a, mistake).train(data or samples(a, case), start, step, updates, task.activation, task.loss)
    return [float(v) for v in w]


def loss_of(a: Assignment, task: Task, case: dict[str, float], outputs: dict[str, float]) -> float:
    """The reference's loss of outputs someone else computed (the student's own forward): judged on its inputs."""
    return MODELS[a.model].loss(outputs, [case[n] for n in a.targets], task.loss)


def losses(a: Assignment, task: Task, case: dict[str, float], start: list[float], step: float,
           rounds: int) -> list[float]:
    """The reference's loss before each of `rounds` updates from `start` on this case: the curve beside a student's.

    Memoized: a class mostly starts from the homework's weights with the same few steps.
    """
    x, y, _ = _split(a, case)
    return list(_losses(a.model, tuple(x), tuple(y), tuple(start), step, rounds, task.activation, task.loss))


@functools.lru_cache(maxsize=1024)
def _losses(model: str, x: tuple[float, ...], y: tuple[float, ...], start: tuple[float, ...], step: float,
            rounds: int, activation: str, loss: str) -> tuple[float, ...]:
    return tuple(float(v) for v in MODELS[model].train([(x, y)], start, step, rounds, activation, loss)[0])


def well_conditioned(a: Assignment, task: Task, case: dict[str, float]) -> bool:
    """Whether the model takes this random case as a hidden case (e.g. not on a ReLU kink nor saturated)."""
    return MODELS[a.model].well_conditioned(*_split(a, case), task.activation, task.loss)
