"""The parent's reading of a child's result channel: every frame decoded once, strictly, in order.

The child sends a fixed sequence (see grader/protocol.py): sandbox, load, the layout when asked,
one frame per planned probe in the plan's order, done, main. Anything else (a second frame of
a kind, an unknown kind, key or probe id, a frame out of order, a probe that claims to have
run another case than the one it was given, a line that is not JSON) means the submission
wrote into the private channel: the whole file is then an error, never scored on what it sent.
A prefix of the sequence is no forgery: the child may have died or run out of time.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .protocol import (
    FRAMES,
    RESULTS,
    AutogradResult,
    BackwardResult,
    CallResult,
    DoneFrame,
    LayoutFrame,
    LoadFrame,
    MainFrame,
    Plan,
    Probe,
    ProbeFrame,
    SandboxFrame,
    TrainResult,
    UpdateResult,
    read_layout,
)

Result = CallResult | AutogradResult | BackwardResult | UpdateResult | TrainResult


@dataclass(frozen=True)
class Observed:
    """One probe as planned, and what the child reported of it (the result, or the error)."""

    probe: Probe
    frame: ProbeFrame
    result: Result | None


@dataclass
class Observations:
    sandbox: SandboxFrame | None = None
    load: LoadFrame | None = None
    plan: Plan | None = None
    layout: LayoutFrame | None = None
    probes: dict[str, Observed] = field(default_factory=dict)
    done: DoneFrame | None = None
    main: MainFrame | None = None


@cache
def _adapter(kind: type) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


class Forged(Exception):
    """The channel holds a frame the child cannot have sent."""


class Conversation:
    """Reads one child's frames as they arrive; answers its LoadFrame with the plan `planner` makes of it."""

    def __init__(self, planner: Callable[[LoadFrame], Plan]) -> None:
        self.planner = planner
        self.seen = Observations()
        self.forged: str | None = None  # why the channel is not to be trusted
        self._next = 0  # the next planned probe

    def garbled(self) -> None:
        self.forged = self.forged or "a line that is not a JSON object"

    def feed(self, raw: dict[str, Any]) -> bytes | None:
        if self.forged is not None:
            return None
        try:
            return self._take(raw)
        except (Forged, ValidationError) as e:
            self.forged = str(e).splitlines()[0][:200]
            return None

    def _take(self, raw: dict[str, Any]) -> bytes | None:
        kind = raw.get("kind")
        if kind not in FRAMES or kind != self._expected(raw):
            raise Forged(f"a {kind!r} frame where the child sends {self._expected(raw)!r}")
        frame = _adapter(FRAMES[kind]).validate_python(raw)
        seen = self.seen
        if isinstance(frame, SandboxFrame):
            seen.sandbox = frame
        elif isinstance(frame, LoadFrame):
            seen.load = frame
            seen.plan = self.planner(frame)
            return json.dumps(dataclasses.asdict(seen.plan), allow_nan=False).encode()
        elif isinstance(frame, LayoutFrame):
            self._check_layout(frame)
            seen.layout = frame
        elif isinstance(frame, ProbeFrame):
            assert seen.plan is not None
            probe = seen.plan.probes[self._next]
            self._next += 1
            seen.probes[probe.id] = Observed(probe, frame, self._result(probe, frame))
        elif isinstance(frame, MainFrame):
            seen.main = frame
        else:
            seen.done = frame
        return None

    def _expected(self, raw: dict[str, Any]) -> str | None:
        """The one kind of frame that may come next."""
        seen = self.seen
        if seen.sandbox is None:
            return "sandbox"
        if seen.load is None:
            return "load"
        assert seen.plan is not None
        if seen.plan.binding.layout is not None and seen.layout is None:
            return "layout"
        if self._next < len(seen.plan.probes):
            return "probe" if raw.get("id") == seen.plan.probes[self._next].id else None
        if seen.done is None:
            return "done"
        return "main" if seen.main is None else None

    def _check_layout(self, frame: LayoutFrame) -> None:
        """The order the child read must be the one its own numbers say (the same rule, read_layout)."""
        asked = self.seen.plan.binding.layout  # type: ignore[union-attr]
        assert asked is not None
        order = read_layout(frame.values, asked.at, asked.exponents) if frame.values is not None else None
        if order != frame.order:
            raise Forged("a layout frame whose order does not follow from its numbers")

    def _result(self, probe: Probe, frame: ProbeFrame) -> Result | None:
        assert self.seen.plan is not None
        free = set(self.seen.plan.binding.weights) if probe.own_weights else set()  # its own start may differ
        changed = any(frame.case[k] != v for k, v in probe.case.items() if k in frame.case and k not in free)
        if set(frame.case) != set(probe.case) or changed:
            raise Forged(f"probe {probe.id} reports another case than the one it was given")
        if frame.error is not None:
            if frame.result is not None:
                raise Forged(f"probe {probe.id} reports both a result and an error")
            return None
        if frame.result is None:
            raise Forged(f"probe {probe.id} reports neither a result nor an error")
        return _adapter(RESULTS[probe.kind]).validate_python(frame.result)
