"""Values across the boundary: the submission's numbers as plain lists of floats (or what they
were instead), its globals described for binding, and a case's values built in the types and
shapes the parent's binding asks for (the submission's own)."""

from __future__ import annotations

import math
import sys
from typing import Any

from grader.protocol import Kind, NotNumbers, Value

MAX_ITEMS = 32  # returned values kept per call
MAX_NUMBERS = 64  # numbers kept per value


def _torch() -> Any:
    return sys.modules.get("torch")


def is_tensor(v: Any) -> bool:
    torch = _torch()
    return torch is not None and isinstance(v, torch.Tensor)


def numbers(value: Any) -> Value:
    """A value as a flat list of floats, or what it is instead."""
    torch = _torch()
    try:
        if torch is not None and isinstance(value, torch.Tensor):
            if value.numel() == 1 and not value.is_complex():  # the common case, cheaply
                return [float(value.item())]
            if value.numel() > MAX_NUMBERS or value.is_complex():
                return NotNumbers("tensor", list(value.shape), str(value.dtype).replace("torch.", ""))
            return [float(v) for v in value.detach().reshape(-1).double().tolist()]
        np = sys.modules.get("numpy")
        if np is not None and isinstance(value, (np.ndarray, np.generic)):
            arr = np.asarray(value)
            if arr.dtype.kind not in "biuf" or arr.size > MAX_NUMBERS:
                return NotNumbers("ndarray", list(arr.shape), str(arr.dtype))
            return [float(v) for v in arr.astype(float).ravel().tolist()]
        if isinstance(value, (bool, int, float)):
            return [float(value)]
        if isinstance(value, (list, tuple)) and len(value) <= MAX_NUMBERS:
            flat: list[float] = []
            for item in value:
                got = numbers(item)
                if not isinstance(got, list):
                    return NotNumbers(type(value).__name__)
                flat.extend(got)
            return flat[:MAX_NUMBERS]
    except Exception as e:  # a hostile object whose conversion raises
        return NotNumbers(type(value).__name__, raised=type(e).__name__)
    return None if value is None else NotNumbers(type(value).__name__)


def several(value: Any) -> list[Any]:
    """A return value as its list of outputs: a tuple or list is several, anything else one."""
    return list(value) if isinstance(value, (tuple, list)) else [value]


def spread(value: Any, count: int) -> list[Any]:
    """A return value as its outputs; one array (or tensor, list) of `count` elements where `count` outputs
    are due is those elements: `return np.array([d_w1, ..., d_w8])` gives eight gradients."""
    outs = several(value)
    if count > 1 and len(outs) == 1:
        try:
            if len(outs[0]) == count:
                return [outs[0][i] for i in range(count)]
        except (TypeError, IndexError):
            pass
    return outs


def returned(value: Any, count: int = 0) -> list[Value]:
    """A function's return value as the numbers of each of its outputs (`count` of them due)."""
    return [numbers(v) for v in spread(value, count)[:MAX_ITEMS]]


def scalar(value: Any) -> float | None:
    got = numbers(value)
    return got[0] if isinstance(got, list) and len(got) == 1 and math.isfinite(got[0]) else None


def kind(value: Any) -> Kind | None:
    """What a global holds, when it holds numbers (None for functions, modules and the rest)."""
    torch = _torch()
    np = sys.modules.get("numpy")
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Kind(type(value).__name__, numbers=[float(value)])
    if torch is not None and isinstance(value, torch.Tensor):
        got = numbers(value)
        return Kind("tensor", list(value.shape), str(value.dtype).replace("torch.", ""),
                    requires_grad=bool(value.requires_grad), numbers=got if isinstance(got, list) else None)
    if np is not None and isinstance(value, np.ndarray):
        got = numbers(value)
        return Kind("ndarray", list(value.shape), str(value.dtype), numbers=got if isinstance(got, list) else None)
    if isinstance(value, (list, tuple)) and 0 < len(value) <= MAX_NUMBERS:
        got = numbers(value)
        if not isinstance(got, list):
            return None
        tensors = all(is_tensor(v) for v in value)
        grad = tensors and all(v.requires_grad for v in value)
        return Kind(type(value).__name__, [len(value)], numbers=got, tensors=tensors, requires_grad=grad)
    return None


