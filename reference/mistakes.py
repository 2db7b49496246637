"""Known wrong implementations of the 2-2-2 network homework (bp-numpy, bp-torch), as data.

Each entry recomputes, in float64 numpy, exactly what one typical buggy submission
computes, so the grader can tell a student not only *that* a number differs but
*which* known mistake produces it. The documented list (`table("en")` renders it):

| id | name | check |
| --- | --- | --- |
| `hidden-delta-from-gradients` | Hidden-layer delta built from the output gradients (d_w5 + d_w6) instead of δo1·w5 + δo2·w6 | gradients |
| `output-sigmoid-derivative-missing` | Sigmoid derivative o(1−o) left out at the output layer | gradients |
| `hidden-sigmoid-derivative-missing` | Sigmoid derivative h(1−h) left out at the hidden layer | gradients |
| `update-sign-error` | Update with the wrong sign: w + step·grad climbs the loss | update |
| `gradients-never-zeroed` | Gradients never zeroed: backward() adds into .grad, so they pile up round after round | training |
| `gradients-zeroed-for-w1-only` | Only w1's gradient zeroed after the update; w2..w8 pile up | training |
| `loss-doubled` | Loss twice too big: Σ(o−y)² without the ½, or one MSELoss per output, summed | loss |
| `loss-halved` | The ½ applied twice: ¼·Σ(o−y)², e.g. 0.5 · MSELoss over both outputs | loss |
| `weights-row-by-row` | Weights numbered row by row in both layers: h1 = act(w1·x1 + w2·x2), o1 = act(w5·h1 + w6·h2) | forward |
| `hidden-weights-row-by-row` | Hidden weights numbered row by row: h1 = act(w1·x1 + w2·x2), h2 = act(w3·x1 + w4·x2) | forward |
| `relu-instead-of-sigmoid` | ReLU where the task asks for sigmoid | forward |
| `sigmoid-instead-of-relu` | Sigmoid where the task asks for ReLU | forward |
| `cross-entropy-over-one-class` | CrossEntropyLoss over a class dimension of size 1: the loss is always 0 | loss |
| `quadratic-terms-swapped` | Quadratic terms swapped: w1·x + w2·x² instead of w1·x² + w2·x | forward |
| `lecture-gradients-never-zeroed` | Gradients never zeroed in the training loop: each step uses the sum of all gradients so far | training |

Conventions
- `check` is the first check, in the order forward, loss, gradients, update,
  training, whose numbers reveal the mistake; the values of every earlier check
  equal the reference's (the tests prove it). `observe(check, ...)` returns the
  numbers a check compares.
- `evaluate`, `update`, `train` have the signatures of `net222.evaluate`,
  `(w, grad, step) -> w`, and `net222.train`; `backward` is a hand-written
  `back_propagate`, `(x, y, w, h, o, act, loss) -> grad`, fed with any forward
  outputs. A `None` means that stage is right; `Mistake.run_*` fill the gaps
  with the reference.
- `evaluate` returns the gradients of the buggy backward fed with the
  submission's own forward outputs. The numpy grader feeds `back_propagate` the
  *reference's* forward outputs: that is `backward` (`observe(..., fed=True)`).
  The two agree except for the row-by-row layouts, whose forward is wrong: fed
  the reference's h and o, `hidden-weights-row-by-row` returns exactly the
  reference's gradients with d_w2 and d_w3 swapped.
- The loss mistakes return autograd's gradients of the wrong loss (scaled like
  the loss): a torch submission shows them. A numpy submission derives its
  gradients apart from the `error` line and keeps them right (their `backward`
  is None); the loss value alone identifies the mistake there.
- Numbers that coincide on generic cases were merged into one entry, with the
  ways of writing it in `forms`: `(o1-y1)**2 + (o2-y2)**2`, `MSELoss()(o1, y1) +
  MSELoss()(o2, y2)` and `MSELoss(reduction='sum')` are all `loss-doubled`;
  `torch.stack([o1, o2])` (dim 0) and one `CrossEntropyLoss` per output are both
  `cross-entropy-over-one-class`.
- At all-zero weights (task zero-init) three entries give the reference's first
  pass exactly: `hidden-sigmoid-derivative-missing` (the hidden gradients are 0
  either way, since w5..w8 = 0), `weights-row-by-row` and
  `hidden-weights-row-by-row` (equal weights cannot be told apart). Training
  from zero at step 1 shows the first two in round 2, and
  `hidden-weights-row-by-row` only in round 3 (the hidden weights stay 0 for a
  round); the hidden cases show all three at once.

The lecture's `linear`/`quadratic` models (reference/lecture.py) have their own entries
(`models`): a swapped quadratic feature, and a training loop that never zeroes gradients.
This module is numpy only: the grader's parent imports it, never torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from . import lecture, net222
from .net222 import ACTIVATIONS, LOSSES, Pass

CHECKS = ("forward", "loss", "gradients", "update", "training")
FRAMEWORKS = ("numpy", "torch")
LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class MistakeText:
    name: str  # one line
    explanation: str  # what the numbers show and why it is wrong
    fix: str  # the corrected formula, plain-text maths


@dataclass(frozen=True)
class Mistake:
    id: str  # stable kebab-case id
    check: str  # the first check whose numbers reveal it, one of CHECKS
    frameworks: tuple[str, ...]  # the assignments' frameworks that can make it
    text: dict[str, MistakeText] = field(hash=False)  # by language: "en", "zh"
    evaluate: Callable[..., Pass] | None = None  # like net222.evaluate, the buggy forward/backward
    update: Callable[..., np.ndarray] | None = None  # (w, grad, step) -> new weights
    train: Callable[..., tuple[list[float], np.ndarray]] | None = None  # like net222.train
    # (x, y, w, h, o, act, loss) -> dE/dw1..8: the hand-written back_propagate (numpy) fed with any
    # forward outputs h, o; the numpy grader feeds it the reference's. None: that stage is right.
    backward: Callable[..., np.ndarray] | None = None
    activations: tuple[str, ...] = ACTIVATIONS  # the tasks' activations it can occur with
    losses: tuple[str, ...] = LOSSES  # the tasks' losses it can occur with
    models: tuple[str, ...] = ("net222",)  # the reference models it belongs to (net222, linear, quadratic)
    # the lecture's models (reference/lecture.py): the buggy features (forward, loss, gradients follow) or
    # the buggy training loop (model, params, xs, ys, step, updates) -> params. None: that stage is right.
    features: Callable[[str, float], np.ndarray] | None = None
    lecture_train: Callable[..., np.ndarray] | None = None
    forms: tuple[str, ...] = ()  # what the wrong code typically looks like
    fixtures: tuple[str, ...] = ()  # files below tests/submissions that make exactly this mistake

    def applies_to(self, framework: str, activation: str, loss: str) -> bool:
        """For the 2-2-2 network's tasks; the lecture's models ask `models` instead."""
        return "net222" in self.models and framework in self.frameworks and activation in self.activations \
            and loss in self.losses

    def run_features(self, model: str, x: float) -> np.ndarray:
        return (self.features or lecture.features)(model, x)

    def run_lecture_train(self, model: str, params, xs, ys, step: float, updates: int) -> np.ndarray:
        """Per-sample SGD as lecture.train, through this mistake's features or its own loop."""
        if self.lecture_train is not None:
            return self.lecture_train(model, params, xs, ys, step, updates)
        params = np.asarray(params, dtype=float).copy()
        for k in range(updates):
            f, y = self.run_features(model, xs[k % len(xs)]), ys[k % len(ys)]
            params = params - step * 2.0 * (float(np.dot(params, f)) - y) * f
        return params

    def run_evaluate(self, x, y, w, act: str = "sigmoid", loss: str = "mse") -> Pass:
        return (self.evaluate or net222.evaluate)(x, y, w, act, loss)

    def run_backward(self, x, y, w, h, o, act: str = "sigmoid", loss: str = "mse") -> np.ndarray:
        return (self.backward or _backward)(x, y, w, h, o, act, loss)

    def run_update(self, w, grad, step: float) -> np.ndarray:
        if self.update is not None:
            return self.update(w, grad, step)
        return np.asarray(w, dtype=float) - step * np.asarray(grad, dtype=float)

    def run_train(self, x, y, w, step: float, rounds: int, act: str = "sigmoid",
                  loss: str = "mse") -> tuple[list[float], np.ndarray]:
        """The losses before each update and the final weights, as this submission would train."""
        if self.train is not None:
            return self.train(x, y, w, step, rounds, act, loss)
        w = np.asarray(w, dtype=float).copy()
        losses = []
        for _ in range(rounds):
            p = self.run_evaluate(x, y, w, act, loss)
            losses.append(p.loss)
            w = self.run_update(w, p.grad, step)
        return losses, w


