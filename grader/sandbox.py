"""Run the harness on one job in a separate, confined process and collect its observation frames.

Each run gets its own process: forked from a pre-imported fork server (`fork`, the default
on Linux: torch is imported once, not once per submission) or a fresh interpreter (`fresh`).
Either way the child is its own session (so the whole group can be killed), works in a
private scratch folder with a scrubbed environment and no stdin, and confines itself before
the submission runs (limits, control groups, namespaces, a size-limited scratch tmpfs, a uid of
its own, Landlock, seccomp: see grader/child/). A wall-clock deadline ends it. Its stdout and
stderr are drained and capped, never parsed; results come only from the private result pipe,
parsed strictly as JSON. Whatever the grader cannot clean up after a child is reported, never
left silently (`ChildRun.leftovers`).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import json
import os
import queue
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from .protocol import SandboxFrame
# imported where used (tempfile, shutil, cgroups): `grade FILE` imports this module to start the fork server
# before anything else, so what the start does not need is not imported first

HARNESS = Path(__file__).with_name("child") / "boot.py"
# the names of the protections, as message keys of grader/locales/*.toml (the report shows them translated)
ALWAYS = ["sandbox.process", "sandbox.limits", "sandbox.deadline", "sandbox.scratch", "sandbox.environment",
          "sandbox.pipe"]
LAYERS = {  # what the child reports it could set up -> how the report names it: (held, missing)
    "network": ("sandbox.network", "sandbox.no_network_isolation"),
    "files": ("sandbox.files", "sandbox.no_file_isolation"),
    "syscalls": ("sandbox.syscalls", "sandbox.no_syscall_filter"),
    "user": ("sandbox.user", "sandbox.no_user"),
    "accounting": ("sandbox.accounting", "sandbox.no_accounting"),
    "disk": ("sandbox.disk", "sandbox.no_disk_quota"),
}
RESULT_CAP = 4 * 1024 * 1024  # bytes of observations a child may send
TAIL = 4000  # characters of stderr kept for the report
FILE_CAP = 64 * 1024 * 1024  # RLIMIT_FSIZE
OPEN_FILES = 512
TASKS = 64  # threads and processes of one child (RLIMIT_NPROC of its uid, and its pids group)
SCRATCH_BYTES = 256 * 1024 * 1024  # the scratch tmpfs: all its files together
SCRATCH_FILES = 10000
POLL_SECONDS = 0.05  # how often a run asks whether its child has ended while its pipes stay open
READY_SECONDS = 300  # for a fork server to import torch, numpy and matplotlib


def protections(sandbox: SandboxFrame | None, hidden: list[str]) -> list[str]:
    """The layers that held for a run, in the current language: the fixed ones, plus what the child set up
    (before the submission ran), and whether the `hidden` libraries were out of its reach."""
    from .i18n import t

    layers = sandbox.layers if sandbox is not None else {}
    keys = ALWAYS + [held if layers.get(key) is True else missing for key, (held, missing) in LAYERS.items()]
    out = [t(k) for k in keys]
    if hidden:
        out.append(t("sandbox.hidden") if withheld(sandbox, hidden) else t("sandbox.not_hidden"))
    return out


def withheld(sandbox: SandboxFrame | None, hidden: list[str]) -> bool:
    """Whether the child could import none of the `hidden` libraries: checked in the child, confined, before
    the submission's first line (so no submission can forge it)."""
    return sandbox is not None and set(hidden) <= set(sandbox.hidden)


def left_behind(run: ChildRun) -> list[str]:
    """What the grader could not clean up after the child, as notes in the current language."""
    from .i18n import t

    return [t("sandbox.left_behind", what=what) for what in run.leftovers]


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
    leftovers: list[str] = field(default_factory=list)  # what the grader could not remove after the child


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
        env = {**_environment(self.config), "MPLCONFIGDIR": self.config}
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
            from .i18n import t

            for problem in _remove(self.config):
                print(t("sandbox.left_behind", what=problem), file=sys.stderr)


_servers: dict[str, ForkServer] = {}
_servers_lock = threading.Lock()
_aborting = threading.Event()  # set while a batch is being interrupted: see aborting()
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


@contextlib.contextmanager
def aborting() -> Iterator[None]:
    """While inside: every running child is killed within a select timeout and no new one starts; their
    runs end as `interrupted`. How Ctrl-C stops a batch at once instead of after its slowest child."""
    _aborting.set()
    try:
        yield
    finally:
        _aborting.clear()


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
            _server(framework, imports)
        except OSError:
            pass


def starting(framework: str) -> bool:
    """Whether the framework's fork server has been started and is still importing."""
    with _servers_lock:
        server = _servers.get(framework)
    return server is not None and server.alive and not server.ready


