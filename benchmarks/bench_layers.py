"""What each sandbox layer costs per child, measured in forked children like the grader's.

    .venv/bin/python benchmarks/bench_layers.py [--runs 30]

Each run forks a child from this process, prepared as the fork server prepares itself
(pre-imported, Landlock paths held open, seccomp filter compiled), and times in the child the layers in the order the
harness applies them, then the exit. Twice: before and after the server's memory is backed
by huge pages (forkserver._huge_pages). The parent prints the medians in ms.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grader.child import boot, confine, forkserver  # noqa: E402


def one_child() -> dict[str, float]:
    r, w = os.pipe()
    scratch = tempfile.mkdtemp(prefix="bpgrade-bench-")
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        times = {"fork": (time.perf_counter() - t0) * 1000}
        for name, layer in [("network namespace", boot.isolate_network),
                            ("rlimits", lambda: boot.apply_limits({"cpu_seconds": 60, "memory_mib": 3072,
                                                                      "file_bytes": 1 << 26, "open_files": 512})),
                            ("landlock", lambda: confine.restrict_files(scratch, [])),
                            ("seccomp", confine.restrict_syscalls)]:
            t = time.perf_counter()
            ok = layer()
            times[name] = (time.perf_counter() - t) * 1000 if ok is not False else float("nan")
        os.write(w, json.dumps(times).encode())
        os.close(w)
        os._exit(0)
    os.close(w)
    data = b""
    while chunk := os.read(r, 4096):
        data += chunk
    os.close(r)
    t = time.perf_counter()
    os.waitpid(pid, 0)  # the child closed its pipe: what is left is tearing its address space down
    times = json.loads(data)
    times["exit"] = (time.perf_counter() - t) * 1000
    os.rmdir(scratch)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    boot.preload("torch")
    held = confine.hold_roots(())  # as the fork server does: the children add rules from these
    confine.compile_syscalls()  # and load this filter
    gc.freeze()
    plain = [one_child() for _ in range(args.runs)]
    forkserver._huge_pages()
    huge = [one_child() for _ in range(args.runs)]
    for fd in held:
        os.close(fd)
    print(f"| step | median ms per child | with huge pages ({args.runs} children each, {os.cpu_count()} cores) |")
    print("| --- | ---: | ---: |")
    for name in plain[0]:
        print(f"| {name} | {statistics.median(r[name] for r in plain):.2f} "
              f"| {statistics.median(r[name] for r in huge):.2f} |")


if __name__ == "__main__":
    main()
