"""Run the harness on one job in a separate, limited process and collect its observation frames.

The child gets a fresh interpreter, its own session (so the whole group can be killed), a
private scratch folder as working and home directory, a scrubbed environment, no stdin,
CPU/memory/file-size/descriptor limits and a wall-clock deadline. Its stdout and stderr
are drained and capped, never parsed; results come only from the private result pipe.
"""

from __future__ import annotations

import json
import os
import resource
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).with_name("harness.py")
ALWAYS = ["separate process", "CPU, memory, file-size and open-file limits", "wall-clock deadline",
          "private scratch folder", "scrubbed environment", "results over a private pipe"]


def protections(run: ChildRun) -> list[str]:
    """The layers that held for this run: the fixed ones, plus what the child could set up."""
    sandbox = next((f for f in run.frames if f.get("kind") == "sandbox"), {})
    return ALWAYS + (["no network (own network namespace)"] if sandbox.get("network") is True
                     else ["network NOT isolated (no namespace rights here)"])
RESULT_CAP = 4 * 1024 * 1024  # bytes of observations a child may send
TAIL = 4000  # characters of stderr kept for the report
FILE_CAP = 64 * 1024 * 1024  # RLIMIT_FSIZE
OPEN_FILES = 512


@dataclass
class ChildRun:
    """What came back from one child: frames in order and how the process ended."""

    frames: list[dict[str, Any]] = field(default_factory=list)
    ended: str = "ok"  # ok | timeout | killed by SIG… | exit code N | result flood
    stderr_tail: str = ""
    output_bytes: int = 0
    seconds: float = 0.0
    garbled: int = 0  # result lines that were not valid JSON objects


def _limits(cpu_seconds: int, memory_mib: int) -> None:
    """Runs in the child between fork and exec."""
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    memory = memory_mib * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_CAP, FILE_CAP))
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


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
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return None
    return frame if isinstance(frame, dict) else None


def run(job: dict[str, Any], wall_seconds: float, cpu_seconds: int, memory_mib: int) -> ChildRun:
    """Run one job to completion or to its deadline; never raises for the child's misdeeds."""
    scratch = tempfile.mkdtemp(prefix="bpgrade-")
    job = {**job, "scratch": scratch}
    job_r, job_w = os.pipe()
    res_r, res_w = os.pipe()
    started = time.monotonic()
    result = ChildRun()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-I", "-X", "utf8", "-B", str(HARNESS), str(job_r), str(res_w)],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(job_r, res_w), cwd=scratch, env=_environment(scratch),
            start_new_session=True, preexec_fn=lambda: _limits(cpu_seconds, memory_mib),
        )
    except OSError as e:
        for fd in (job_r, job_w, res_r, res_w):
            os.close(fd)
        shutil.rmtree(scratch, ignore_errors=True)
        result.ended = f"could not start: {e}"
        return result
    os.close(job_r)
    os.close(res_w)
    writer = threading.Thread(target=_send, args=(job_w, json.dumps(job).encode()), daemon=True)
    writer.start()
    try:
        _collect(proc, res_r, started + wall_seconds, result)
    finally:
        _kill_group(proc.pid)
        proc.wait()
        os.close(res_r)
        shutil.rmtree(scratch, ignore_errors=True)
    if result.ended == "ok" and proc.returncode:
        code = proc.returncode
        result.ended = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
    result.seconds = time.monotonic() - started
    return result


def _send(fd: int, data: bytes) -> None:
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except OSError:
        pass  # the child died before reading its job; the run reports how it ended


def _collect(proc: subprocess.Popen[bytes], res_r: int, deadline: float, result: ChildRun) -> None:
    assert proc.stdout is not None and proc.stderr is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ, "stdout")
    sel.register(proc.stderr, selectors.EVENT_READ, "stderr")
    sel.register(res_r, selectors.EVENT_READ, "result")
    stderr = bytearray()
    try:
        _pump(proc, sel, res_r, deadline, result, stderr)
    finally:
        result.stderr_tail = stderr.decode("utf-8", "replace")


def _pump(proc: subprocess.Popen[bytes], sel: selectors.BaseSelector, res_r: int, deadline: float,
          result: ChildRun, stderr: bytearray) -> None:
    pending = b""
    received = 0
    open_streams = 3
    while open_streams:
        if proc.poll() is not None:  # a grandchild may keep the pipes open: a short grace only
            deadline = min(deadline, time.monotonic() + 0.5)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if proc.poll() is None:
                result.ended = "timeout"
            return
        for key, _ in sel.select(timeout=min(remaining, 0.5)):
            fd = key.fd if key.data == "result" else key.fileobj.fileno()  # type: ignore[union-attr]
            chunk = os.read(fd, 65536)
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
                        result.garbled += 1
                    else:
                        result.frames.append(frame)
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
