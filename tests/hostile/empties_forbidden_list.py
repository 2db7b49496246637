# Homework 2 "by hand" -- but back_propagate is torch autograd, imported as
# importlib.import_module("tor" + "ch") (no import statement names it), and at import the file
# first silences whatever would tell on it: it walks its own call stack to the grader's harness
# objects and empties every list of forbidden modules it finds there (the harness then reports
# nothing forbidden loaded), and takes every import finder that is not Python's own off
# sys.meta_path. None of that may help: the parent reads the policy from the source and from what
# the child cannot do, and torch must be unreadable in the child, so back_propagate fails: no
# policy point, no gradient points. Read-only outside its own process, so safe anywhere.
import importlib
import sys

import numpy as np


def _silence():
    """Empty the forbidden lists of the harness objects on the call stack; drop foreign import finders."""
    emptied = 0
    frame = sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            job = getattr(value, "job", None)
            for key in ("forbidden_modules", "hidden"):
                if isinstance(job, dict) and isinstance(job.get(key), list):
                    job[key].clear()
                    emptied += 1
        frame = frame.f_back
    sys.meta_path[:] = [f for f in sys.meta_path if getattr(f, "__module__", "") in ("_frozen_importlib",
                                                                                    "_frozen_importlib_external")]
    return emptied


_silence()


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):
    out_h1 = sigmoid(w1 * x1 + w3 * x2)
    out_h2 = sigmoid(w2 * x1 + w4 * x2)
    out_o1 = sigmoid(w5 * out_h1 + w7 * out_h2)
    out_o2 = sigmoid(w6 * out_h1 + w8 * out_h2)
    error = (1 / 2) * (out_o1 - y1) ** 2 + (1 / 2) * (out_o2 - y2) ** 2
    return out_o1, out_o2, out_h1, out_h2, error


def back_propagate(out_o1, out_o2, out_h1, out_h2):
    t = importlib.import_module("tor" + "ch")  # not derived by hand: autograd does it
    ws = [t.tensor(float(w), dtype=t.float64, requires_grad=True) for w in (w1, w2, w3, w4, w5, w6, w7, w8)]
    h1 = t.sigmoid(ws[0] * x1 + ws[2] * x2)
    h2 = t.sigmoid(ws[1] * x1 + ws[3] * x2)
    o1 = t.sigmoid(ws[4] * h1 + ws[6] * h2)
    o2 = t.sigmoid(ws[5] * h1 + ws[7] * h2)
    loss = 0.5 * (o1 - y1) ** 2 + 0.5 * (o2 - y2) ** 2
    loss.backward()
    return tuple(float(w.grad) for w in ws)


def update_w(step, w1, w2, w3, w4, w5, w6, w7, w8):
    w1 = w1 - step * d_w1
    w2 = w2 - step * d_w2
    w3 = w3 - step * d_w3
    w4 = w4 - step * d_w4
    w5 = w5 - step * d_w5
    w6 = w6 - step * d_w6
    w7 = w7 - step * d_w7
    w8 = w8 - step * d_w8
    return w1, w2, w3, w4, w5, w6, w7, w8


if __name__ == "__main__":
    w1, w2, w3, w4, w5, w6, w7, w8 = 0.2, -0.4, 0.5, 0.6, 0.1, -0.5, -0.3, 0.8
    x1, x2 = 0.5, 0.3
    y1, y2 = 0.23, -0.07
    step = 1
    for i in range(10):
        out_o1, out_o2, out_h1, out_h2, error = forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8)
        print("round", i, "loss", round(float(error), 6))
        d_w1, d_w2, d_w3, d_w4, d_w5, d_w6, d_w7, d_w8 = back_propagate(out_o1, out_o2, out_h1, out_h2)
        w1, w2, w3, w4, w5, w6, w7, w8 = update_w(step, w1, w2, w3, w4, w5, w6, w7, w8)
