"""The reference is proved three ways: hand derivation (numpy) = torch autograd = finite differences,
and it reproduces every figure of SPEC.md §1 (typed here only as that independent cross-check)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from grader.spec import load_assignment
from reference import autograd, lecture, net222

X, Y = [0.5, 0.3], [0.23, -0.07]
W = [0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8]
COMBOS = [(a, l) for a in net222.ACTIVATIONS for l in net222.LOSSES]


def random_cases(n: int, act: str):
    rng = np.random.default_rng(7)
    found = 0
    while found < n:
        x, y, w = rng.uniform(-1, 1, 2), rng.uniform(0.05, 0.95, 2), rng.uniform(-1, 1, 8)
        p = net222.evaluate(x, y, w, act)
        if act == "relu" and np.min(np.abs(p.z)) < 1e-3:
            continue  # stay off the kink, where the derivative is a convention
        found += 1
        yield x, y, w


@pytest.mark.parametrize("act,loss", COMBOS)
def test_hand_derivation_equals_autograd(act: str, loss: str):
    for x, y, w in [(X, Y, W), *random_cases(20, act)]:
        mine, theirs = net222.evaluate(x, y, w, act, loss), autograd.evaluate(x, y, w, act, loss)
        np.testing.assert_allclose(mine.o, theirs.o, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(mine.h, theirs.h, rtol=1e-12, atol=1e-14)
        assert mine.loss == pytest.approx(theirs.loss, rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(mine.grad, theirs.grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("act,loss", COMBOS)
def test_hand_derivation_equals_finite_differences(act: str, loss: str):
    h = 1e-6
    for x, y, w in [(X, Y, W), *random_cases(10, act)]:
        w = np.asarray(w, dtype=float)
        numeric = []
        for i in range(8):
            up, down = w.copy(), w.copy()
            up[i] += h
            down[i] -= h
            numeric.append((net222.evaluate(x, y, up, act, loss).loss - net222.evaluate(x, y, down, act, loss).loss) / (2 * h))
        np.testing.assert_allclose(net222.evaluate(x, y, w, act, loss).grad, numeric, atol=1e-7)


@pytest.mark.parametrize("model,params", [("linear", [1.3]), ("quadratic", [0.7, -1.2, 0.4])])
def test_lecture_gradient_three_ways(model: str, params: list[float]):
    h = 1e-6
    for x, y in [(1.0, 2.0), (2.5, -1.0), (-3.0, 6.0)]:
        mine = lecture.gradient(model, np.array(params), x, y)
        np.testing.assert_allclose(mine, autograd.lecture_gradient(model, params, x, y), rtol=1e-12)
        for i in range(len(params)):
            up, down = np.array(params, dtype=float), np.array(params, dtype=float)
            up[i] += h
            down[i] -= h
            fd = (lecture.loss(model, up, x, y) - lecture.loss(model, down, x, y)) / (2 * h)
            assert mine[i] == pytest.approx(fd, abs=1e-6)


def test_spec_figures_of_the_222_network():
    p = net222.evaluate(X, Y, W)
    np.testing.assert_allclose(p.o, [0.4769458, 0.5286964], atol=5e-8)
    np.testing.assert_allclose(p.h, [0.5621765, 0.4950002], atol=5e-8)
    assert p.loss == pytest.approx(0.2097098, abs=5e-8)
    np.testing.assert_allclose(p.grad, [-0.0084215, 0.0126067, -0.0050529, 0.0075640,
                                        0.0346330, 0.0838661, 0.0304946, 0.0738447], atol=5e-8)
    losses, _ = net222.train(X, Y, W, 1.0, 11)
    assert losses[9] == pytest.approx(0.1108230, abs=5e-8)  # the 10th evaluation, "round 10" in the seeds
    assert losses[10] == pytest.approx(0.1037546, abs=5e-8)  # after 10 updates
    _, w = net222.train(X, Y, W, 1.0, 1000)
    np.testing.assert_allclose(w, [1.6515, 0.1770, 1.3709, 0.9462, -0.7798, -4.2741, -1.0236, -2.1999], atol=5e-5)
    _, w32 = autograd.train(X, Y, W, 1.0, 1000, dtype=torch.float32)
    np.testing.assert_allclose(w32, w, atol=1e-3)  # what the seeds' float32 program printed


def test_spec_figures_of_the_tasks():
    relu = net222.evaluate(X, Y, W, "relu")
    assert relu.loss == pytest.approx(0.0234625, abs=5e-8)
    np.testing.assert_allclose(relu.o, [0.025, 0.0], atol=1e-12)
    assert net222.evaluate(X, Y, W, loss="mse-mean").loss == net222.evaluate(X, Y, W).loss
    assert net222.evaluate(X, Y, W, loss="cross-entropy").loss == pytest.approx(0.1187197, abs=5e-8)
    _, w = net222.train(X, Y, W, 1.0, 1000, loss="cross-entropy")
    assert w[4] == pytest.approx(3.8104, abs=5e-5)


@pytest.mark.parametrize("impl", [net222, autograd])
@pytest.mark.parametrize("loss", net222.LOSSES)
def test_zero_init_stays_symmetric(impl, loss: str):
    _, w = impl.train(X, Y, [0.0] * 8, 1.0, 200, loss=loss)
    assert w[0] == pytest.approx(w[1], abs=1e-12) and w[2] == pytest.approx(w[3], abs=1e-12)
    assert w[0] != 0.0


def test_spec_figures_of_the_lecture():
    w32 = autograd.lecture_train("linear", [1.0], [1, 2, 3], [2, 4, 6], 0.01, 300)
    assert w32[0] == pytest.approx(1.9999996, abs=1e-7)
    assert (4 * torch.tensor(w32, dtype=torch.float32)).item() == pytest.approx(7.9999986, abs=1e-6)
    w = lecture.train("linear", np.array([1.0]), [1, 2, 3], [2, 4, 6], 0.01, 300)
    assert w[0] == pytest.approx(1.9999996, abs=1e-6)
    q = lecture.train("quadratic", np.array([1.0, 1.0, 1.0]), [1, 2, 3], [2, 4, 6], 0.01, 300)
    np.testing.assert_allclose(q, [0.240382, 0.926677, 0.991354], atol=5e-6)
    assert lecture.predict("quadratic", q, 4) == pytest.approx(8.544171, abs=5e-6)
    np.testing.assert_allclose(autograd.lecture_train("quadratic", [1.0, 1.0, 1.0], [1, 2, 3], [2, 4, 6], 0.01, 300),
                               q, atol=1e-5)


@pytest.mark.parametrize("aid", ["bp-numpy", "bp-torch"])
def test_given_cases_are_the_homework_numbers(aid: str):
    g = load_assignment(aid).given
    assert (g.inputs, g.targets, g.weights) == (X, Y, W)


def test_lecture_given_data():
    for aid, start in (("linear", [1.0]), ("quadratic", [1.0, 1.0, 1.0])):
        g = load_assignment(aid).given
        assert (g.data_x, g.data_y, g.weights, g.step) == ([1, 2, 3], [2, 4, 6], start, 0.01)
