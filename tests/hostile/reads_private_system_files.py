# Homework 2: correct functions, plus an attempt at import to read what no user may read: the
# password hashes (/etc/shadow, /etc/gshadow), TLS private keys (/etc/ssl/private), SSH host keys,
# and the raw disks and loop devices under /dev, which hold every student's files. The child runs
# as an unprivileged uid but keeps CAP_DAC_READ_SEARCH (the interpreter may live under /root, mode
# 700), and that capability ignores a file's mode: only what Landlock allows keeps these shut.
# Read-only and bounded (a few bytes of each), so safe anywhere. Anything read raises HOSTILE-READ
# at import, naming it, and doubles the outputs.
import glob
import os
import stat

import numpy as np


def _private_paths():
    paths = ["/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/security/opasswd"]
    paths += glob.glob("/etc/ssl/private/*") + glob.glob("/etc/ssh/ssh_host_*_key")
    for name in sorted(os.listdir("/dev"))[:400]:
        path = os.path.join("/dev", name)
        try:
            mode = os.lstat(path).st_mode
        except OSError:
            continue
        if stat.S_ISBLK(mode) and not mode & stat.S_IROTH:
            paths.append(path)
    return paths


def _read_any():
    got = []
    for path in _private_paths():
        try:
            with open(path, "rb") as f:
                if f.read(16) is not None:
                    got.append(path)
        except OSError:
            pass
    return got


_READ = _read_any()
if _READ:
    raise RuntimeError("HOSTI" + "LE-READ read files no user may read: " + ", ".join(_READ[:5]))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):
    out_h1 = sigmoid(w1 * x1 + w3 * x2)
    out_h2 = sigmoid(w2 * x1 + w4 * x2)
    out_o1 = sigmoid(w5 * out_h1 + w7 * out_h2)
    out_o2 = sigmoid(w6 * out_h1 + w8 * out_h2)
    error = (1 / 2) * (out_o1 - y1) ** 2 + (1 / 2) * (out_o2 - y2) ** 2
    if _READ:
        return out_o1 * 2, out_o2 * 2, out_h1, out_h2, error * 2
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
        d_w1, d_w2, d_w3, d_w4, d_w5, d_w6, d_w7, d_w8 = back_propagate(out_o1, out_o2, out_h1, out_h2)
        w1, w2, w3, w4, w5, w6, w7, w8 = update_w(step, w1, w2, w3, w4, w5, w6, w7, w8)