# ---------------------------------------------------------------- the variants

def _slope(a: np.ndarray, kind: str) -> np.ndarray:
    """d act / d z from the output a (relu: a > 0 exactly when z > 0; relu'(0) = 0 as in torch)."""
    return a * (1.0 - a) if kind == "sigmoid" else (a > 0).astype(float)


def _de_do(o: np.ndarray, y: np.ndarray, loss: str) -> np.ndarray:
    """dE/do of the reference losses (mse and mse-mean: 1/2 sum (o - y)^2; cross-entropy with soft targets)."""
    if loss == "cross-entropy":
        s = np.exp(o - o.max())
        return s / s.sum() * y.sum() - y
    return o - y


def _backward(x, y, w, h, o, act: str = "sigmoid", loss: str = "mse", *, output_slope: bool = True,
              hidden_slope: bool = True, hidden_from_gradients: bool = False) -> np.ndarray:
    """A back_propagate written by hand in the template's form, fed with forward outputs h, o.

    With every flag at its default it is the reference's backward; each flag is one mistake.
    """
    x, y, w, h, o = (np.asarray(v, dtype=float) for v in (x, y, w, h, o))
    delta_o = _de_do(o, y, loss) * (_slope(o, act) if output_slope else 1.0)
    d5, d6, d7, d8 = delta_o[0] * h[0], delta_o[1] * h[0], delta_o[0] * h[1], delta_o[1] * h[1]
    if hidden_from_gradients:  # seed 000: (d_w5 + d_w6) where δo1·w5 + δo2·w6 belongs
        back = np.array([d5 + d6, d7 + d8])
    else:
        back = np.array([delta_o[0] * w[4] + delta_o[1] * w[5], delta_o[0] * w[6] + delta_o[1] * w[7]])
    delta_h = back * (_slope(h, act) if hidden_slope else 1.0)
    return np.array([delta_h[0] * x[0], delta_h[1] * x[0], delta_h[0] * x[1], delta_h[1] * x[1], d5, d6, d7, d8])


def _hand_derived(**flags) -> tuple[Callable[..., Pass], Callable[..., np.ndarray]]:
    """(evaluate, backward) of a submission whose forward is right and whose backward has `flags`."""

    def backward(x, y, w, h, o, act: str = "sigmoid", loss: str = "mse") -> np.ndarray:
        return _backward(x, y, w, h, o, act, loss, **flags)

    def evaluate(x, y, w, act: str = "sigmoid", loss: str = "mse") -> Pass:
        r = net222.evaluate(x, y, w, act, loss)
        return Pass(h=r.h, o=r.o, loss=r.loss, grad=backward(x, y, w, r.h, r.o, act, loss), z=r.z)

    return evaluate, backward


