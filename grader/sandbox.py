"""Run the harness on one job in a separate, confined process and collect its observation frames.

Each run gets its own process: forked from a pre-imported fork server (`fork`, the default
on Linux: torch is imported once, not once per submission) or a fresh interpreter (`fresh`).
Either way the child is its own session (so the whole group can be killed), works in a
private scratch folder with a scrubbed environment and no stdin, and confines itself before
the submission runs (limits, network namespace, Landlock, seccomp: see grader/child/). A wall-clock deadline ends it. Its stdout and stderr are drained and capped,
never parsed; results come only from the private result pipe, parsed strictly as JSON.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
import queue
from typing import Any, Callable, Iterator, Protocol

HARNESS = Path(__file__).with_name("child") / "boot.py"
# the names of the protections, as message keys of grader/locales/*.toml (the report shows them translated)
ALWAYS = ["sandbox.process", "sandbox.limits", "sandbox.deadline", "sandbox.scratch", "sandbox.environment",
          "sandbox.pipe"]
LAYERS = {  # what the child reports it could set up -> how the report names it: (held, missing)
    "network": ("sandbox.network", "sandbox.no_network_isolation"),
    "files": ("sandbox.files", "sandbox.no_file_isolation"),
    "syscalls": ("sandbox.syscalls", "sandbox.no_syscall_filter"),
}
RESULT_CAP = 4 * 1024 * 1024  # bytes of observations a child may send
TAIL = 4000  # characters of stderr kept for the report
FILE_CAP = 64 * 1024 * 1024  # RLIMIT_FSIZE
OPEN_FILES = 512
POLL_SECONDS = 0.05  # how often a run asks whether its child has ended while its pipes stay open
READY_SECONDS = 300  # for a fork server to import torch, numpy and matplotlib


def protections(layers: dict[str, bool]) -> list[str]:
    """The layers that held for a run, in the current language: the fixed ones, plus what the child set up."""
    from .i18n import t

    keys = ALWAYS + [held if layers.get(key) is True else missing for key, (held, missing) in LAYERS.items()]
    return [t(k) for k in keys]


class Listener(Protocol):
    """Who reads a child's frames as they arrive (grader/frames.py): it may answer on the job pipe."""

    def feed(self, frame: dict[str, Any]) -> bytes | None: ...

    def garbled(self) -> None: ...


@dataclass
class ChildRun:
    """How one child ran: how it ended and what it printed (its frames went to the listener)."""

    ended: str = "ok"  # ok | timeout | killed by SIG… | exit code N | result flood | interrupted
    stderr_tail: str = ""
    output_bytes: int = 0
    seconds: float = 0.0


def _environment(scratch: str) -> dict[str, str]:
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


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        frame = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: bad JSON, or a 5000-digit integer
        return None
    return frame if isinstance(frame, dict) else None


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


def _start_fresh(job_r: int, res_w: int, env: dict[str, str]) -> Child:
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
    return tempfile.mkdtemp(prefix="bpgrade-mpl-"), True


class ForkServer:
    """A pre-imported harness (per framework) that forks each child; see child/forkserver.py.

    Starting one returns at once: it imports while the grader goes on, and says when it is ready.
    """

    def __init__(self, framework: str) -> None:
        self.config, self.temporary = _font_cache()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**_environment(self.config), "MPLCONFIGDIR": self.config}
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-X", "utf8", "-B", str(HARNESS), "--serve", str(theirs.fileno()), framework],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(theirs.fileno(),), cwd=self.config, env=env, start_new_session=True)
        theirs.close()
        self.sock = ours
        self.lock = threading.Lock()
        self.cond = threading.Condition()
        self.gone = False  # the server process has ended
        self.ready = False  # it has imported everything and serves
        self.pids: dict[int, int] = {}  # request id -> pid
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
                    return
                message = json.loads(data)
                if "ready" in message:
                    self.ready = True
                elif "rid" in message:
                    self.pids[message["rid"]] = message["pid"]
                else:
                    self.codes[message["pid"]] = message["code"]
                self.cond.notify_all()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and not self.gone

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
            return self.pids.pop(rid)

    def waiter(self, pid: int) -> Callable[[float | None], int | None]:
        def wait(timeout: float | None) -> int | None:
            with self.cond:
                self.cond.wait_for(lambda: pid in self.codes or self.gone, timeout=timeout)
                if pid in self.codes:
                    return self.codes.pop(pid)
                return -signal.SIGKILL if self.gone else None
        return wait

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes our listener's recv; the server sees EOF and ends
        except OSError:
            pass
        self.sock.close()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.temporary:
            shutil.rmtree(self.config, ignore_errors=True)


