"""What each sandbox layer costs per child, measured in forked children like the grader's.

    .venv/bin/python benchmarks/bench_layers.py [--runs 30]

Each run forks a child from this (pre-imported) process and times, in the child, the
layers in the order the harness applies them; the parent prints the medians in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "grader"))
import confine  # noqa: E402
import harness  # noqa: E402


def one_child() -> dict[str, float]:
    r, w = os.pipe()
    scratch = tempfile.mkdtemp(prefix="bpgrade-bench-")
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        times = {"fork": (time.perf_counter() - t0) * 1000}
        for name, layer in [("network namespace", harness.isolate_network),
                            ("rlimits", lambda: harness.apply_limits({"cpu_seconds": 60, "memory_mib": 3072,
                                                                      "file_bytes": 1 << 26, "open_files": 512})),
                            ("landlock", lambda: confine.restrict_files(scratch, [])),
                            ("seccomp", confine.restrict_syscalls)]:
            t = time.perf_counter()
            ok = layer()
            times[name] = (time.perf_counter() - t) * 1000 if ok is not False else float("nan")
        os.write(w, json.dumps(times).encode())
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 4096):
        data += chunk
    os.close(r)
    os.waitpid(pid, 0)
    os.rmdir(scratch)
    return json.loads(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    harness.preload("torch")
    confine.readable_roots(())  # as the fork server does: the children inherit the list
    runs = [one_child() for _ in range(args.runs)]
    print(f"| layer | median ms per child ({args.runs} children, {os.cpu_count()} cores) |")
    print("| --- | --- |")
    for name in runs[0]:
        print(f"| {name} | {statistics.median(r[name] for r in runs):.2f} |")


if __name__ == "__main__":
    main()