class Builder:
    """Builds a case's values as the binding says: each key in its own type, packs holding members."""

    def __init__(self, binding: dict[str, Any]) -> None:
        self.make: dict[str, dict[str, Any]] = binding["make"]
        self.packs: list[dict[str, Any]] = binding["packs"]
        self.weights: list[str] = binding["weights"]
        self.packed: str | None = binding["packed_weights"]
        self.torch: Any = _torch() if binding["framework"] == "torch" else None
        self.np: Any = sys.modules.get("numpy")

    def one(self, key: str, v: float) -> Any:
        m = self.make.get(key)
        if m is None or m["kind"] == "float":
            return float(v)
        if m["kind"] == "ndarray":
            return self.np.full(m["shape"], v, dtype=m["dtype"])
        made = self.torch.full(m["shape"], v, dtype=getattr(self.torch, m["dtype"]))
        return made.requires_grad_() if m["grad"] else made

    def build(self, case: dict[str, float]) -> dict[str, Any]:
        """Every key of the case, then the packs made of them."""
        out = {k: self.one(k, v) for k, v in case.items()}
        for p in self.packs:
            if all(m in case for m in p["members"]):
                out[p["key"]] = self._pack(p, [case[m] for m in p["members"]], [out[m] for m in p["members"]])
        return out

    def extend(self, values: dict[str, Any], new: dict[str, Any]) -> None:
        """Add values (a stage's outputs) and remake the packs they are members of (`d_w` of d_w1..d_w8)."""
        values.update(new)
        for p in self.packs:
            members = p["members"]
            if any(m in new for m in members) and all(m in values for m in members):
                values[p["key"]] = self._pack(p, [scalar(values[m]) or 0.0 for m in members],
                                              [values[m] for m in members])

    def _pack(self, p: dict[str, Any], floats: list[float], objects: list[Any]) -> Any:
        if p["kind"] == "list":
            return list(floats) if p["floats"] else list(objects)
        if p["kind"] == "ndarray":
            return self.np.array(floats, dtype=p["dtype"])
        made = self.torch.tensor(floats, dtype=getattr(self.torch, p["dtype"]))
        return made.requires_grad_() if p["grad"] else made

    @property
    def _packed(self) -> dict[str, Any] | None:
        """The weights' pack when one tensor or array holds them all (a list of tensors is not one)."""
        p = next((p for p in self.packs if p["key"] == self.packed), None)
        return p if p is not None and p["kind"] != "list" else None

    def weight_objects(self, values: dict[str, Any]) -> list[Any]:
        """The objects holding the weights, in the model's order: one each, or the packed one's elements
        at each weight's position (a packed vector's order may differ from the model's)."""
        pack = self._packed
        if pack is not None:
            held = values[pack["key"]]
            return [held[pack["members"].index(k)] for k in self.weights]
        return [values[k] for k in self.weights]

    def weight_numbers(self, values: dict[str, Any]) -> list[Value]:
        return [numbers(w) for w in self.weight_objects(values)]

    def grads(self, values: dict[str, Any]) -> list[Value]:
        """Each weight's .grad (torch), read where autograd leaves it: the leaf, or the packed leaf."""
        pack = self._packed
        if pack is not None:
            g = getattr(values[pack["key"]], "grad", None)
            return [None] * len(self.weights) if g is None else \
                [numbers(g[pack["members"].index(k)]) for k in self.weights]
        return [None if getattr(w, "grad", None) is None else numbers(w.grad) for w in self.weight_objects(values)]

    def set_grads(self, values: dict[str, Any], grads: list[float]) -> None:
        """Hand the weights known gradients, as a backward() would have left them."""
        torch = self.torch
        pack = self._packed
        if pack is not None:
            held = values[pack["key"]]
            by_key = dict(zip(self.weights, grads))
            held.grad = torch.tensor([by_key[m] for m in pack["members"]], dtype=held.dtype).reshape(held.shape)
            return
        for w, g in zip(self.weight_objects(values), grads):
            w.grad = torch.full_like(w, g).detach()

    def rebind_weights(self, values: dict[str, Any], new: Any) -> None:
        """Put an update's result (one object per weight, or the packed object) where the next call finds it."""
        pack = self._packed
        if pack is not None:
            if isinstance(new, (list, tuple)) and len(new) == len(self.weights):  # parts of a packed array
                by_key = dict(zip(self.weights, new))
                new = self._pack(pack, [scalar(by_key[m]) or 0.0 for m in pack["members"]], [])
            values[pack["key"]] = new
            return
        values.update(zip(self.weights, new))
        if self.packed is not None:  # a list of the weights' own objects
            values[self.packed] = list(new)
