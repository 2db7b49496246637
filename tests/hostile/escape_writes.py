# Homework 2: correct functions, plus an attempt at import to write outside its scratch
# folder. Its source arrives as text, so it only knows paths it can guess: /tmp, /root,
# the working folders of its parent processes
# (/proc/<pid>/cwd: the grader or its fork server) and every folder below it that holds
# submissions. Whatever it manages to write it announces with an exception at import.
# Safe without a sandbox: it writes only below /tmp (the grader's folder only when that is
# under /tmp), and in /root it creates one uniquely named empty file with O_EXCL and
# removes it at once.
import os

import numpy as np

MARK = "bpgrade-hostile-escape-marker"


def _create(path):
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except OSError:
        return False
    try:
        os.write(fd, b"written by a graded submission from outside its scratch folder\n")
    except OSError:
        pass
    os.close(fd)
    return True


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


def _escape():
    wrote = []
    if _create("/tmp/" + MARK):
        wrote.append("/tmp/" + MARK)
    probe = f"/root/{MARK}-{os.getpid()}"
    if _create(probe):
        wrote.append(probe)
        os.unlink(probe)
    for pid in _ancestors():
        parent = _cwd_of(pid)
        if not parent.startswith("/tmp/") or parent == os.path.realpath(os.getcwd()):
            continue  # only below /tmp: harmless when run by hand
        for depth, (folder, dirs, files) in enumerate(os.walk(parent)):
            if depth > 50:
                break
            if folder.count(os.sep) - parent.count(os.sep) >= 3:
                dirs[:] = []
            if folder == parent or any(f.endswith((".py", ".ipynb")) for f in files):
                if _create(os.path.join(folder, MARK)):
                    wrote.append(os.path.join(folder, MARK))
    if wrote:
        raise RuntimeError("HOSTI" + "LE-ESCAPE wrote " + ", ".join(wrote))


_escape()


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
    delta_h1 = (delta_o1 * w5 + delta_o2 * w6) * out_h1 * (1 - out_h1)
    delta_h2 = (delta_o1 * w7 + delta_o2 * w8) * out_h2 * (1 - out_h2)
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
