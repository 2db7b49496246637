"""The child's entry point: confine this process, then probe the submission and run its `__main__`.

Run as a script, never imported by the parent:

    python -I -X utf8 -B grader/child/boot.py JOB_FD RESULT_FD      a fresh child
    python -I -X utf8 [-B] grader/child/boot.py --serve SOCKET_FD MODULES one|many      the fork server

(MODULES: what it preloads, comma-separated; many: it will fork many children, see forkserver.serve;
-B where the grader writes no bytecode either.)

The job arrives as JSON on one inherited pipe, observations leave as JSON lines on another;
the child's stdout and stderr belong to the submission and are never read as results.
"""

from __future__ import annotations

import json
import os
import resource  # at the top: the fork server imports it once, not each child
import sys
import time
import traceback
from collections.abc import Callable

# Run as a script (-I: no folder of ours is on the path): the package's root goes on the path for
# the imports below and comes off again before the submission runs (main).
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_added = __name__ == "__main__" and _ROOT not in sys.path
if _added:
    sys.path.insert(0, _ROOT)

from grader.child import confine, forkserver, identity, quota  # noqa: E402
from grader.child.probes import Session  # noqa: E402
from grader.child.runtime import Emitter, real_exit  # noqa: E402
from grader.protocol import SandboxFrame  # noqa: E402


def unshare_namespaces() -> tuple[bool, bool]:
    """Namespaces of the child's own: (network, mounts).

    A fresh network namespace has no interface but a downed loopback, so no connection anywhere. As
    root the mount namespace (for the scratch tmpfs, see quota.py) and an IPC namespace come with it:
    System V shared memory dies with the child instead of outliving it. Done first, while the process
    has one thread; where root's unshare is refused, a user namespace may still grant the network one.
    """
    import ctypes

    newnet, newns, newipc, newuser = 0x40000000, 0x00020000, 0x08000000, 0x10000000
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.unshare(newnet | newns | newipc) == 0:
            return True, True
        return libc.unshare(newnet) == 0 or libc.unshare(newuser | newnet) == 0, False
    except (OSError, AttributeError):
        return False, False


def apply_limits(limits: dict[str, int]) -> None:
    """CPU seconds, address space, file size, open files; no core dumps."""
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 1))
    memory = limits["memory_mib"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def preload(modules: list[str], imported: Callable[[], None] = lambda: None) -> None:
    """Import `modules` (numpy, torch, matplotlib: what the parent's spawn.preloads chose) before the
    child is confined: once in a fork server for all its children, or in a child whatever its server lacks.

    `imported` runs once numpy (and torch) are in, before matplotlib: the server's cue to start
    backing their memory by huge pages on the other core (see forkserver.py).
    """
    import numpy  # noqa: F401

    if "torch" in modules:
        import torch

        torch.set_num_threads(1)  # a forked child hangs on a parallel op its parent already ran
    imported()
    if "matplotlib" in modules:
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot  # noqa: F401
        except ImportError:
            pass
    try:
        import pyseccomp  # noqa: F401  (finds libseccomp now: that runs ldconfig, which exec would forbid)
    except (ImportError, RuntimeError, OSError):
        pass


def run_child(job_fd: int, result_fd: int) -> None:
    """One submission's run: confine this process, load the submission, report what it defines, carry out the
    parent's plan (the probes), then run the program's own `__main__`.

    The order matters: namespaces while single-threaded; control groups before the child uses memory;
    the scratch tmpfs and anything else needing root before the child becomes nobody; Landlock and
    seccomp last (seccomp denies the mount and setuid calls the earlier steps make).
    """
    started = time.monotonic()
    network, mounts = unshare_namespaces() if sys.platform == "linux" else (False, False)
    jobs = os.fdopen(job_fd, "rb")
    job = json.loads(jobs.readline())
    accounting = quota.join(job["cgroups"])
    limits, scratch, uid = job["rlimits"], job["scratch"], job["uid"]
    apply_limits(limits)
    preload(job["preload"])  # what the fork server has already is imported, the rest is imported now
    disk = quota.mount_scratch(mounts, scratch, uid, limits["scratch_bytes"], limits["scratch_files"])
    if not disk:
        quota.own_scratch(scratch, uid)
    quota.stage(scratch, job["files"])
    os.chdir(scratch)
    user = identity.become(uid, limits["tasks"])
    hidden = job.get("hidden", [])
    files = confine.restrict_files(scratch, job["readable"], hidden)
    syscalls = confine.restrict_syscalls()
    emit = Emitter(result_fd)
    emit(SandboxFrame(kind="sandbox", layers={"network": network, "files": files, "syscalls": syscalls, "user": user,
                                              "accounting": accounting, "disk": disk},
                      hidden=confine.unimportable(hidden) if files else []))
    session = Session(job, emit, started)
    emit(session.load())
    line = jobs.readline()  # the parent's plan, decided from what the load reported
    jobs.close()
    if not line:
        return  # the parent is gone, or has nothing more to ask
    plan = json.loads(line)
    session.run_probes(plan)
    session.run_main(plan["binding"]["trace"])


def main() -> None:
    if _added:  # the submission must not import the grader's modules
        sys.path.remove(_ROOT)
    if sys.argv[1] == "--serve":
        forkserver.serve(int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4] == "many", run_child, preload)
        return
    code = 0
    try:
        run_child(int(sys.argv[1]), int(sys.argv[2]))
    except BaseException:  # noqa: BLE001 - a harness failure, reported on stderr
        traceback.print_exc()
        code = 70
    finally:  # threads the submission left running must not keep the child alive
        sys.stdout.flush()
        sys.stderr.flush()
        real_exit(code)


if __name__ == "__main__":
    main()