_HIDDEN_DELTA_FROM_GRADIENTS = _hand_derived(hidden_from_gradients=True)
_OUTPUT_SLOPE_MISSING = _hand_derived(output_slope=False)
_HIDDEN_SLOPE_MISSING = _hand_derived(hidden_slope=False)


def _ascend(w, grad, step: float) -> np.ndarray:
    return np.asarray(w, dtype=float) + step * np.asarray(grad, dtype=float)


def _accumulating(zeroed: tuple[int, ...]) -> Callable[..., tuple[list[float], np.ndarray]]:
    """torch training where backward() adds into .grad and only the weights in `zeroed` are reset."""

    def train(x, y, w, step: float, rounds: int, act: str = "sigmoid",
              loss: str = "mse") -> tuple[list[float], np.ndarray]:
        w = np.asarray(w, dtype=float).copy()
        held = np.zeros_like(w)  # the .grad of each weight
        losses = []
        for _ in range(rounds):
            p = net222.evaluate(x, y, w, act, loss)
            losses.append(p.loss)
            held = held + p.grad
            w = w - step * held
            held[list(zeroed)] = 0.0
        return losses, w

    return train


def _scaled_loss(factor: float) -> Callable[..., Pass]:
    def evaluate(x, y, w, act: str = "sigmoid", loss: str = "mse") -> Pass:
        p = net222.evaluate(x, y, w, act, loss)
        return Pass(h=p.h, o=p.o, loss=factor * p.loss, grad=factor * p.grad, z=p.z)

    return evaluate


def _permuted(perm: tuple[int, ...]) -> tuple[Callable[..., Pass], Callable[..., np.ndarray]]:
    """(evaluate, backward) of a submission that numbers the weights in another layout.

    It computes the reference network at W = w[perm]. Its gradients are those of its own
    function (autograd does that; the fixture derives its backward for its own layout):
    dE/dw = G[argsort(perm)], G the reference's gradients at W; its hand-written backward fed
    with any h, o is likewise the reference backward at W, re-indexed.
    """
    p_ = np.array(perm)
    inverse = np.argsort(p_)

    def backward(x, y, w, h, o, act: str = "sigmoid", loss: str = "mse") -> np.ndarray:
        return _backward(x, y, np.asarray(w, dtype=float)[p_], h, o, act, loss)[inverse]

    def evaluate(x, y, w, act: str = "sigmoid", loss: str = "mse") -> Pass:
        r = net222.evaluate(x, y, np.asarray(w, dtype=float)[p_], act, loss)
        return Pass(h=r.h, o=r.o, loss=r.loss, grad=r.grad[inverse], z=r.z)

    return evaluate, backward


_ROWS = _permuted((0, 2, 1, 3, 4, 6, 5, 7))
_HIDDEN_ROWS = _permuted((0, 2, 1, 3, 4, 5, 6, 7))


def _with_activation(kind: str) -> Callable[..., Pass]:
    def evaluate(x, y, w, act: str = "sigmoid", loss: str = "mse") -> Pass:
        return net222.evaluate(x, y, w, kind, loss)

    return evaluate


def _cross_entropy_one_class(x, y, w, act: str = "sigmoid", loss: str = "mse") -> Pass:
    """CrossEntropyLoss on shape (2, 1): log softmax over one class is 0, so E = 0 and dE/dw = 0."""
    r = net222.evaluate(x, y, w, act, loss)
    return Pass(h=r.h, o=r.o, loss=0.0, grad=np.zeros(8), z=r.z)


# ---------------------------------------------------------------- the catalogue

_FIX_HIDDEN = ("δo1 = (o1 − y1)·o1(1−o1), δo2 = (o2 − y2)·o2(1−o2); "
               "dE/dw1 = (δo1·w5 + δo2·w6)·h1(1−h1)·x1, dE/dw3 = (δo1·w5 + δo2·w6)·h1(1−h1)·x2, "
               "dE/dw2 = (δo1·w7 + δo2·w8)·h2(1−h2)·x1, dE/dw4 = (δo1·w7 + δo2·w8)·h2(1−h2)·x2")
_FIX_OUTPUT = ("δo1 = (o1 − y1)·o1(1−o1), δo2 = (o2 − y2)·o2(1−o2); "
               "dE/dw5 = δo1·h1, dE/dw6 = δo2·h1, dE/dw7 = δo1·h2, dE/dw8 = δo2·h2; "
               "dE/dw1 = (δo1·w5 + δo2·w6)·h1(1−h1)·x1, and likewise w2..w4")
_FIX_OUTPUT_ZH = ("δo1 = (o1 − y1)·o1(1−o1),δo2 = (o2 − y2)·o2(1−o2);"
                  "dE/dw5 = δo1·h1,dE/dw6 = δo2·h1,dE/dw7 = δo1·h2,dE/dw8 = δo2·h2;"
                  "dE/dw1 = (δo1·w5 + δo2·w6)·h1(1−h1)·x1,w2~w4 同理")
_FORWARD = "h1 = act(w1·x1 + w3·x2), h2 = act(w2·x1 + w4·x2), o1 = act(w5·h1 + w7·h2), o2 = act(w6·h1 + w8·h2)"
_FORWARD_ZH = "h1 = act(w1·x1 + w3·x2),h2 = act(w2·x1 + w4·x2),o1 = act(w5·h1 + w7·h2),o2 = act(w6·h1 + w8·h2)"
_ZERO_ALL = ("after each update, for every weight w1..w8: w.grad.data.zero_(); then round k uses only the "
             "gradient at its own weights: w(k+1) = w(k) − step·dE/dw(w(k))")
