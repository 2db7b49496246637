"""How a sandboxed child comes to be: a fresh interpreter, or a fork of a pre-imported fork server.

A fork server (one per framework, see child/forkserver.py) imports numpy, torch and matplotlib once, so a
child costs a fork, not an import of torch. `grade FILE` starts it first thing (grader/entry.py), before
the parent imports what it judges with, so the two overlap: this module imports little for that reason.
Either way the child is a session leader with only its pipes, a scrubbed environment and no stdin.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Collection
from pathlib import Path

HARNESS = Path(__file__).with_name("child") / "boot.py"
READY_SECONDS = 300  # for a fork server to import torch, numpy and matplotlib


def environment(scratch: str) -> dict[str, str]:
    """A child's whole environment: nothing of the grader's, UTF-8 whatever the locale, plots to files."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": scratch,
        "TMPDIR": scratch,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": os.path.join(scratch, ".matplotlib"),
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
    }


class Child:
    """A started child: its pid (a session leader), its output pipes, and how to learn its end."""

    def __init__(self, pid: int, stdout: int, stderr: int, wait: Callable[[float | None], int | None],
                 close: Callable[[], None]) -> None:
        self.pid, self.stdout, self.stderr, self._wait, self.close = pid, stdout, stderr, wait, close
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._wait(0)
        return self.returncode

    def wait(self, timeout: float) -> int | None:
        if self.returncode is None:
            self.returncode = self._wait(timeout)
        return self.returncode


def start_fresh(job_r: int, res_w: int, env: dict[str, str]) -> Child:
    """A new interpreter that imports everything itself: slow, but needs nothing but Python."""
    proc = subprocess.Popen(
        [sys.executable, "-I", "-X", "utf8", "-B", str(HARNESS), str(job_r), str(res_w)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        pass_fds=(job_r, res_w), cwd=env["HOME"], env=env, start_new_session=True)
    assert proc.stdout is not None and proc.stderr is not None

    def wait(timeout: float | None) -> int | None:
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close() -> None:
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]

    return Child(proc.pid, proc.stdout.fileno(), proc.stderr.fileno(), wait, close)


def _font_cache() -> tuple[str, bool]:
    """Where the fork server keeps matplotlib's font list (children may read it), and whether it is temporary.

    A lasting folder spares each batch ~0.3 s of rebuilding it; a temporary one where none can be made.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "backprop-grader", "matplotlib")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder, False
    except OSError:
        pass
    import tempfile

    return tempfile.mkdtemp(prefix="bpgrade-mpl-"), True


class Dirty(OSError):
    """The fork server refused to fork: what its children would inherit was changed. Another one starts."""


class ForkServer:
    """A pre-imported harness (per framework) that forks each child; see child/forkserver.py.

    Starting one returns at once: it imports while the grader goes on, and says when it is ready.
    """

    def __init__(self, modules: list[str], many: bool) -> None:
        self.config, self.temporary = _font_cache()
        self.modules = modules
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**environment(self.config), "MPLCONFIGDIR": self.config}
        self.proc = subprocess.Popen(  # it caches the harness's bytecode as the grader does (never its children)
            [sys.executable, "-I", "-X", "utf8", *(["-B"] if sys.dont_write_bytecode else []), str(HARNESS),
             "--serve", str(theirs.fileno()), ",".join(modules), "many" if many else "one"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), cwd=self.config, env=env, start_new_session=True)
        theirs.close()
        self.sock = ours
        self.lock = threading.Lock()
        self.cond = threading.Condition()
        self.gone = False  # the server process has ended
        self.ready = False  # it has imported everything and serves
        self.dirty = False  # it found its own state changed and could not put it back: see child/forkserver.py
        self.pids: dict[int, int | None] = {}  # request id -> pid (None: refused, the server is dirty)
        self.codes: dict[int, int] = {}  # pid -> exit code
        self.next_rid = 0
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.gone = True
                    self.cond.notify_all()
                    break
                message = json.loads(data)
                if "ready" in message:
                    self.ready = True
                elif "dirty" in message:
                    self.dirty = True
                    self.pids[message["rid"]] = None
                elif "rid" in message:
                    self.pids[message["rid"]] = message["pid"]
                else:
                    self.codes[message["pid"]] = message["code"]
                self.cond.notify_all()
        if self.dirty:  # it ended by itself, its last child gone: nobody else closes it
            self.close()

    @property
    def alive(self) -> bool:
        """Whether it serves: running, and not refusing requests (a dirty server only waits for its children)."""
        return self.proc.poll() is None and not self.gone and not self.dirty

    def start(self, fds: list[int], env: dict[str, str]) -> int:
        with self.cond:  # importing torch on a loaded machine may take long: that is no failure
            if not self.cond.wait_for(lambda: self.ready or self.gone, timeout=READY_SECONDS):
                raise OSError(f"the fork server was not ready within {READY_SECONDS} s")
        with self.lock:
            rid = self.next_rid
            self.next_rid += 1
            socket.send_fds(self.sock, [json.dumps({"rid": rid, "env": env}).encode()], fds)
        with self.cond:
            if not self.cond.wait_for(lambda: rid in self.pids or self.gone, timeout=30):
                raise OSError("the fork server did not answer")
            if rid not in self.pids:
                raise OSError("the fork server stopped")
            pid = self.pids.pop(rid)
            if pid is None:
                raise Dirty("the fork server's limits or scheduling were changed")
            return pid

    def waiter(self, pid: int) -> Callable[[float | None], int | None]:
        def wait(timeout: float | None) -> int | None:
            with self.cond:
                self.cond.wait_for(lambda: pid in self.codes or self.gone, timeout=timeout)
                if pid in self.codes:
                    return self.codes.pop(pid)
                return -signal.SIGKILL if self.gone else None
        return wait

    def close(self, wait: bool = True) -> None:
        """Stop it; `wait` until it has ended (a temporary font cache is removed only then)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes our listener's recv; the server sees EOF and ends
        except OSError:
            pass
        self.sock.close()
        if not wait and not self.temporary:
            return
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.temporary:
            from . import scratch
            from .i18n import t

            for problem in scratch.remove(self.config):
                print(t("sandbox.left_behind", what=problem), file=sys.stderr)


