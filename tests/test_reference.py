"""The reference is proved three ways: hand derivation (numpy) = torch autograd = finite differences,
and it reproduces every figure the homework prints (tests/homework_figures.toml: the independent cross-check)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from grader.spec import load_all, load_assignment
from reference import autograd, net222
from reference.lecture import LINEAR, QUADRATIC
from reference.models import MODELS

X, Y = [0.5, 0.3], [0.23, -0.07]
W = [0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8]
COMBOS = [(a, l) for a in net222.ACTIVATIONS for l in net222.LOSSES]
FIGURES = tomllib.loads((Path(__file__).with_name("homework_figures.toml")).read_text(encoding="utf-8"))
NET = net222.MODEL
BIAS = MODELS["net222-bias"]
B = [0.35, 0.35, 0.60, 0.60]  # b1, b2 (h1, h2), b3, b4 (o1, o2): bp-bias's given biases
LECTURE = {"linear": LINEAR, "quadratic": QUADRATIC}


def ho(p) -> tuple[list[float], list[float]]:
    """A 2-2-2 pass's hidden and output values."""
    return [p.outputs["out_h1"], p.outputs["out_h2"]], [p.outputs["out_o1"], p.outputs["out_o2"]]


# each 2-2-2 model, its given parameters and its torch re-derivation
NETS = {"net222": (W, autograd.evaluate), "net222-bias": (W + B, autograd.evaluate_bias)}


def random_cases(model: str, n: int, act: str):
    m, rng = MODELS[model], np.random.default_rng(7)
    found = 0
    while found < n:
        x, y, w = rng.uniform(-1, 1, 2), rng.uniform(0.05, 0.95, 2), rng.uniform(-1, 1, len(m.params))
        p = m.evaluate(x, y, w, act)
        if act == "relu" and np.min(np.abs(p.z)) < 1e-3:
            continue  # stay off the kink, where the derivative is a convention
        found += 1
        yield x, y, w


def slopes(m, x, y, w, act: str = "sigmoid", loss: str = "mse", h: float = 1e-6) -> list[float]:
    """dE/dparam by central differences of the model's own loss."""
    w = np.asarray(w, dtype=float)
    numeric = []
    for i in range(len(w)):
        up, down = w.copy(), w.copy()
        up[i] += h
        down[i] -= h
        numeric.append((m.evaluate(x, y, up, act, loss).loss - m.evaluate(x, y, down, act, loss).loss) / (2 * h))
    return numeric


