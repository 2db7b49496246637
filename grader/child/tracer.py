"""The trace of the program's own `__main__`: the parameters and their gradients around each backward().

The parent decides from these steps whether the student's own loop trains as the reference does; the
child only records them (the first `rounds` of them), by routing torch's backward() through a Tracer.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

from grader.protocol import Step

from .values import is_tensor, numbers


class Tracer:
    """Records the parameters around each backward() of the program's own run (see install_tracer)."""

    current: Tracer | None = None

    def __init__(self, trace: dict[str, Any], module: dict[str, Any]) -> None:
        self.trace = trace
        self.module = module
        self.calls = 0
        self.steps: list[Step] = []

    def _objects(self) -> list[Any] | None:
        t = self.trace
        if t["packed"] is not None:
            held = self.module.get(t["packed"])
            return None if held is None else [held]
        if not t["weights"] or any(g not in self.module for g in t["weights"].values()):
            return None
        return [self.module[g] for g in t["weights"].values()]

    def weights(self) -> tuple[list[Any], list[Any]]:
        """The parameters' numbers and their .grad's numbers, position by position."""
        objs = self._objects()
        if objs is None:
            return [], []
        if self.trace["packed"] is not None and not isinstance(objs[0], (list, tuple)):
            held = objs[0]  # one tensor or array: its elements, and its .grad's
            got = numbers(held)
            grad = getattr(held, "grad", None)
            g = numbers(grad) if grad is not None else None
            size = len(self.trace["members"])
            w = [[v] for v in got] if isinstance(got, list) and len(got) == size else [got] * size
            gs = [[v] for v in g] if isinstance(g, list) and len(g) == size else [None] * size
            return w, gs
        if self.trace["packed"] is not None:
            objs = list(objs[0])  # a list of the weights' own tensors
        return [numbers(o) for o in objs], [None if getattr(o, "grad", None) is None else numbers(o.grad) for o in objs]

    def _each(self) -> list[Any]:
        objs = self._objects() or []
        return list(objs[0]) if self.trace["packed"] is not None and objs and isinstance(objs[0], (list, tuple)) \
            else objs

    def leaf(self) -> bool:
        return all(getattr(o, "is_leaf", True) for o in self._each())

    def around(self, tensor: Any, backward: Callable[[], Any]) -> Any:
        self.calls += 1
        if len(self.steps) >= self.trace["rounds"]:
            return backward()
        w, before = self.weights()
        leaf = self.leaf()
        result = backward()
        _, after = self.weights()
        self.steps.append(Step(weights=w, grads_before=before, grads_after=after, leaf=leaf,
                               loss=numbers(tensor) if is_tensor(tensor) else None))
        return result


def install_tracer() -> None:
    """Route torch's backward() through the current Tracer (once per process: the fork server's children
    inherit an unpatched torch, so each child patches its own)."""
    torch = sys.modules.get("torch")
    if torch is None or getattr(torch.autograd.backward, "_grader", False):
        return
    original = torch.autograd.backward

    def backward(tensors: Any, *args: Any, **kwargs: Any) -> Any:
        tracer = Tracer.current
        if tracer is None:
            return original(tensors, *args, **kwargs)
        return tracer.around(tensors, lambda: original(tensors, *args, **kwargs))

    backward._grader = True  # type: ignore[attr-defined]
    torch.autograd.backward = backward
