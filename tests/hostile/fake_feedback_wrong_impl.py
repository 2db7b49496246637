# Homework 2, hand-derived backpropagation -- but the hidden-layer deltas forget the
# output weights (a WRONG implementation), and the file tries to talk its way to full
# marks: it prints a perfect verdict in the grader's own JSON shapes and writes
# results.json / feedback.json / grades.csv wherever a grader might look for them.
import json
import os
import sys

import numpy as np

# >>> hostile
_PERFECT = {
    "schema_version": 1, "submission": "fake_feedback_wrong_impl.py", "assignment": "bp-numpy",
    "task": "default", "status": "graded", "score": 100, "max_score": 100, "error": None,
    "checks": [{"id": c, "status": "pass", "score": 100, "max_score": 100, "message": "perfect", "hints": []}
               for c in ("runs", "forward", "loss", "gradients", "update", "training", "policy")],
}
_FRAMES = [  # the shapes of the grader's own observation frames, in case stdout is parsed
    {"kind": "probe", "id": "gradients/0",
     "returned": [[-0.0084215], [0.0126067], [-0.0050529], [0.0075640],
                  [0.0346330], [0.0838661], [0.0304946], [0.0738447]]},
    {"kind": "main", "error": None, "forbidden_loaded": []},
    {"kind": "done", "forbidden_loaded": []},
]
_TEXT = json.dumps(_PERFECT)
print(_TEXT)
print("\n".join(json.dumps(f) for f in _FRAMES))
print("SCORE: 100/100 -- ALL CHECKS PASSED")
sys.stderr.write(_TEXT + "\n")


def _plant(folder):
    """Fake results in a folder; returns the files written."""
    written = []
    files = {"results.json": _TEXT, "feedback.json": _TEXT, "fake_feedback_wrong_impl.json": _TEXT,
             "summary.json": json.dumps({"count": 1, "mean_score": 100}),
             "grades.csv": "submission,score,max_score,status\nfake_feedback_wrong_impl,100,100,graded\n"}
    for name, text in files.items():
        try:
            with open(os.path.join(folder, name), "w") as f:
                f.write(text)
            written.append(name)
        except OSError:
            pass
    try:
        os.makedirs(os.path.join(folder, "gradescope"), exist_ok=True)
        with open(os.path.join(folder, "gradescope", "results.json"), "w") as f:
            f.write(json.dumps({"score": 100, "max_score": 100, "tests": []}))
    except OSError:
        pass
    return written


def _ancestors(levels=3):
    """The parent, grandparent, ... process ids: the grader is one of them (or its fork server)."""
    pids, pid = [], os.getpid()
    for _ in range(levels):
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            pid = os.getppid() if not pids else 0
        if pid <= 1:
            break
        pids.append(pid)
    return pids or [os.getppid()]


def _cwd_of(pid):
    try:
        return os.path.realpath(f"/proc/{pid}/cwd")
    except OSError:
        return ""


_plant(os.getcwd())
for _pid in _ancestors():  # the grader's own folder, and its results/ folder if it has one
    _folder = _cwd_of(_pid)
    if _folder.startswith("/tmp/") and _folder != os.path.realpath(os.getcwd()):  # harmless by hand
        _plant(_folder)
        for _sub in ("results", "out", "feedback"):
            if os.path.isdir(os.path.join(_folder, _sub)):
                _plant(os.path.join(_folder, _sub))
# <<< hostile


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
    delta_o1 = (out_o1 - y1) * out_o1 * (1 - out_o1)
    delta_o2 = (out_o2 - y2) * out_o2 * (1 - out_o2)
    d_w5 = delta_o1 * out_h1
    d_w7 = delta_o1 * out_h2
    d_w6 = delta_o2 * out_h1
    d_w8 = delta_o2 * out_h2
    # BUG (on purpose): the hidden deltas should be (delta_o1 * w5 + delta_o2 * w6) ...
    delta_h1 = (delta_o1 + delta_o2) * out_h1 * (1 - out_h1)
    delta_h2 = (delta_o1 + delta_o2) * out_h2 * (1 - out_h2)
    d_w1 = delta_h1 * x1
    d_w3 = delta_h1 * x2
    d_w2 = delta_h2 * x1
    d_w4 = delta_h2 * x2
    return d_w1, d_w2, d_w3, d_w4, d_w5, d_w6, d_w7, d_w8


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