_ZERO_ALL_ZH = ("每次更新之后,对 w1~w8 每一个权重都执行 w.grad.data.zero_();这样第 k 轮只用当前权重处的梯度:"
                "w(k+1) = w(k) − step·dE/dw(w(k))")

def _terms_swapped(model: str, x: float) -> np.ndarray:
    """w1·x + w2·x² + b where the lecture has w1·x² + w2·x + b."""
    return lecture.features(model, x)[[1, 0, 2]]


def _lecture_never_zeroed(model: str, params, xs, ys, step: float, updates: int) -> np.ndarray:
    """A loop without w.grad.data.zero_(): each step uses the sum of every gradient so far."""
    params = np.asarray(params, dtype=float).copy()
    total = np.zeros_like(params)
    for k in range(updates):
        total = total + lecture.gradient(model, params, xs[k % len(xs)], ys[k % len(ys)])
        params = params - step * total
    return params


_CATALOGUE = [
    Mistake(
        id="hidden-delta-from-gradients",
        check="gradients",
        frameworks=("numpy",),
        evaluate=_HIDDEN_DELTA_FROM_GRADIENTS[0],
        backward=_HIDDEN_DELTA_FROM_GRADIENTS[1],
        forms=("d_w1 = (d_w5 + d_w6) * out_h1 * (1 - out_h1) * x1",),
        fixtures=("bp-numpy/seed000_hidden_delta.py",),
        text={
            "en": MistakeText(
                name="Hidden-layer delta built from the output gradients (d_w5 + d_w6) instead of δo1·w5 + δo2·w6",
                explanation=(
                    "d_w5..d_w8 are right but d_w1..d_w4 are not. The error that reaches h1 is the sum of the "
                    "two output deltas, each weighted by the weight that leaves h1 towards it: δo1·w5 + δo2·w6. "
                    "d_w5 + d_w6 = (δo1 + δo2)·h1 multiplies by h1 instead of by w5 and w6, so the hidden "
                    "gradients come out with the wrong size and often the wrong sign."),
                fix=_FIX_HIDDEN),
            "zh": MistakeText(
                name="隐藏层的 δ 用了输出层梯度 (d_w5 + d_w6),应该是 δo1·w5 + δo2·w6",
                explanation=(
                    "d_w5~d_w8 是对的,d_w1~d_w4 不对。传回 h1 的误差是两个输出层 δ 的加权和,权重是从 h1 "
                    "连到各输出的 w5、w6:δo1·w5 + δo2·w6。而 d_w5 + d_w6 = (δo1 + δo2)·h1,乘的是 h1 "
                    "而不是 w5、w6,所以隐藏层梯度大小不对,符号也经常是反的。"),
                fix=("δo1 = (o1 − y1)·o1(1−o1),δo2 = (o2 − y2)·o2(1−o2);"
                     "dE/dw1 = (δo1·w5 + δo2·w6)·h1(1−h1)·x1,dE/dw3 = (δo1·w5 + δo2·w6)·h1(1−h1)·x2,"
                     "dE/dw2 = (δo1·w7 + δo2·w8)·h2(1−h2)·x1,dE/dw4 = (δo1·w7 + δo2·w8)·h2(1−h2)·x2")),
        },
    ),
    Mistake(
        id="output-sigmoid-derivative-missing",
        check="gradients",
        frameworks=("numpy",),
        activations=("sigmoid",),
        evaluate=_OUTPUT_SLOPE_MISSING[0],
        backward=_OUTPUT_SLOPE_MISSING[1],
        forms=("d_w5 = (out_o1 - y1) * out_h1",),
        fixtures=("bp-numpy/missing_sigmoid_derivative_output.py",),
        text={
            "en": MistakeText(
                name="Sigmoid derivative o(1−o) left out at the output layer",
                explanation=(
                    "Every gradient is off: d_w5..d_w8 are too big by the factor 1/(o(1−o)), at least 4 times, "
                    "and d_w1..d_w4 too, because they are built from the same output deltas. The chain rule "
                    "passes through the output neuron's sigmoid as well: dE/d(net_o1) = (o1 − y1)·o1(1−o1), "
                    "not just o1 − y1."),
                fix=_FIX_OUTPUT),
            "zh": MistakeText(
                name="输出层漏乘了 sigmoid 的导数 o(1−o)",
                explanation=(
                    "所有梯度都不对:d_w5~d_w8 大了 1/(o(1−o)) 倍(至少 4 倍),d_w1~d_w4 也跟着错,因为它们"
                    "用的是同样的输出层 δ。链式法则还要经过输出神经元自己的 sigmoid:"
                    "dE/d(net_o1) = (o1 − y1)·o1(1−o1),而不只是 o1 − y1。"),
                fix=_FIX_OUTPUT_ZH),
        },
    ),
    Mistake(
        id="hidden-sigmoid-derivative-missing",
        check="gradients",
        frameworks=("numpy",),
        activations=("sigmoid",),
        evaluate=_HIDDEN_SLOPE_MISSING[0],
        backward=_HIDDEN_SLOPE_MISSING[1],
        forms=("d_w1 = (delta_o1 * w5 + delta_o2 * w6) * x1",),
        text={
            "en": MistakeText(
                name="Sigmoid derivative h(1−h) left out at the hidden layer",
                explanation=(
                    "d_w5..d_w8 are right; d_w1..d_w4 are too big by the factor 1/(h(1−h)), at least 4 times. "
                    "The error sent back to a hidden neuron must pass through that neuron's own sigmoid before "
                    "it reaches the weights w1..w4."),
                fix=_FIX_HIDDEN),
            "zh": MistakeText(
                name="隐藏层漏乘了 sigmoid 的导数 h(1−h)",
                explanation=(
                    "d_w5~d_w8 是对的;d_w1~d_w4 大了 1/(h(1−h)) 倍(至少 4 倍)。传回隐藏神经元的误差,"
                    "要先经过这个神经元自己的 sigmoid,才能到达 w1~w4。"),
                fix=("dE/dw1 = (δo1·w5 + δo2·w6)·h1(1−h1)·x1,dE/dw3 = (δo1·w5 + δo2·w6)·h1(1−h1)·x2,"
                     "dE/dw2 = (δo1·w7 + δo2·w8)·h2(1−h2)·x1,dE/dw4 = (δo1·w7 + δo2·w8)·h2(1−h2)·x2")),
        },
    ),
    Mistake(
        id="update-sign-error",
        check="update",
        frameworks=("numpy", "torch"),
        update=_ascend,
        forms=("w1 = w1 + step * d_w1", "w1.data = w1.data + step * w1.grad.data"),
        fixtures=("bp-numpy/sign_error_update.py", "bp-torch/update_sign_error.py"),
        text={
            "en": MistakeText(
                name="Update with the wrong sign: w + step·grad climbs the loss",
                explanation=(
                    "The forward pass and the gradients are right, but each update moves the weights along the "
                    "gradient, uphill, so the loss grows from round to round instead of falling. The gradient "
                    "points to where the loss increases; gradient descent steps the other way."),
                fix="w_new = w − step·dE/dw (torch: w.data = w.data − step·w.grad.data)"),
            "zh": MistakeText(
                name="更新的符号写反了:w + step·grad 让损失越来越大",
                explanation=(
                    "前向传播和梯度都是对的,但每次更新都沿着梯度方向(上坡)移动权重,所以损失一轮比一轮大,"
                    "而不是下降。梯度指向损失增大的方向,梯度下降要往相反方向走。"),
                fix="w_new = w − step·dE/dw(torch:w.data = w.data − step·w.grad.data)"),
        },
    ),
    Mistake(
        id="gradients-never-zeroed",
        check="training",
        frameworks=("torch",),
        train=_accumulating(()),
        forms=("no w.grad.data.zero_() after the update",),
        text={
            "en": MistakeText(
                name="Gradients never zeroed: backward() adds into .grad, so they pile up round after round",
                explanation=(
                    "Round 1 is right. From round 2 on, every weight moves by step times the sum of all the "
                    "gradients computed so far, because backward() adds the new gradient to w.grad instead of "
                    "replacing it; the steps keep growing and the losses leave the reference's curve."),
                fix=_ZERO_ALL),
            "zh": MistakeText(
                name="梯度从未清零:backward() 会累加到 .grad,梯度一轮轮叠加",
                explanation=(
                    "第 1 轮是对的。从第 2 轮起,每个权重按 step 乘以“到目前为止所有梯度之和”来更新,因为 "
                    "backward() 是把新梯度加到 w.grad 上,而不是覆盖它;步子越来越大,损失曲线偏离参考答案。"),
                fix=_ZERO_ALL_ZH),
        },
    ),
    Mistake(
        id="gradients-zeroed-for-w1-only",
        check="training",
        frameworks=("torch",),
        train=_accumulating((0,)),
        forms=("w1.grad.data.zero_()  # and nothing for w2..w8",),
        fixtures=("bp-torch/seed002_only_w1_zeroed.py",),
        text={
            "en": MistakeText(
                name="Only w1's gradient zeroed after the update; w2..w8 pile up",
                explanation=(
                    "Round 1 is right. From round 2 on, w2..w8 move by step times the sum of all their gradients "
                    "so far, while w1 uses only the current one: backward() adds into .grad, and only w1.grad "
                    "is reset. The template's single zero_() line is an example to repeat for every weight."),
                fix=_ZERO_ALL),
            "zh": MistakeText(
                name="更新后只清零了 w1 的梯度,w2~w8 的梯度在累加",
                explanation=(
                    "第 1 轮是对的。从第 2 轮起,w2~w8 按“到目前为止所有梯度之和”更新,只有 w1 用的是当前梯度:"
                    "backward() 会累加到 .grad,而只有 w1.grad 被清零了。模板里那一行 zero_() 是示例,"
                    "每个权重都要写。"),
                fix=_ZERO_ALL_ZH),
        },
    ),
    Mistake(
        id="loss-doubled",
        check="loss",
        frameworks=("numpy", "torch"),
        losses=("mse", "mse-mean"),
        evaluate=_scaled_loss(2.0),
        forms=("(o1 - y1)**2 + (o2 - y2)**2",
               "torch.nn.MSELoss()(o1, y1) + torch.nn.MSELoss()(o2, y2)",
               "torch.nn.MSELoss(reduction='sum')(torch.cat([o1, o2]), torch.cat([y1, y2]))"),
        fixtures=("bp-torch/mse_per_output_summed.py",),
        text={
            "en": MistakeText(
                name="Loss twice too big: Σ(o−y)² without the ½, or one MSELoss per output, summed",
                explanation=(
                    "The loss is exactly twice the reference's, and with autograd so is every gradient (the "
                    "training then runs as with a doubled step). The homework's loss is "
                    "E = ½(o1−y1)² + ½(o2−y2)². torch.nn.MSELoss() takes the mean over the elements it is "
                    "given: on the single element o1 that is (o1−y1)², with no ½, so MSELoss()(o1, y1) + "
                    "MSELoss()(o2, y2) = (o1−y1)² + (o2−y2)² = 2E. Given both outputs at once, the mean "
                    "divides by 2 and gives E."),
                fix=("E = ½·[(o1 − y1)² + (o2 − y2)²], or in one call: "
                     "MSELoss()(torch.cat([o1, o2]), torch.cat([y1, y2])) (the mean over 2 outputs is ½·Σ)")),
            "zh": MistakeText(
                name="损失大了一倍:Σ(o−y)² 漏了 ½,或对每个输出分别用 MSELoss 再相加",
                explanation=(
                    "损失正好是参考值的 2 倍;用 autograd 时每个梯度也都是 2 倍(训练就像步长翻了一倍)。"
                    "作业的损失是 E = ½(o1−y1)² + ½(o2−y2)²。torch.nn.MSELoss() 对输入的元素求平均:"
                    "只给一个元素 o1 时结果是 (o1−y1)²,没有 ½,所以 MSELoss()(o1, y1) + MSELoss()(o2, y2) "
                    "= (o1−y1)² + (o2−y2)² = 2E。把两个输出一起传进去,平均时除以 2,才等于 E。"),
                fix=("E = ½·[(o1 − y1)² + (o2 − y2)²],或者一次调用:"
                     "MSELoss()(torch.cat([o1, o2]), torch.cat([y1, y2]))(对 2 个输出求平均就是 ½·Σ)")),
        },
    ),
    Mistake(
        id="loss-halved",
        check="loss",
        frameworks=("numpy", "torch"),
        losses=("mse", "mse-mean"),
        evaluate=_scaled_loss(0.5),
        forms=("0.5 * torch.nn.MSELoss()(torch.cat([o1, o2]), torch.cat([y1, y2]))",
               "(1 / 2) * ((o1 - y1)**2 + (o2 - y2)**2) / 2"),
        text={
            "en": MistakeText(
                name="The ½ applied twice: ¼·Σ(o−y)², e.g. 0.5 · MSELoss over both outputs",
                explanation=(
                    "The loss is exactly half the reference's, and with autograd so is every gradient (the "
                    "training then runs as with half the step). MSELoss over the two outputs is already a mean, "
                    "(o1−y1)²/2 + (o2−y2)²/2, which is the homework's E; multiplying by ½ once more gives "
                    "¼·[(o1−y1)² + (o2−y2)²]."),
                fix=("E = ½·[(o1 − y1)² + (o2 − y2)²] = MSELoss()(torch.cat([o1, o2]), torch.cat([y1, y2])), "
                     "with no further ½")),
            "zh": MistakeText(
                name="½ 乘了两次:¼·Σ(o−y)²,例如 0.5 · MSELoss(两个输出)",
                explanation=(
                    "损失正好是参考值的一半;用 autograd 时每个梯度也都减半(训练就像步长减半)。对两个输出"
                    "用 MSELoss 本身就是求平均:(o1−y1)²/2 + (o2−y2)²/2,已经等于作业的 E;再乘 ½ 就成了 "
                    "¼·[(o1−y1)² + (o2−y2)²]。"),
                fix=("E = ½·[(o1 − y1)² + (o2 − y2)²] = MSELoss()(torch.cat([o1, o2]), torch.cat([y1, y2])),"
                     "不要再乘 ½")),
        },
    ),
    Mistake(
        id="weights-row-by-row",
        check="forward",
        frameworks=("numpy", "torch"),
        evaluate=_ROWS[0],
        backward=_ROWS[1],
        forms=("in_h1 = w1 * x1 + w2 * x2", "in_o1 = w5 * out_h1 + w6 * out_h2"),
        text={
            "en": MistakeText(
                name="Weights numbered row by row in both layers: h1 = act(w1·x1 + w2·x2), o1 = act(w5·h1 + w6·h2)",
                explanation=(
                    "The hidden and output values differ, and so does everything after them. The homework's "
                    "figure numbers each weight by the neuron it leaves: w1 and w3 go into h1, w2 and w4 into "
                    "h2, w5 and w7 into o1, w6 and w8 into o2. Reading them row by row swaps w2 with w3 and "
                    "w6 with w7, so each gradient also lands under the other's name."),
                fix=_FORWARD),
            "zh": MistakeText(
                name="两层的权重都按行编号:h1 = act(w1·x1 + w2·x2),o1 = act(w5·h1 + w6·h2)",
                explanation=(
                    "隐藏层和输出层的值都不对,后面的一切也跟着错。作业图中的权重按“从哪个神经元出发”编号:"
                    "w1、w3 进入 h1,w2、w4 进入 h2,w5、w7 进入 o1,w6、w8 进入 o2。按行读就把 w2 和 w3、"
                    "w6 和 w7 对调了,梯度也就记到了对方的名下。"),
                fix=_FORWARD_ZH),
        },
    ),
    Mistake(
        id="hidden-weights-row-by-row",
        check="forward",
        frameworks=("numpy", "torch"),
        evaluate=_HIDDEN_ROWS[0],
        backward=_HIDDEN_ROWS[1],
        forms=("in_h1 = w1 * x1 + w2 * x2", "in_h2 = w3 * x1 + w4 * x2"),
        fixtures=("bp-numpy/swapped_weight_indices.py",),
        text={
            "en": MistakeText(
                name="Hidden weights numbered row by row: h1 = act(w1·x1 + w2·x2), h2 = act(w3·x1 + w4·x2)",
                explanation=(
                    "h1, h2 differ, and so do o1, o2 and the loss; the output layer itself is wired right. In the "
                    "homework's figure w1 and w3 go into h1 (from x1 and x2), w2 and w4 into h2: numbering the "
                    "hidden weights row by row swaps w2 and w3, and a backward derived for that layout returns "
                    "d_w2 and d_w3 in each other's place."),
                fix=_FORWARD),
            "zh": MistakeText(
                name="隐藏层权重按行编号:h1 = act(w1·x1 + w2·x2),h2 = act(w3·x1 + w4·x2)",
                explanation=(
                    "h1、h2 不对,o1、o2 和损失也跟着错;输出层本身的连线是对的。作业图中 w1、w3(分别来自 x1、"
                    "x2)进入 h1,w2、w4 进入 h2;按行编号就把 w2 和 w3 对调了,按这种连法推出的反向传播也会把 "
                    "d_w2 和 d_w3 放反。"),
                fix=_FORWARD_ZH),
        },
    ),
    Mistake(
        id="relu-instead-of-sigmoid",
        check="forward",
        frameworks=("torch",),
        activations=("sigmoid",),
        evaluate=_with_activation("relu"),
        forms=("torch.relu(in_h1) in a task that asks for sigmoid",),
        text={
            "en": MistakeText(
                name="ReLU where the task asks for sigmoid",
                explanation=(
                    "The hidden and output values differ from the reference: this task uses the sigmoid in "
                    "every neuron. ReLU does not squash values into (0, 1), and a neuron with a negative input "
                    "outputs exactly 0."),
                fix=("h1 = sigmoid(w1·x1 + w3·x2) with sigmoid(z) = 1/(1 + e^(−z)) (torch.sigmoid), "
                     "likewise h2, o1, o2")),
            "zh": MistakeText(
                name="任务要求 sigmoid,却用了 ReLU",
                explanation=(
                    "隐藏层和输出层的值与参考答案不同:这个任务每个神经元都用 sigmoid。ReLU 不会把值压缩到 "
                    "(0, 1) 之间,输入为负的神经元输出恰好是 0。"),
                fix="h1 = sigmoid(w1·x1 + w3·x2),其中 sigmoid(z) = 1/(1 + e^(−z))(torch.sigmoid),h2、o1、o2 同理"),
        },
    ),
    Mistake(
        id="sigmoid-instead-of-relu",
        check="forward",
        frameworks=("torch",),
        activations=("relu",),
        evaluate=_with_activation("sigmoid"),
        forms=("sigmoid(in_h1) left from the sigmoid version in the relu task",),
        text={
            "en": MistakeText(
                name="Sigmoid where the task asks for ReLU",
                explanation=(
                    "The hidden and output values differ from the reference: in this task every activation, "
                    "in both layers, is ReLU, relu(z) = max(0, z). A sigmoid keeps every value strictly between "
                    "0 and 1 and never outputs exactly 0."),
                fix="h1 = relu(w1·x1 + w3·x2) with relu(z) = max(0, z) (torch.relu), likewise h2, o1, o2"),
            "zh": MistakeText(
                name="任务要求 ReLU,却用了 sigmoid",
                explanation=(
                    "隐藏层和输出层的值与参考答案不同:这个任务两层的激活函数都是 ReLU,relu(z) = max(0, z)。"
                    "sigmoid 的输出总在 0 和 1 之间,永远不会恰好是 0。"),
                fix="h1 = relu(w1·x1 + w3·x2),其中 relu(z) = max(0, z)(torch.relu),h2、o1、o2 同理"),
        },
    ),
    Mistake(
        id="cross-entropy-over-one-class",
        check="loss",
        frameworks=("torch",),
        losses=("cross-entropy",),
        evaluate=_cross_entropy_one_class,
        forms=("torch.nn.CrossEntropyLoss()(torch.stack([o1, o2]), torch.stack([y1, y2]))",
               "torch.nn.CrossEntropyLoss()(o1, y1) + torch.nn.CrossEntropyLoss()(o2, y2)"),
        text={
            "en": MistakeText(
                name="CrossEntropyLoss over a class dimension of size 1: the loss is always 0",
                explanation=(
                    "The loss is 0 (printed -0.0) on every case and every gradient is 0, so the weights never "
                    "move. CrossEntropyLoss takes the softmax over dimension 1, the classes. torch.stack([o1, o2]) "
                    "stacks along dim 0 and gives shape (2, 1): two samples with one class each, and the softmax "
                    "of a single class is always 1, whose log is 0. One CrossEntropyLoss per output is the same "
                    "thing: each call sees one class."),
                fix=("E = −[y1·log s1 + y2·log s2] with s1 = e^(o1)/(e^(o1) + e^(o2)), s2 = e^(o2)/(e^(o1) + e^(o2)): "
                     "CrossEntropyLoss()(torch.stack([o1, o2], dim=1), torch.stack([y1, y2], dim=1)), "
                     "shape (1, 2): one sample, two classes")),
            "zh": MistakeText(
                name="CrossEntropyLoss 的类别维只有 1:损失永远是 0",
                explanation=(
                    "每个样例的损失都是 0(打印成 -0.0),所有梯度也都是 0,权重根本不会变。CrossEntropyLoss "
                    "在第 1 维(类别维)上做 softmax。torch.stack([o1, o2]) 默认沿第 0 维堆叠,形状是 (2, 1):"
                    "两个样本、每个只有一个类别,而只有一个类别时 softmax 恒为 1,log 1 = 0。对每个输出分别调用 "
                    "CrossEntropyLoss 也是一样:每次都只看到一个类别。"),
                fix=("E = −[y1·log s1 + y2·log s2],其中 s1 = e^(o1)/(e^(o1) + e^(o2)),s2 = e^(o2)/(e^(o1) + e^(o2)):"
                     "CrossEntropyLoss()(torch.stack([o1, o2], dim=1), torch.stack([y1, y2], dim=1)),"
                     "形状 (1, 2):一个样本、两个类别")),
        },
    ),
]

