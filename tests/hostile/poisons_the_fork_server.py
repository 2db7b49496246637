# Homework 2: correct functions, and at import an attack on the process that forks it (the fork
# server, or the grader itself when started fresh) and on the grader above it: it sets their
# limits, nice value, scheduling class, CPU affinity and I/O priority (prlimit64, setpriority,
# sched_setscheduler, sched_setaffinity, ioprio_set), as a file that wants every later verdict
# of the batch to go wrong would (a hard RLIMIT_FSIZE of 0 kills every later child at start).
# Each change here is mild and harmless to a test run (no core dumps, nice +1, SCHED_BATCH, the
# first CPU only, the lowest best-effort I/O priority), so the file is safe without a sandbox.
# In the sandbox every call must be refused (another uid; seccomp allows them only on the child
# itself); one that is not makes the file raise a HOSTILE- sentinel. Refused, its honest
# functions get full marks.
import ctypes
import os
import platform
import resource

import numpy as np

_IOPRIO_SET = {"x86_64": 251, "aarch64": 30}.get(platform.machine())
_IOPRIO_WHO_PROCESS, _IOPRIO_BEST_EFFORT_LOWEST = 1, (2 << 13) | 7


def _targets():
    """The parent (the fork server, or the grader) and, where /proc shows it, the grandparent (the grader)."""
    pids = [os.getppid()]
    try:
        with open(f"/proc/{pids[0]}/stat") as f:
            pids.append(int(f.read().rsplit(")", 1)[1].split()[1]))
    except (OSError, ValueError, IndexError):
        pass
    return [p for p in pids if p > 1]


def _ioprio(pid):
    libc = ctypes.CDLL(None, use_errno=True)
    if _IOPRIO_SET is None or libc.syscall(_IOPRIO_SET, _IOPRIO_WHO_PROCESS, pid, _IOPRIO_BEST_EFFORT_LOWEST) != 0:
        raise OSError(ctypes.get_errno(), "ioprio_set refused")


def _poison(pid):
    """What the kernel let this process change in process `pid`."""
    attacks = {
        "prlimit": lambda: resource.prlimit(pid, resource.RLIMIT_CORE, (0, 0)),
        "setpriority": lambda: os.setpriority(os.PRIO_PROCESS, pid, min(19, os.getpriority(os.PRIO_PROCESS, pid) + 1)),
        "sched_setscheduler": lambda: os.sched_setscheduler(pid, os.SCHED_BATCH, os.sched_param(0)),
        "sched_setaffinity": lambda: os.sched_setaffinity(pid, {min(os.sched_getaffinity(pid))}),
        "ioprio_set": lambda: _ioprio(pid),
    }
    done = []
    for name, attack in attacks.items():
        try:
            attack()
        except OSError:
            continue  # refused, as it must be
        done.append(name)
    return done


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


_POISONED = {pid: done for pid in _targets() if (done := _poison(pid))}
if _POISONED:
    raise RuntimeError(f"HOSTILE-POISON: changed {_POISONED}")


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
