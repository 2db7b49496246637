# Homework 2: correct functions, and at import it leaves a file the grader cannot delete: it
# writes 4 MiB to bpgrade-hostile-immutable in its working folder and flags it immutable
# (chattr +i: the FS_IOC_SETFLAGS ioctl, which needs CAP_LINUX_IMMUTABLE). A root child could,
# and the scratch clean-up then failed silently, leaving the file on disk (256 MiB a run in the
# attack this stands for). Done only when its folder is a scratch folder (cwd, HOME and TMPDIR
# the same folder, and not a home), so running it by hand is harmless. In the sandbox the flag
# must be refused (the child has no such capability); a flag that holds raises a HOSTILE-
# sentinel. Refused, its honest functions get full marks, and no such file may remain anywhere.
import fcntl
import os
import struct

import numpy as np

_NAME = "bpgrade-hostile-immutable"
_FS_IOC_GETFLAGS, _FS_IOC_SETFLAGS, _FS_IMMUTABLE_FL = 0x80086601, 0x40086602, 0x10


def _in_scratch():
    here = os.path.realpath(os.getcwd())
    same = here == os.path.realpath(os.environ.get("HOME", "/")) == os.path.realpath(os.environ.get("TMPDIR", "/"))
    return same and os.path.basename(here).startswith("bpgrade-")


def _immutable():
    """Whether the file could be made immutable."""
    with open(_NAME, "wb") as f:
        f.write(b"\0" * (4 << 20))
    fd = os.open(_NAME, os.O_RDONLY)
    try:
        flags = struct.unpack("l", fcntl.ioctl(fd, _FS_IOC_GETFLAGS, struct.pack("l", 0)))[0]
        fcntl.ioctl(fd, _FS_IOC_SETFLAGS, struct.pack("l", flags | _FS_IMMUTABLE_FL))
    except OSError:
        return False  # refused, as it must be (or a file system without the flag)
    finally:
        os.close(fd)
    return True


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


if _in_scratch() and _immutable():
    raise RuntimeError(f"HOSTILE-IMMUTABLE: {os.path.abspath(_NAME)} cannot be deleted")


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