_CATALOGUE += [
    Mistake(
        id="quadratic-terms-swapped",
        check="forward",
        frameworks=("torch",),
        models=("quadratic",),
        features=_terms_swapped,
        forms=("w1 * x + w2 * x ** 2 + b",),
        fixtures=("quadratic/swapped_terms.py",),
        text={
            "en": MistakeText(
                name="Quadratic terms swapped: w1·x + w2·x² instead of w1·x² + w2·x",
                explanation=(
                    "At w1 = w2 = 1 the two forms agree, so the given case hides it; other weights show it, and "
                    "training moves w1 to where w2 should be. In the lecture w1 multiplies x² and w2 multiplies x."),
                fix="y_pred = w1·x² + w2·x + b, i.e. w1 * x ** 2 + w2 * x + b"),
            "zh": MistakeText(
                name="二次模型两项写反:w1·x + w2·x²,应为 w1·x² + w2·x",
                explanation=(
                    "在 w1 = w2 = 1 时两种写法结果相同,所以给定的算例看不出来;换成其他权重就不一样了,训练也会把 "
                    "w1 训练到 w2 应有的值。课上的模型里 w1 乘 x²,w2 乘 x。"),
                fix="y_pred = w1·x² + w2·x + b,即 w1 * x ** 2 + w2 * x + b"),
        },
    ),
    Mistake(
        id="lecture-gradients-never-zeroed",
        check="training",
        frameworks=("torch",),
        models=("linear", "quadratic"),
        lecture_train=_lecture_never_zeroed,
        forms=("l.backward(); w.data = w.data - 0.01 * w.grad.data  # no w.grad.data.zero_()",),
        fixtures=("linear/forgot_zero_grad.py",),
        text={
            "en": MistakeText(
                name="Gradients never zeroed in the training loop: each step uses the sum of all gradients so far",
                explanation=(
                    "backward() adds into w.grad, it does not overwrite it, so without zeroing every step moves by "
                    "the sum of all earlier gradients and the weights end up off (or swing and diverge)."),
                fix="after each update: w.grad.data.zero_() (for every weight)"),
            "zh": MistakeText(
                name="训练循环里梯度没有清零:每一步用的是之前所有梯度之和",
                explanation=(
                    "backward() 会把梯度累加到 w.grad 上,而不是覆盖它;不清零的话,每一步都按之前所有梯度之和"
                    "来更新,训练出的权重就会偏离(甚至振荡发散)。"),
                fix="每次更新之后:w.grad.data.zero_()(每个权重都要)"),
        },
    ),
]