@pytest.mark.parametrize("model", NETS)
@pytest.mark.parametrize("act,loss", COMBOS)
def test_hand_derivation_equals_autograd(model: str, act: str, loss: str):
    given, torch_version = NETS[model]
    for x, y, w in [(X, Y, given), *random_cases(model, 20, act)]:
        mine, theirs = MODELS[model].evaluate(x, y, w, act, loss), torch_version(x, y, w, act, loss)
        np.testing.assert_allclose(ho(mine), ho(theirs), rtol=1e-12, atol=1e-14)
        assert mine.loss == pytest.approx(theirs.loss, rel=1e-12, abs=1e-14)
        np.testing.assert_allclose(mine.grad, theirs.grad, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("model", NETS)
@pytest.mark.parametrize("act,loss", COMBOS)
def test_hand_derivation_equals_finite_differences(model: str, act: str, loss: str):
    m, (given, _) = MODELS[model], NETS[model]
    for x, y, w in [(X, Y, given), *random_cases(model, 10, act)]:
        np.testing.assert_allclose(m.evaluate(x, y, w, act, loss).grad, slopes(m, x, y, w, act, loss), atol=1e-7)


@pytest.mark.parametrize("model,params", [("linear", [1.3]), ("quadratic", [0.7, -1.2, 0.4])])
def test_lecture_gradient_three_ways(model: str, params: list[float]):
    m = LECTURE[model]
    for x, y in [(1.0, 2.0), (2.5, -1.0), (-3.0, 6.0)]:
        mine = m.evaluate([x], [y], params).grad
        np.testing.assert_allclose(mine, autograd.lecture_gradient(model, params, x, y), rtol=1e-12)
        np.testing.assert_allclose(mine, slopes(m, [x], [y], params), atol=1e-6)


def test_homework_figures_of_the_222_network():
    p = NET.evaluate(X, Y, W)
    h, o = ho(p)
    f = FIGURES["net222"]
    np.testing.assert_allclose(o, f["o"], atol=5e-8)
    np.testing.assert_allclose(h, f["h"], atol=5e-8)
    assert p.loss == pytest.approx(f["loss"], abs=5e-8)
    np.testing.assert_allclose(p.grad, f["grad"], atol=5e-8)
    losses, _ = NET.train([(X, Y)], W, 1.0, 11)
    assert losses[9] == pytest.approx(f["loss_round_10"], abs=5e-8)  # the 10th evaluation, "round 10" in the seeds
    assert losses[10] == pytest.approx(f["loss_after_10"], abs=5e-8)  # after 10 updates
    _, w = NET.train([(X, Y)], W, 1.0, 1000)
    np.testing.assert_allclose(w, f["w_after_1000"], atol=5e-5)
    _, w32 = autograd.train(X, Y, W, 1.0, 1000, dtype=torch.float32)
    np.testing.assert_allclose(w32, w, atol=1e-3)  # what the seeds' float32 program printed


def test_homework_figures_of_the_tasks():
    f = FIGURES["tasks"]
    relu = NET.evaluate(X, Y, W, "relu")
    assert relu.loss == pytest.approx(f["relu_loss"], abs=5e-8)
    np.testing.assert_allclose(ho(relu)[1], f["relu_o"], atol=1e-12)
    assert NET.evaluate(X, Y, W, loss="mse-mean").loss == NET.evaluate(X, Y, W).loss
    assert NET.evaluate(X, Y, W, loss="cross-entropy").loss == pytest.approx(f["cross_entropy_loss"], abs=5e-8)
    _, w = NET.train([(X, Y)], W, 1.0, 1000, loss="cross-entropy")
    assert w[4] == pytest.approx(f["cross_entropy_w5_after_1000"], abs=5e-5)


@pytest.mark.parametrize("loss", net222.LOSSES)
def test_zero_init_stays_symmetric(loss: str):
    for w in (NET.train([(X, Y)], [0.0] * 8, 1.0, 200, loss=loss)[1], autograd.train(X, Y, [0.0] * 8, 1.0, 200, loss=loss)[1]):
        assert w[0] == pytest.approx(w[1], abs=1e-12) and w[2] == pytest.approx(w[3], abs=1e-12)
        assert w[0] != 0.0


def test_homework_figures_of_the_lecture():
    f = FIGURES["lecture"]
    w32 = autograd.lecture_train("linear", [1.0], [1, 2, 3], [2, 4, 6], 0.01, 300)
    assert w32[0] == pytest.approx(f["linear_w"], abs=1e-7)
    assert (4 * torch.tensor(w32, dtype=torch.float32)).item() == pytest.approx(f["linear_at_4"], abs=1e-6)
    data = [([1.0], [2.0]), ([2.0], [4.0]), ([3.0], [6.0])]
    _, w = LINEAR.train(data, [1.0], 0.01, 300)
    assert w[0] == pytest.approx(f["linear_w"], abs=1e-6)
    _, q = QUADRATIC.train(data, [1.0, 1.0, 1.0], 0.01, 300)
    np.testing.assert_allclose(q, f["quadratic_w"], atol=5e-6)
    assert QUADRATIC.forward([4.0], [0.0], q)[0]["y_pred"] == pytest.approx(f["quadratic_at_4"], abs=5e-6)
    np.testing.assert_allclose(autograd.lecture_train("quadratic", [1.0, 1.0, 1.0], [1, 2, 3], [2, 4, 6], 0.01, 300),
                               q, atol=1e-5)


@pytest.mark.parametrize("aid", ["bp-numpy", "bp-torch"])
def test_given_cases_are_the_homework_numbers(aid: str):
    g = load_assignment(aid).given
    assert (g.inputs, g.targets, g.weights) == (X, Y, W)


def test_bp_bias_gives_the_homework_numbers_and_its_biases():
    g = load_assignment("bp-bias").given
    assert (g.inputs, g.targets, g.weights, g.step) == (X, Y, W + B, 1.0)


def test_lecture_given_data():
    for aid, start in (("linear", [1.0]), ("quadratic", [1.0, 1.0, 1.0])):
        g = load_assignment(aid).given
        assert (g.data_x, g.data_y, g.weights, g.step) == ([1, 2, 3], [2, 4, 6], start, 0.01)


# ---------------------------------------------------------------- the model protocol


@pytest.mark.parametrize("mid", sorted(MODELS))
def test_every_model_names_what_the_grader_asks(mid: str):
    m = MODELS[mid]
    assert m.id == mid and "error" in m.outputs and set(m.fed) <= set(m.outputs)
    assert {n for u in m.hidden for n in u.params} <= set(m.params)
    assert len({len(u.incoming) for u in m.hidden}) <= 1, "units correspond position by position"
    rng = np.random.default_rng(5)
    x, y, w = rng.uniform(-1, 1, len(m.inputs)), rng.uniform(0.1, 0.9, len(m.targets)), rng.uniform(-1, 1, len(m.params))
    p = m.evaluate(x, y, w)
    assert set(p.outputs) == set(m.outputs) and len(p.grad) == len(m.params)
    np.testing.assert_array_equal(m.backward(x, y, w, {k: p.outputs[k] for k in m.fed}), p.grad)


@pytest.mark.parametrize("aid", sorted(load_all()))
def test_every_assignment_names_its_models_values(aid: str):
    a = load_all()[aid]
    m = MODELS[a.model]
    assert (tuple(a.inputs), tuple(a.targets), tuple(a.weights)) == (m.inputs, m.targets, m.params)


def test_a_unit_of_the_222_net_is_its_weights_in_and_out():
    assert [(u.name, u.incoming, u.outgoing) for u in NET.hidden] == [
        ("h1", ("w1", "w3"), ("w5", "w6")), ("h2", ("w2", "w4"), ("w7", "w8"))]
    # a dead unit (relu, negative input) gets a zero gradient on exactly those weights
    w = [-1.0, 0.4, -1.0, 0.6, 0.1, -0.5, 0.3, 0.8]  # h1 = relu(-0.8) = 0; h2, o1, o2 > 0
    p = NET.evaluate(X, Y, w, "relu")
    assert [n for n, g in zip(NET.params, p.grad) if g == 0.0] == ["w1", "w3", "w5", "w6"]


def test_an_assignment_naming_an_unknown_model_or_other_names_is_refused():
    raw = load_assignment("bp-numpy").model_dump()
    for change, message in (({"model": "net333"}, "unknown model 'net333'"),
                            ({"weights": raw["weights"][::-1]}, "weights must be the model net222's"),
                            ({"roles": {**raw["roles"], "forward": {**raw["roles"]["forward"],
                                                                    "outputs": ["o1", "o2", "error"]}}},
                             "roles.forward outputs o1, o2")):
        with pytest.raises(ValueError, match=message):
            type(load_assignment("bp-numpy")).model_validate({**raw, **change})


# ---------------------------------------------------------------- the network with biases (bp-bias)


def test_the_biased_net_with_zero_biases_is_the_homework_net():
    for x, y, w in [(X, Y, W + B), *random_cases("net222-bias", 10, "sigmoid")]:
        no_bias = NET.evaluate(x, y, w[:8])
        p = BIAS.evaluate(x, y, [*w[:8], 0.0, 0.0, 0.0, 0.0])
        assert p.outputs == no_bias.outputs
        np.testing.assert_array_equal(p.grad[:8], no_bias.grad)


def test_a_bias_gradient_is_its_units_delta():
    """Each weight's gradient is the delta of the unit it enters times what it carries; a bias carries 1."""
    for x, y, w in [(X, Y, W + B), *random_cases("net222-bias", 10, "sigmoid")]:
        p = BIAS.evaluate(x, y, w)
        d = dict(zip(BIAS.params, p.grad))
        h1, h2 = ho(p)[0]
        assert d["w5"] == pytest.approx(d["b3"] * h1, rel=1e-12) and d["w8"] == pytest.approx(d["b4"] * h2, rel=1e-12)
        assert d["w1"] == pytest.approx(d["b1"] * x[0], rel=1e-12) and d["w4"] == pytest.approx(d["b2"] * x[1], rel=1e-12)
    assert [(u.name, u.incoming, u.outgoing) for u in BIAS.hidden] == [
        ("h1", ("w1", "w3", "b1"), ("w5", "w6")), ("h2", ("w2", "w4", "b2"), ("w7", "w8"))]
