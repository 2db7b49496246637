"""Run the harness on one job in a separate, confined process and collect its observation frames.

Each run gets its own process (grader/spawn.py: forked from a pre-imported fork server, or a fresh
interpreter), its own session (so the whole group can be killed), a private scratch folder, its own
control groups and uid, and confines itself before the submission runs (limits, namespaces, a
size-limited scratch tmpfs, Landlock, seccomp: see grader/child/). A wall-clock deadline ends it. Its
stdout and stderr are drained and capped, never parsed; results come only from the private result pipe,
parsed strictly as JSON. Whatever the grader cannot clean up after a child is reported, never left
silently (`ChildRun.leftovers`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import selectors
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from . import cgroups, scratch, spawn
from .i18n import t

if TYPE_CHECKING:
    from .protocol import SandboxFrame

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
_aborting = threading.Event()  # set while a batch is being interrupted: see aborting()


def protections(sandbox: SandboxFrame | None, hidden: list[str]) -> list[str]:
    """The layers that held for a run, in the current language: the fixed ones, plus what the child set up
    (before the submission ran), and whether the `hidden` libraries were out of its reach."""
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


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        frame = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: bad JSON, or a 5000-digit integer
        return None
    return frame if isinstance(frame, dict) else None


@contextlib.contextmanager
def aborting() -> Iterator[None]:
    """While inside: every running child is killed within a select timeout and no new one starts; their
    runs end as `interrupted`. How Ctrl-C stops a batch at once instead of after its slowest child."""
    _aborting.set()
    try:
        yield
    finally:
        _aborting.clear()


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
    folder = tempfile.mkdtemp(prefix="bpgrade-")
    groups = cgroups.create(memory_mib * 1024 * 1024, TASKS)
    uid = None
    try:
        uid = _uids.take()
        job = {**job, "scratch": folder, "uid": uid, "cgroups": groups.procs if groups else [],
               "rlimits": {"cpu_seconds": cpu_seconds, "memory_mib": memory_mib, "file_bytes": FILE_CAP,
                           "open_files": OPEN_FILES, "tasks": TASKS, "scratch_bytes": SCRATCH_BYTES,
                           "scratch_files": SCRATCH_FILES},
               "files": {rel: base64.b64encode(data).decode("ascii") for rel, data in (files or {}).items()}}
        _run(job, listener, wall_seconds, result, start)
    except OSError as e:
        result.ended = f"could not start: {e}"
    finally:
        stuck = groups.remove() if groups else []
        result.leftovers += stuck + scratch.remove(folder)
        if uid is not None and not stuck:  # a uid whose processes may live on is never handed out again
            _uids.give(uid)
    if result.leftovers:
        print(t("sandbox.left_behind", what="; ".join(result.leftovers)), file=sys.stderr)
    return result


def _run(job: dict[str, Any], listener: Listener, wall_seconds: float, result: ChildRun, start: str) -> None:
    started = time.monotonic()
    env = spawn.environment(job["scratch"])
    for attempt in (1, 2):  # a dirty fork server refuses, and the next one (started anew) serves
        job_r, job_w = os.pipe()
        res_r, res_w = os.pipe()
        try:
            server = spawn.serving(job["framework"]) if spawn.forking(start) else None
            job["readable"] = [server.config] if server else []  # the server's font cache
            child = (spawn.start_forked(server, job_r, res_w, env) if server
                     else spawn.start_fresh(job_r, res_w, env))
            break
        except BaseException as e:
            for fd in (job_w, res_r):
                os.close(fd)
            if not isinstance(e, spawn.Dirty) or attempt == 2:
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


def _collect(child: spawn.Child, res_r: int, deadline: float, result: ChildRun, listener: Listener,
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


def _pump(child: spawn.Child, sel: selectors.BaseSelector, deadline: float, result: ChildRun,
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