_servers: dict[str, ForkServer] = {}
_servers_lock = threading.Lock()
_aborting = threading.Event()  # set while a batch is being interrupted: see aborting()
FORKING = sys.platform == "linux" and hasattr(socket, "send_fds")  # fork, and descriptors over a socket


def forking(start: str) -> bool:
    """Whether children of this start mode are forked from a server: `fork` where the platform can."""
    return start == "fork" and FORKING


@atexit.register
def shutdown() -> None:
    with _servers_lock:
        for server in _servers.values():
            server.close()
        _servers.clear()


@contextlib.contextmanager
def aborting() -> Iterator[None]:
    """While inside: every running child is killed within a select timeout and no new one starts; their
    runs end as `interrupted`. How Ctrl-C stops a batch at once instead of after its slowest child."""
    _aborting.set()
    try:
        yield
    finally:
        _aborting.clear()


def prestart(framework: str, start: str = "fork") -> None:
    """Start the framework's fork server now (it imports torch meanwhile), when children are forked.

    A server that cannot start is no error here: the first run reports it, as a verdict.
    """
    if forking(start):
        try:
            _server(framework)
        except OSError:
            pass


def starting(framework: str) -> bool:
    """Whether the framework's fork server has been started and is still importing."""
    with _servers_lock:
        server = _servers.get(framework)
    return server is not None and server.alive and not server.ready


def _server(framework: str) -> ForkServer:
    with _servers_lock:
        server = _servers.get(framework)
        if server is None or not server.alive:
            if server is not None:
                server.close()
            server = _servers[framework] = ForkServer(framework)
        return server


def _start_forked(server: ForkServer, job_r: int, res_w: int, env: dict[str, str]) -> Child:
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


def stage(scratch: str, files: dict[str, bytes]) -> None:
    """Copy a submission's helpers and data (relative path -> bytes, bounded by grader/beside.py) into its
    scratch folder, read-only: what `python hw2.py` finds beside the file on the student's machine.
    A path that would leave the folder is not written."""
    root = os.path.realpath(scratch)
    for rel, data in files.items():
        target = os.path.realpath(os.path.join(root, rel))
        if not target.startswith(root + os.sep) or os.path.exists(target):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "xb") as f:
            f.write(data)
        os.chmod(target, 0o444)


