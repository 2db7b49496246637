"""The fork server: one pre-imported Python that forks a fresh child per run.

Run as `boot.py --serve SOCKET_FD MODULES one|many`. It imports the MODULES the grader chose (numpy,
torch, matplotlib) once; each request brings a run's pipes over a Unix socket (SCM_RIGHTS) and gets
a forked child that becomes its own session, takes those pipes as its only descriptors and
then confines itself exactly as a freshly started child would. The server never sees an
expected value: a request holds descriptors and a scratch path, the job travels on the pipe.

Before each fork it checks that what a child inherits from it (limits, nice value, scheduling
class, CPU affinity, I/O priority) is still what it was when it became ready, and puts back what
changed; what it cannot put back (a lowered hard limit) makes it refuse the request and end, and
the grader starts a new server. A child cannot change these (another uid, seccomp): this is the
wall behind those walls.

Protocol, JSON per datagram. Once imported it says {"ready": true}. Request: {"rid", "env"} with
fds [job, result, stdout, stderr]; replies: {"rid", "pid"} and, when the child ends, {"pid",
"code"} (negative: killed by signal); or {"rid", "dirty": true} before it ends, as above.
"""

from __future__ import annotations

import ctypes
import functools
import gc
import json
import os
import platform
import resource
import select
import signal
import socket
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from typing import Any

_exit = os._exit  # the harness replaces os._exit for the submission; the child must really end


def serve(sock_fd: int, modules: list[str], many: bool, run_child: Callable[[int, int], None],
          preload: Callable[[list[str], Callable[[], None]], None]) -> None:
    """Import `modules`, prepare what every child would otherwise prepare itself, then fork a child per request.

    A server that will fork `many` children (a batch, a watch) also backs its memory by huge pages, which
    makes each fork and exit cheaper; one that serves a single grading skips that (it costs more than it
    saves for one child).
    """
    collapsing = threading.Thread(target=_huge_pages) if many else None  # torch's memory, while matplotlib imports
    preload(modules, collapsing.start if collapsing else lambda: None)
    if collapsing:
        collapsing.join()  # no other thread may run when the server forks
    from . import confine, identity

    held = set(confine.hold_roots((os.environ["MPLCONFIGDIR"],)))  # the children's Landlock rules, opened once
    confine.compile_syscalls()  # and their seccomp filter, compiled once
    identity.drop_bounding()  # and their capability bounding set, dropped once
    gc.freeze()  # the children's collections then leave the shared pages alone (fewer copies on write)
    sys.dont_write_bytecode = True  # a child writes no bytecode: what it imports after the fork is its own
    if many:
        _huge_pages()  # what matplotlib added meanwhile: the rest is backed already, so this is quick
    sock = socket.socket(fileno=sock_fd)
    clean = _inherited()
    _send(sock, {"ready": True})
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    dirty = False  # refusing every request; ends once its running children have ended
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])  # type: ignore[type-var]
        if wake_r in ready:
            os.read(wake_r, 4096)
            if not _reap(sock) and dirty:
                return
        if sock in ready:
            dirty = dirty or not _restored(clean)  # first: a lowered RLIMIT_NOFILE would drop the descriptors
            try:
                data, fds, _, _ = socket.recv_fds(sock, 65536, 4)
            except OSError:
                data, fds = b"", []
            if not data:
                _exit(0)  # the grader is gone (its children are killed by session): nothing to tear down
            request = json.loads(data)
            if dirty or len(fds) != 4:
                dirty = True
                for fd in fds:
                    os.close(fd)
                _send(sock, {"rid": request["rid"], "dirty": True})  # the grader starts a new server
                if not _reap(sock):
                    return
                continue
            pid = os.fork()
            if pid == 0:
                _child(request, fds, held, sock, wake_r, wake_w, run_child)
            for fd in fds:
                os.close(fd)
            _send(sock, {"rid": request["rid"], "pid": pid})