_servers: dict[str, ForkServer] = {}
_servers_lock = threading.Lock()
FORKING = sys.platform == "linux" and hasattr(socket, "send_fds")  # fork, and descriptors over a socket


def forking(start: str) -> bool:
    """Whether children of this start mode are forked from a server: `fork` where the platform can."""
    return start == "fork" and FORKING


def shutdown(wait: bool = True) -> None:
    """Stop every fork server. At exit the grader does not wait for them to end: each ends at once by itself
    when its socket closes, and waiting for that cost `grade FILE` ~7 ms."""
    with _servers_lock:
        for server in _servers.values():
            server.close(wait)
        _servers.clear()


atexit.register(shutdown, wait=False)


def preloads(framework: str, imports: Collection[str] | None = None) -> list[str]:
    """What a child of the framework has imported before it is confined: numpy, torch for a torch assignment,
    and matplotlib where the file imports it (`imports` None: any file, as a batch's fork server serves)."""
    return ["numpy", *(["torch"] if framework == "torch" else []),
            *(["matplotlib"] if imports is None or "matplotlib" in imports else [])]


def prestart(framework: str, start: str = "fork", imports: Collection[str] | None = None) -> None:
    """Start the framework's fork server now (it imports torch meanwhile), when children are forked and none
    serves yet: for every file of the framework and many children (a batch, a watch), or, given the `imports`
    of the one file about to be graded, with only what that file needs (a numpy file need not wait for
    matplotlib). A child whose server lacks a library the child needs imports it itself before it is confined.

    A server that cannot start is no error here: the first run reports it, as a verdict.
    """
    if forking(start):
        try:
            serving(framework, imports)
        except OSError:
            pass


def starting(framework: str) -> bool:
    """Whether the framework's fork server has been started and is still importing."""
    with _servers_lock:
        server = _servers.get(framework)
    return server is not None and server.alive and not server.ready


def serving(framework: str, imports: Collection[str] | None = None) -> ForkServer:
    """The framework's serving fork server, started if none serves (see prestart for `imports`)."""
    with _servers_lock:
        server = _servers.get(framework)
        if server is None or not server.alive:
            if server is not None and not server.dirty:
                server.close()  # a dirty one ends by itself once its running children have: they keep their waits
            server = _servers[framework] = ForkServer(preloads(framework, imports), many=imports is None)
        return server


def start_forked(server: ForkServer, job_r: int, res_w: int, env: dict[str, str]) -> Child:
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    try:
        pid = server.start([job_r, res_w, out_w, err_w], env)
    except BaseException:
        for fd in (out_r, err_r):
            os.close(fd)
        raise
    finally:
        for fd in (out_w, err_w):
            os.close(fd)

    def close() -> None:
        os.close(out_r)
        os.close(err_r)

    return Child(pid, out_r, err_r, server.waiter(pid), close)