def run(job: dict[str, Any], listener: Listener, wall_seconds: float, cpu_seconds: int, memory_mib: int,
        start: str = "fork", files: dict[str, bytes] | None = None) -> ChildRun:
    """Run one job to completion or to its deadline; never raises for the child's misdeeds.

    The job is line 1 of the job pipe; each frame goes to `listener`, whose answer (the plan, once it has
    seen what the module defines) is written on the same pipe. `files` are staged in its scratch folder."""
    result = ChildRun()
    if _aborting.is_set():
        result.ended = "interrupted"
        return result
    scratch = tempfile.mkdtemp(prefix="bpgrade-")
    stage(scratch, files or {})
    env = _environment(scratch)
    job_r, job_w = os.pipe()
    res_r, res_w = os.pipe()
    started = time.monotonic()
    try:
        server = _server(job["framework"]) if forking(start) else None
        job = {**job, "scratch": scratch,
               "rlimits": {"cpu_seconds": cpu_seconds, "memory_mib": memory_mib, "file_bytes": FILE_CAP,
                           "open_files": OPEN_FILES},
               "readable": [server.config] if server else []}  # the server's font cache
        child = _start_forked(server, job_r, res_w, env) if server else _start_fresh(job_r, res_w, env)
    except OSError as e:
        for fd in (job_w, res_r):
            os.close(fd)
        shutil.rmtree(scratch, ignore_errors=True)
        result.ended = f"could not start: {e}"
        return result
    finally:
        os.close(job_r)
        os.close(res_w)
    writer = _Writer(job_w)
    writer.send(json.dumps(job).encode() + b"\n")
    try:
        _collect(child, res_r, started + wall_seconds, result, listener, writer)
    finally:
        writer.send(None)
        _kill_group(child.pid)
        code = child.wait(5)
        os.close(res_r)
        child.close()
        shutil.rmtree(scratch, ignore_errors=True)
    if result.ended == "ok" and code:
        result.ended = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    result.seconds = time.monotonic() - started
    return result


class _Writer:
    """Writes the job pipe from its own thread (a child that does not read must not block the grader)."""

    def __init__(self, fd: int) -> None:
        self.lines: queue.Queue[bytes | None] = queue.Queue()
        threading.Thread(target=self._write, args=(fd,), daemon=True).start()

    def send(self, line: bytes | None) -> None:
        """Queue a line; None closes the pipe (the child then reads an end of file)."""
        self.lines.put(line)

    def _write(self, fd: int) -> None:
        try:
            with os.fdopen(fd, "wb") as f:
                while (line := self.lines.get()) is not None:
                    f.write(line)
                    f.flush()
        except OSError:
            pass  # the child died before reading; the run reports how it ended


def _collect(child: Child, res_r: int, deadline: float, result: ChildRun, listener: Listener,
             writer: _Writer) -> None:
    sel = selectors.DefaultSelector()
    sel.register(child.stdout, selectors.EVENT_READ, "stdout")
    sel.register(child.stderr, selectors.EVENT_READ, "stderr")
    sel.register(res_r, selectors.EVENT_READ, "result")
    stderr = bytearray()
    try:
        _pump(child, sel, deadline, result, stderr, listener, writer)
    finally:
        sel.close()
        result.stderr_tail = stderr.decode("utf-8", "replace")


def _pump(child: Child, sel: selectors.BaseSelector, deadline: float, result: ChildRun,
          stderr: bytearray, listener: Listener, writer: _Writer) -> None:
    pending = b""
    received = 0
    open_streams = 3
    polled = 0.0
    while open_streams:
        now = time.monotonic()
        if now - polled > POLL_SECONDS:  # not at every frame: asking the server costs a lock round trip
            polled = now
            if child.poll() is not None:  # a grandchild may keep the pipes open: a short grace only
                deadline = min(deadline, now + 0.5)
        remaining = deadline - now
        if _aborting.is_set():
            result.ended = "interrupted"
            return
        if remaining <= 0:
            if child.poll() is None:
                result.ended = "timeout"
            return
        for key, _ in sel.select(timeout=min(remaining, 0.5)):
            chunk = os.read(key.fd, 65536)
            if not chunk:
                sel.unregister(key.fileobj)
                open_streams -= 1
                continue
            if key.data == "result":
                received += len(chunk)
                if received > RESULT_CAP:
                    result.ended = "result flood"
                    return
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    frame = _parse(line)
                    if frame is None:
                        listener.garbled()
                    elif (answer := listener.feed(frame)) is not None:
                        writer.send(answer + b"\n")
            else:
                result.output_bytes += len(chunk)
                if key.data == "stderr":
                    stderr.extend(chunk)
                    del stderr[:-TAIL]


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
