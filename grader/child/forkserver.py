"""The fork server: one pre-imported Python that forks a fresh child per run.

Run as `boot.py --serve SOCKET_FD FRAMEWORK`. It imports numpy (and torch,
matplotlib) once; each request brings a run's pipes over a Unix socket (SCM_RIGHTS) and gets
a forked child that becomes its own session, takes those pipes as its only descriptors and
then confines itself exactly as a freshly started child would. The server never sees an
expected value: a request holds descriptors and a scratch path, the job travels on the pipe.

Protocol, JSON per datagram. Once imported it says {"ready": true}. Request: {"rid", "env"} with
fds [job, result, stdout, stderr]; replies: {"rid", "pid"} and, when the child ends, {"pid",
"code"} (negative: killed by signal).
"""

from __future__ import annotations

import gc
import json
import os
import select
import signal
import socket
import sys
import threading
from typing import Any, Callable

_exit = os._exit  # the harness replaces os._exit for the submission; the child must really end


def serve(sock_fd: int, framework: str, run_child: Callable[[int, int], None],
          preload: Callable[[str, Callable[[], None]], None]) -> None:
    collapsing = threading.Thread(target=_huge_pages)  # torch's memory, while matplotlib imports
    preload(framework, collapsing.start)
    collapsing.join()  # no other thread may run when the server forks
    from . import confine

    held = set(confine.hold_roots((os.environ["MPLCONFIGDIR"],)))  # the children's Landlock rules, opened once
    confine.compile_syscalls()  # and their seccomp filter, compiled once
    gc.freeze()  # the children's collections then leave the shared pages alone (fewer copies on write)
    _huge_pages()  # what matplotlib added meanwhile: the rest is backed already, so this is quick
    sock = socket.socket(fileno=sock_fd)
    _send(sock, {"ready": True})
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    while True:
        ready, _, _ = select.select([sock, wake_r], [], [])
        if wake_r in ready:
            os.read(wake_r, 4096)
            _reap(sock)
        if sock in ready:
            try:
                data, fds, _, _ = socket.recv_fds(sock, 65536, 4)
            except OSError:
                data, fds = b"", []
            if not data:
                return  # the grader is gone; its children are killed by session
            request = json.loads(data)
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
        os.chdir(request["env"]["HOME"])
        run_child(job, result)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException:  # noqa: BLE001 - the child must never return into the server loop
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            _exit(code)


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


def _reap(sock: socket.socket) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _send(sock, {"pid": pid, "code": os.waitstatus_to_exitcode(status)})


def _send(sock: socket.socket, message: dict[str, Any]) -> None:
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        pass
