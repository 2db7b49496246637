# Homework 2: correct functions, and at import it tries to fill the disk with many files, each
# under the file-size limit (32 MiB each, below RLIMIT_FSIZE's 64 MiB), up to 1 GiB in all: no
# per-file limit stops that (about 1 GB/s on a disk). The scratch folder's own size limit must
# stop it early; 512 MiB or more written raises a HOSTILE- sentinel. It writes only when its
# folder is a scratch folder (cwd, HOME and TMPDIR the same folder, and not a home) and deletes
# what it wrote, so running it by hand is harmless. Stopped, its honest functions get full marks.
import os

import numpy as np

_CHUNK = b"\0" * (32 << 20)
_MOST, _TOO_MUCH = 1 << 30, 512 << 20


def _in_scratch():
    here = os.path.realpath(os.getcwd())
    same = here == os.path.realpath(os.environ.get("HOME", "/")) == os.path.realpath(os.environ.get("TMPDIR", "/"))
    return same and os.path.basename(here).startswith("bpgrade-")


def _fill():
    """Bytes written before the disk (or the limit) said no."""
    written, names = 0, []
    try:
        while written < _MOST:
            names.append(f"bpgrade-hostile-fill-{len(names)}")
            with open(names[-1], "wb") as f:
                f.write(_CHUNK)
            written += len(_CHUNK)
    except OSError:
        pass  # no space left: the limit held
    for name in names:
        try:
            os.unlink(name)
        except OSError:
            pass
    return written


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


_WRITTEN = _fill() if _in_scratch() else 0
if _WRITTEN >= _TOO_MUCH:
    raise RuntimeError(f"HOSTILE-DISK: wrote {_WRITTEN >> 20} MiB in files under the size limit")


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
