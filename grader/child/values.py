"""Values across the boundary: the submission's numbers as plain lists of floats (or why they are
not numbers), and the case's values built in the shapes and types the submission itself uses."""

from __future__ import annotations

import sys
from typing import Any, Callable

MAX_ITEMS = 32  # returned values kept per call
MAX_NUMBERS = 64  # numbers kept per value


def numbers(value: Any) -> list[float] | dict[str, Any]:
    """A value as a flat list of floats, or a description of why it is not numeric."""
    torch = sys.modules.get("torch")
    try:
        if torch is not None and isinstance(value, torch.Tensor):
            if value.numel() == 1 and not value.is_complex():  # the common case, cheaply
                return [float(value.item())]
            info = {"shape": list(value.shape), "dtype": str(value.dtype).replace("torch.", "")}
            if value.numel() > MAX_NUMBERS or value.is_complex():
                return {"type": "tensor", **info}
            return [float(v) for v in value.detach().reshape(-1).double().tolist()]
        np = sys.modules.get("numpy")
        if np is not None and isinstance(value, (np.ndarray, np.generic)):
            arr = np.asarray(value)
            if arr.dtype.kind not in "biuf" or arr.size > MAX_NUMBERS:
                return {"type": "ndarray", "shape": list(arr.shape), "dtype": str(arr.dtype)}
            return [float(v) for v in arr.astype(float).ravel().tolist()]
        if isinstance(value, (bool, int, float)):
            return [float(value)]
        if isinstance(value, (list, tuple)) and len(value) <= MAX_NUMBERS:
            flat: list[float] = []
            for item in value:
                got = numbers(item)
                if isinstance(got, dict):
                    return {"type": type(value).__name__}
                flat.extend(got)
            return flat[:MAX_NUMBERS]
    except Exception as e:  # a hostile object whose conversion raises
        return {"type": type(value).__name__, "error": text(e)}
    return {"type": type(value).__name__}


def several(value: Any) -> list[Any]:
    """A return value as its list of outputs: a tuple or list is several, anything else one."""
    return list(value) if isinstance(value, (tuple, list)) else [value]


def returned(value: Any) -> list[Any]:
    """A function's return value as the numbers of each of its outputs."""
    return [numbers(v) for v in several(value)[:MAX_ITEMS]]


def text(e: BaseException) -> str:
    try:
        return str(e)[:300]
    except Exception:
        return "(unprintable)"


class Values:
    """Builds the case's values in the shapes and types the submission itself uses."""

    def __init__(self, job: dict[str, Any], module: dict[str, Any]) -> None:
        self.framework = job["framework"]
        self.names = job["names"]  # inputs / targets / weights -> [names]
        self.lists = job["lists"]  # list name -> group
        self.inject_as = job["inject_as"]
        self.group_of = {n: g for g, ns in self.names.items() for n in ns}
        self.protos = {n: module.get(n) for n in [*self.group_of, *self.lists]}
        self.torch = sys.modules.get("torch") if self.framework == "torch" else None
        self.makers: dict[str, Callable[[float], Any]] = {}

    def _maker(self, name: str) -> Callable[[float], Any]:
        """How to make the value of `name` like the submission's own: decided once per name."""
        proto, group = self.protos.get(name), self.group_of.get(name, "")
        torch = self.torch
        if torch is not None:
            if isinstance(proto, torch.Tensor) and proto.numel() == 1 and proto.is_floating_point():
                shape, dtype = tuple(proto.shape), proto.dtype
                make = lambda v: torch.full(shape, v, dtype=dtype)  # noqa: E731
            elif group == "weights" or (proto is None and self.inject_as == "tensor"):
                make = lambda v: torch.tensor([v], dtype=torch.float32)  # noqa: E731
            else:
                return float
            return (lambda v: make(v).requires_grad_()) if group == "weights" else make
        np = sys.modules.get("numpy")
        if np is not None and isinstance(proto, np.ndarray) and proto.size == 1:
            shape, dtype = proto.shape, proto.dtype if proto.dtype.kind == "f" else float
            return lambda v: np.full(shape, v, dtype=dtype)
        return float

    def build(self, case: dict[str, float]) -> dict[str, Any]:
        """Scalars by name plus the lists (x, y, w) holding the same objects."""
        makers = self.makers
        out = {n: (makers.get(n) or makers.setdefault(n, self._maker(n)))(v) for n, v in case.items()}
        for list_name, group in self.lists.items():
            members = self.names[group]
            if all(m in out for m in members):
                proto = self.protos.get(list_name)
                if isinstance(proto, (list, tuple)) and proto and not is_tensor(proto[0]) \
                        and group != "weights":
                    out[list_name] = [case[m] for m in members]  # the list style keeps floats
                else:
                    out[list_name] = [out[m] for m in members]
        return out

    def weight_objects(self, values: dict[str, Any]) -> list[Any]:
        return [values[n] for n in self.names["weights"]]


def is_tensor(v: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(v, torch.Tensor)
