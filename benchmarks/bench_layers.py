"""What each sandbox layer costs per child, measured in forked children like the grader's.

    .venv/bin/python benchmarks/bench_layers.py [--runs 30] [--framework torch|numpy]

Each run forks a child from this process, prepared as the fork server of the framework prepares itself
(pre-imported, Landlock paths held open, seccomp filter compiled, capability bounding set
dropped), and times in the child the layers in the order the harness applies them, then the
exit. The grader's own share (making the child's control groups, removing them and the scratch
folder afterwards) is timed in this process. Twice: before and after the server's memory is
backed by huge pages (forkserver._huge_pages). The parent prints the medians in ms; a layer this
machine does not allow (not root, no control groups) shows as nan.
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
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from grader import cgroups, sandbox, scratch, spawn  # noqa: E402
from grader.child import boot, confine, forkserver, identity, quota  # noqa: E402
from grader.spec import load_all  # noqa: E402

LIMITS = {"cpu_seconds": 60, "memory_mib": 3072, "file_bytes": sandbox.FILE_CAP, "open_files": sandbox.OPEN_FILES}


def _timed(step: Callable[[], object]) -> float:
    """Milliseconds `step` took, nan if it reported that it could not be set up here."""
    t = time.perf_counter()
    ok = step()
    return (time.perf_counter() - t) * 1000 if ok is not False else float("nan")


def one_child(uid: int | None, hidden: list[str]) -> dict[str, float]:
    r, w = os.pipe()
    folder = tempfile.mkdtemp(prefix="bpgrade-bench-")
    t = time.perf_counter()
    groups = cgroups.create(LIMITS["memory_mib"] << 20, sandbox.TASKS)
    made = (time.perf_counter() - t) * 1000
    t0 = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        times = {"fork": (time.perf_counter() - t0) * 1000}
        mounts = [False]

        def namespaces() -> bool:
            network, mounts[0] = boot.unshare_namespaces()
            return network

        for name, layer in [("namespaces (network, mounts, IPC)", namespaces),
                            ("control groups (join)", lambda: quota.join(groups.procs if groups else [])),
                            ("rlimits", lambda: boot.apply_limits(LIMITS)),
                            ("scratch tmpfs", lambda: quota.mount_scratch(mounts[0], folder, uid, sandbox.SCRATCH_BYTES,
                                                                          sandbox.SCRATCH_FILES)),
                            ("own uid, capabilities", lambda: identity.become(uid, sandbox.TASKS)),
                            ("landlock", lambda: confine.restrict_files(folder, [], hidden)),
                            ("seccomp", confine.restrict_syscalls),
                            (f"forbidden libraries checked ({len(hidden)})",
                             lambda: confine.unimportable(hidden) == hidden)]:
            times[name] = _timed(layer)
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
    t = time.perf_counter()
    left = (groups.remove() if groups else []) + scratch.remove(folder)
    assert not left, left
    times["grader: control groups and scratch folder"] = made + (time.perf_counter() - t) * 1000 if groups \
        else float("nan")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--framework", choices=("torch", "numpy"), default="torch")
    args = parser.parse_args()
    # what its assignments' children are kept from: bp-numpy's autograd libraries, nothing for torch's
    hidden = sorted({m for a in load_all().values() if a.framework == args.framework for m in a.forbidden_modules})
    boot.preload(spawn.preloads(args.framework))
    held = confine.hold_roots(())  # as the fork server does: the children add rules from these
    confine.compile_syscalls()  # and load this filter
    identity.drop_bounding()  # and inherit this bounding set
    gc.freeze()
    uid = sandbox._uids.take()
    plain = [one_child(uid, hidden) for _ in range(args.runs)]
    forkserver._huge_pages()
    huge = [one_child(uid, hidden) for _ in range(args.runs)]
    for fd in held:
        os.close(fd)
    print(f"| step ({args.framework} server) | median ms per child | with huge pages ({args.runs} children each, "
          f"{os.cpu_count()} cores) |")
    print("| --- | ---: | ---: |")
    for name in plain[0]:
        print(f"| {name} | {statistics.median(r[name] for r in plain):.2f} "
              f"| {statistics.median(r[name] for r in huge):.2f} |")


if __name__ == "__main__":
    main()
