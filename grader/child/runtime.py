"""The child's runtime around the submission: its own output channel, timers, errors as protocol
codes, and the patches that keep a submission's habits (exits, prints, a GUI backend)
from ending or stalling the child.

Everything here is bound before the submission runs, so patching `os` or `json` later
cannot change how observations leave.
"""

from __future__ import annotations

import builtins
import dataclasses
import json
import os
import signal
import sys
import traceback
import types
from collections.abc import Callable
from typing import Any

from grader.protocol import ChildError

_write = os.write  # bound before the submission can patch os
real_exit = os._exit
_dumps = json.dumps
_asdict = dataclasses.asdict
MESSAGE_CHARS = 300  # of a submission's exception text


class ProbeTimeout(BaseException):
    """Raised by the interval timer; a BaseException so `except Exception` cannot swallow it."""


class Emitter:
    """Sends frames (protocol dataclasses) as JSON lines on the private result pipe."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __call__(self, frame: Any) -> None:
        data = (_dumps(_asdict(frame), allow_nan=True, default=str) + "\n").encode("utf-8")
        while data:
            data = data[_write(self.fd, data):]


def exit_instead(code: int = 0) -> None:
    """Stands in for os._exit: the submission's exit becomes an exception the child survives."""
    raise SystemExit(code)


def discard(*args: Any, **kwargs: Any) -> None:
    """The submission's print (and a notebook's display): arguments are still evaluated, nothing is
    formatted or written, since nobody reads it (torch's repr is slow)."""


def patch_runtime() -> None:
    """What every run of a submission needs: a plotting backend without a screen whatever the file asks."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    os._exit = exit_instead  # type: ignore[assignment]
    matplotlib = sys.modules.get("matplotlib")
    if matplotlib is not None and not getattr(matplotlib.use, "_grader", False):
        chosen = matplotlib.use

        def use(backend: str, *args: Any, **kwargs: Any) -> None:
            """matplotlib.use('TkAgg') needs a screen the sandbox has not: every backend stays Agg."""
            chosen("Agg", *args, **kwargs)

        use._grader = True  # type: ignore[attr-defined]
        matplotlib.use = use  # type: ignore[attr-defined]


def module_builtins() -> dict[str, Any]:
    """The builtins a submission's module sees: print and IPython's display discard what they are given
    (input() meets the empty stdin, as `python file.py < /dev/null` would: EOFError)."""
    return {**builtins.__dict__, "print": discard, "display": discard}


_armed = False  # a timer set by `limited` is running


def _on_alarm(signum: int, frame: Any) -> None:
    if _armed:
        raise ProbeTimeout()


def limited(seconds: float, fn: Callable[[], Any]) -> Any:
    """Run fn for at most `seconds`. The alarm repeats every 0.1 s, so code whose bare `except:`
    swallows one timeout meets the next one outside its `try` (at its loop's jump back)."""
    global _armed
    signal.signal(signal.SIGALRM, _on_alarm)
    _armed = True
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.01), 0.1)
    try:
        return fn()
    finally:
        _armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)


def text(e: BaseException) -> str:
    try:
        return str(e)[:MESSAGE_CHARS]
    except Exception:
        return ""


def child_error(e: BaseException, filename: str) -> ChildError:
    """An exception as the protocol's error code, placed at the submission's own line and function."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == filename]
    line = frames[-1].lineno if frames else None
    function = frames[-1].name if frames and frames[-1].name != "<module>" else None
    if isinstance(e, ProbeTimeout):
        return ChildError(code="timeout", line=line, function=function)
    if isinstance(e, SystemExit):
        code = e.code if isinstance(e.code, (int, type(None))) else str(e.code)[:MESSAGE_CHARS]
        return ChildError(code="exit", type="SystemExit", exit_code=code, line=line, function=function)
    return ChildError(code="raised", type=type(e).__name__, message=text(e), line=line, function=function)


def new_module(name: str, filename: str) -> types.ModuleType:
    """A fresh namespace for the submission, registered as `name` (`submission` or `__main__`)."""
    module = types.ModuleType(name)
    module.__file__ = os.path.join(os.getcwd(), filename)
    module.__builtins__ = module_builtins()  # type: ignore[attr-defined]
    sys.modules[name] = module
    sys.argv = [filename]
    return module