MISTAKES: dict[str, Mistake] = {m.id: m for m in _CATALOGUE}
assert len(MISTAKES) == len(_CATALOGUE), "duplicate mistake id"


def applicable(framework: str, activation: str, loss: str) -> list[Mistake]:
    """The mistakes a submission of this framework can make in a task with this activation and loss."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; known: {', '.join(FRAMEWORKS)}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; known: {', '.join(LOSSES)}")
    return [m for m in MISTAKES.values() if m.applies_to(framework, activation, loss)]


def observe(check: str, x, y, w, act: str = "sigmoid", loss: str = "mse", *, step: float = 1.0,
            rounds: int = 12, grad=None, fed: bool = False, mistake: Mistake | None = None) -> dict[str, np.ndarray]:
    """The numbers `check` compares, as `mistake` computes them (the reference's when None).

    forward: h, o; loss: loss; gradients: grad (with `fed`, from the backward fed the
    reference's forward outputs, as the numpy grader probes it); update: w after one step
    from `grad` (default: the reference's gradient at w); training: the losses before each
    of `rounds` updates and the final weights.
    """
    m = mistake or REFERENCE
    if check == "gradients" and fed:
        r = net222.evaluate(x, y, w, act, loss)
        return {"grad": np.asarray(m.run_backward(x, y, w, r.h, r.o, act, loss))}
    if check == "forward":
        p = m.run_evaluate(x, y, w, act, loss)
        return {"h": np.asarray(p.h), "o": np.asarray(p.o)}
    if check == "loss":
        return {"loss": np.array([m.run_evaluate(x, y, w, act, loss).loss])}
    if check == "gradients":
        return {"grad": np.asarray(m.run_evaluate(x, y, w, act, loss).grad)}
    if check == "update":
        g = net222.evaluate(x, y, w, act, loss).grad if grad is None else np.asarray(grad, dtype=float)
        return {"w": np.asarray(m.run_update(w, g, step))}
    if check == "training":
        losses, final = m.run_train(x, y, w, step, rounds, act, loss)
        return {"losses": np.asarray(losses), "w": np.asarray(final)}
    raise ValueError(f"unknown check {check!r}; known: {', '.join(CHECKS)}")


# The right implementation in the catalogue's form (every stage None); not a mistake, not in MISTAKES.
REFERENCE = Mistake(id="reference", check="training", frameworks=FRAMEWORKS, text={})


def table(lang: str = "en") -> str:
    """A markdown table of the catalogue: id | name | check."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    head = {"en": "| id | name | check |", "zh": "| id | 名称 | 检查 |"}[lang]
    rows = [head, "| --- | --- | --- |"]
    rows += [f"| `{m.id}` | {m.text[lang].name} | {m.check} |" for m in MISTAKES.values()]
    return "\n".join(rows)
