"""The same models recomputed with torch autograd, built the way students build them.

Only the tests import this: it is the independent cross-check of the hand derivations
in `net222.py`, `net222_bias.py` and `lecture.py` (the grader's parent never imports torch).
"""

from __future__ import annotations

import numpy as np
import torch

from .model import Pass


def _loss(o1: torch.Tensor, o2: torch.Tensor, y1: torch.Tensor, y2: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "mse":
        return 0.5 * (o1 - y1) ** 2 + 0.5 * (o2 - y2) ** 2
    if kind == "mse-mean":
        return torch.nn.MSELoss()(torch.cat([o1, o2]), torch.cat([y1, y2]))
    if kind == "cross-entropy":
        return torch.nn.CrossEntropyLoss()(torch.stack([o1, o2], 1), torch.stack([y1, y2], 1))
    raise ValueError(f"unknown loss {kind!r}")


def evaluate(x, y, w, act: str = "sigmoid", loss: str = "mse", dtype: torch.dtype = torch.float64) -> Pass:
    """Forward with [1]-shaped tensors as in the seeds, then backward() for the 8 gradients."""
    f = torch.sigmoid if act == "sigmoid" else torch.relu
    x1, x2, y1, y2 = (torch.tensor([float(v)], dtype=dtype) for v in (*x, *y))
    ws = [torch.tensor([float(v)], dtype=dtype, requires_grad=True) for v in w]
    w1, w2, w3, w4, w5, w6, w7, w8 = ws
    h1, h2 = f(w1 * x1 + w3 * x2), f(w2 * x1 + w4 * x2)
    o1, o2 = f(w5 * h1 + w7 * h2), f(w6 * h1 + w8 * h2)
    e = _loss(o1, o2, y1, y2, loss)
    e.sum().backward()
    outputs = {"out_o1": o1.item(), "out_o2": o2.item(), "out_h1": h1.item(), "out_h2": h2.item(),
               "error": float(e.sum().item())}
    return Pass(outputs=outputs, grad=np.array([_grad(v).item() for v in ws]))


def evaluate_bias(x, y, w, act: str = "sigmoid", loss: str = "mse", dtype: torch.dtype = torch.float64) -> Pass:
    """The network with a bias per unit (bp-bias): w1..w8 then b1..b4, and backward() for their 12 gradients."""
    f = torch.sigmoid if act == "sigmoid" else torch.relu
    x1, x2, y1, y2 = (torch.tensor([float(v)], dtype=dtype) for v in (*x, *y))
    ps = [torch.tensor([float(v)], dtype=dtype, requires_grad=True) for v in w]
    w1, w2, w3, w4, w5, w6, w7, w8, b1, b2, b3, b4 = ps
    h1, h2 = f(w1 * x1 + w3 * x2 + b1), f(w2 * x1 + w4 * x2 + b2)
    o1, o2 = f(w5 * h1 + w7 * h2 + b3), f(w6 * h1 + w8 * h2 + b4)
    e = _loss(o1, o2, y1, y2, loss)
    e.sum().backward()
    outputs = {"out_o1": o1.item(), "out_o2": o2.item(), "out_h1": h1.item(), "out_h2": h2.item(),
               "error": float(e.sum().item())}
    return Pass(outputs=outputs, grad=np.array([_grad(v).item() for v in ps]))


def train(x, y, w, step: float, rounds: int, act: str = "sigmoid", loss: str = "mse",
          dtype: torch.dtype = torch.float64) -> tuple[list[float], np.ndarray]:
    """The seeds' loop: loss, backward(), w.data -= step * w.grad.data, zero every gradient."""
    f = torch.sigmoid if act == "sigmoid" else torch.relu
    x1, x2, y1, y2 = (torch.tensor([float(v)], dtype=dtype) for v in (*x, *y))
    ws = [torch.tensor([float(v)], dtype=dtype, requires_grad=True) for v in w]
    losses = []
    for _ in range(rounds):
        w1, w2, w3, w4, w5, w6, w7, w8 = ws
        h1, h2 = f(w1 * x1 + w3 * x2), f(w2 * x1 + w4 * x2)
        e = _loss(f(w5 * h1 + w7 * h2), f(w6 * h1 + w8 * h2), y1, y2, loss).sum()
        e.backward()
        losses.append(e.item())
        for v in ws:
            v.data = v.data - step * _grad(v).data
            _grad(v).data.zero_()
    return losses, np.array([v.item() for v in ws])


def _lecture_predict(model: str, params: list[torch.Tensor], x: float) -> torch.Tensor:
    if model == "linear":
        return x * params[0]
    w1, w2, b = params
    return w1 * (x ** 2) + w2 * x + b


def lecture_gradient(model: str, params, x: float, y: float, dtype: torch.dtype = torch.float64) -> np.ndarray:
    ps = [torch.tensor([float(v)], dtype=dtype, requires_grad=True) for v in params]
    ((_lecture_predict(model, ps, x) - y) ** 2).sum().backward()
    return np.array([_grad(p).item() for p in ps])


def lecture_train(model: str, params, xs, ys, step: float, updates: int,
                  dtype: torch.dtype = torch.float32) -> np.ndarray:
    """Seed 003's loop: per sample, loss, backward(), .data update, zero_()."""
    ps = [torch.tensor([float(v)], dtype=dtype, requires_grad=True) for v in params]
    for k in range(updates):
        x, y = xs[k % len(xs)], ys[k % len(ys)]
        ((_lecture_predict(model, ps, x) - y) ** 2).sum().backward()
        for p in ps:
            p.data = p.data - step * _grad(p).data
            _grad(p).data.zero_()
    return np.array([p.item() for p in ps])


def _grad(v: torch.Tensor) -> torch.Tensor:
    """A leaf's gradient after backward(), which every leaf here gets."""
    assert v.grad is not None
    return v.grad