def _child(request: dict[str, Any], fds: list[int], held: set[int], sock: socket.socket, wake_r: int, wake_w: int,
           run_child: Callable[[int, int], None]) -> None:
    """In the forked child: become a fresh, lone session with only its own pipes (and the Landlock
    rules' paths, which confine.restrict_files closes before the submission runs), then run."""
    code = 70
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setsid()
        job, result, out, err = fds
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        keep = {0, 1, 2, job, result, *held}
        for fd in [int(n) for n in os.listdir("/proc/self/fd")]:
            if fd not in keep:
                try:
                    os.close(fd)
                except OSError:
                    pass
        del sock, wake_r, wake_w
        os.environ.clear()
        os.environ.update(request["env"])
        tempfile.tempdir = None  # the server's cached one is its read-only config folder: the run's TMPDIR instead
        os.chdir(request["env"]["HOME"])
        run_child(job, result)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001 - the child must never return into the server loop
        traceback.print_exc()  # on the run's stderr: the verdict quotes its last line (checks.lost.child_failed)
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            _exit(code)


_RLIMITS = sorted(getattr(resource, n) for n in dir(resource) if n.startswith("RLIMIT_"))
_IOPRIO = {"x86_64": (251, 252), "aarch64": (30, 31)}.get(platform.machine())  # ioprio_set, ioprio_get
_IOPRIO_WHO_PROCESS = 1


def _inherited() -> tuple[Any, ...]:
    """What a child inherits from this process that a process might change: every limit, the nice value,
    the scheduling class and priority, the CPU affinity and the I/O priority."""
    return (tuple(resource.getrlimit(r) for r in _RLIMITS), os.getpriority(os.PRIO_PROCESS, 0),
            os.sched_getscheduler(0), os.sched_getparam(0).sched_priority, frozenset(os.sched_getaffinity(0)),
            _ioprio_call(1, _IOPRIO_WHO_PROCESS, 0) if _IOPRIO else None)


def _ioprio_call(which: int, *args: int) -> int:
    """ioprio_set (0) or ioprio_get (1): the C library has no wrapper for them."""
    assert _IOPRIO is not None
    return int(_libc().syscall(_IOPRIO[which], *args))


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _restored(clean: tuple[Any, ...]) -> bool:
    """Whether this process is as `clean` again: checked (~20 system calls), put back where it changed."""
    now = _inherited()
    if now == clean:
        return True
    limits, nice, policy, priority, cpus, ioprio = clean
    try:
        for r, was, is_ in zip(_RLIMITS, limits, now[0]):
            if was != is_:
                resource.setrlimit(r, was)
        os.setpriority(os.PRIO_PROCESS, 0, nice)
        os.sched_setscheduler(0, policy, os.sched_param(priority))
        os.sched_setaffinity(0, cpus)
        if _IOPRIO and ioprio is not None and ioprio >= 0:
            _ioprio_call(0, _IOPRIO_WHO_PROCESS, 0, ioprio)
    except (OSError, ValueError):
        return False  # e.g. a lowered hard limit: only CAP_SYS_RESOURCE raises it again
    return _inherited() == clean


def _huge_pages() -> None:
    """Back the server's private memory by 2 MiB pages (MADV_COLLAPSE, Linux 6.1+), where the kernel allows.

    A fork copies, and each child's exit frees, one entry per page: 512 times fewer for ~170 MB of
    imports (a bare fork and exit of the torch server: ~14 ms -> ~6 ms). Best effort: where the
    kernel refuses, nothing changes.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        with open("/proc/self/maps", encoding="ascii", errors="replace") as f:
            regions = f.read().splitlines()
    except OSError:
        return
    for line in regions:
        fields = line.split()
        if not fields[1].startswith("rw") or fields[1][3] != "p" or (len(fields) > 5 and fields[5] != "[heap]"):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        start, end = -(-start // _HUGE) * _HUGE, end // _HUGE * _HUGE
        if end > start:
            libc.madvise(start, end - start, _MADV_HUGEPAGE)
            libc.madvise(start, end - start, _MADV_COLLAPSE)


_HUGE = 2 << 20
_MADV_HUGEPAGE, _MADV_COLLAPSE = 14, 25


def _reap(sock: socket.socket) -> bool:
    """Report every child that has ended; whether some are still running."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True
        _send(sock, {"pid": pid, "code": os.waitstatus_to_exitcode(status)})


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        pass
