"""The child's runtime around the submission: its own output channel, timers, and the patches
that keep a submission's exits and prints from ending or slowing the child.

Everything here is bound before the submission runs, so patching `os` or `json` later
cannot change how observations leave.
"""

from __future__ import annotations

import json
import os
import signal
from typing import Any, Callable

_write = os.write  # bound before the submission can patch os
real_exit = os._exit
_dumps = json.dumps


class ProbeTimeout(BaseException):
    """Raised by the interval timer; a BaseException so `except Exception` cannot swallow it."""


class Emitter:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    def __call__(self, frame: dict[str, Any]) -> None:
        data = (_dumps(frame, allow_nan=True, default=str) + "\n").encode("utf-8")
        while data:
            data = data[_write(self.fd, data):]


def exit_instead(code: int = 0) -> None:
    """Stands in for os._exit: the submission's exit becomes an exception the harness survives."""
    raise SystemExit(code)


def discard(*args: Any, **kwargs: Any) -> None:
    """The submission's print: arguments are still evaluated, nothing is formatted or written."""


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
    signal.setitimer(signal.ITIMER_REAL, seconds, 0.1)
    try:
        return fn()
    finally:
        _armed = False
        signal.setitimer(signal.ITIMER_REAL, 0)