def _server(framework: str, imports: Collection[str] | None = None) -> ForkServer:
    """The framework's serving fork server, started if none serves (see prestart for `imports`)."""
    with _servers_lock:
        server = _servers.get(framework)
        if server is None or not server.alive:
            if server is not None and not server.dirty:
                server.close()  # a dirty one ends by itself once its running children have: they keep their waits
            server = _servers[framework] = ForkServer(preloads(framework, imports), many=imports is None)
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


def run(job: dict[str, Any], listener: Listener, wall_seconds: float, cpu_seconds: int, memory_mib: int,
        start: str = "fork", files: dict[str, bytes] | None = None) -> ChildRun:
    """Run one job to completion or to its deadline; never raises for the child's misdeeds.

    The job is line 1 of the job pipe; each frame goes to `listener`, whose answer (the plan, once it has
    seen what the module defines) is written on the same pipe. `files` (relative path -> bytes, bounded by
    grader/beside.py) travel in the job: the child writes them into its scratch folder once its tmpfs is
    mounted there, which would hide anything written before (child/quota.py `stage`)."""
    result = ChildRun()
    if _aborting.is_set():
        result.ended = "interrupted"
        return result
    import tempfile

    from . import cgroups

    scratch = tempfile.mkdtemp(prefix="bpgrade-")
    groups = cgroups.create(memory_mib * 1024 * 1024, TASKS)
    uid = None
    try:
        uid = _uids.take()
        job = {**job, "scratch": scratch, "uid": uid, "cgroups": groups.procs if groups else [],
               "rlimits": {"cpu_seconds": cpu_seconds, "memory_mib": memory_mib, "file_bytes": FILE_CAP,
                           "open_files": OPEN_FILES, "tasks": TASKS, "scratch_bytes": SCRATCH_BYTES,
                           "scratch_files": SCRATCH_FILES},
               "files": {rel: base64.b64encode(data).decode("ascii") for rel, data in (files or {}).items()}}
        _run(job, listener, wall_seconds, result, start)
    except OSError as e:
        result.ended = f"could not start: {e}"
    finally:
        stuck = groups.remove() if groups else []
        result.leftovers += stuck + _remove(scratch)
        if uid is not None and not stuck:  # a uid whose processes may live on is never handed out again
            _uids.give(uid)
    if result.leftovers:
        from .i18n import t

        print(t("sandbox.left_behind", what="; ".join(result.leftovers)), file=sys.stderr)
    return result


def _run(job: dict[str, Any], listener: Listener, wall_seconds: float, result: ChildRun, start: str) -> None:
    started = time.monotonic()
    env = _environment(job["scratch"])
    for attempt in (1, 2):  # a dirty fork server refuses, and the next one (started anew) serves
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            server = _server(job["framework"]) if forking(start) else None
            job["readable"] = [server.config] if server else []  # the server's font cache
            child = _start_forked(server, job_r, res_w, env) if server else _start_fresh(job_r, res_w, env)
            break
        except BaseException as e:
            for fd in (job_w, res_r):
                os.close(fd)
            if not isinstance(e, Dirty) or attempt == 2:
                raise
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
    if result.ended == "ok" and code:
        result.ended = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    result.seconds = time.monotonic() - started


def _remove(scratch: str) -> list[str]:
    """Remove a scratch folder (a tmpfs mounted on it is the child's and gone with it: then it is empty),
    never following a link; what could not be removed. A folder the child made unwritable is opened up."""
    problems: list[str] = []

    def failed(function: Callable[[str], Any], path: str, error: Any) -> None:
        e = error[1] if isinstance(error, tuple) else error  # onerror's exc_info (3.11), onexc's exception
        try:
            if isinstance(e, PermissionError):
                os.chmod(os.path.dirname(path), 0o700)
                function(path)
                return
        except OSError:
            pass
        problems.append(f"{path}: {getattr(e, 'strerror', None) or e}")

    import shutil

    if sys.version_info >= (3, 12):
        shutil.rmtree(scratch, onexc=failed)
    else:
        shutil.rmtree(scratch, onerror=failed)
    return problems


class _Uids:
    """Unprivileged uids for the children, when the grader is root: one per running child, and none that
    another grader on the machine hands out (the block is chosen by the grader's pid)."""

    FIRST, PER_GRADER = 1 << 31, 1024  # no /etc/passwd entry is needed, nor any user this high

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.free: list[int] = []
        self.made = 0

    def take(self) -> int | None:
        if os.geteuid() != 0:
            return None
        with self.lock:
            if self.free:
                return self.free.pop()
            if self.made == self.PER_GRADER:
                raise OSError("no free uid for a child")
            self.made += 1
            return self.FIRST + (os.getpid() % (1 << 20)) * self.PER_GRADER + self.made - 1

    def give(self, uid: int) -> None:
        with self.lock:
            self.free.append(uid)


_uids = _Uids()


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
