"""Where the submission keeps its parameters, and in which types the grader must build each value.

The weights are found from the code, never from the numbers: each under its own name (`w1`..`w8`,
`w_1`, `W1`; the linear model's one weight under any name its forward reads), or all in one
object (a list of tensors, a tensor or an array of the right size) that a bound function reads
or takes. Each value is then built like the submission's own global of that role: the template's
`torch.Tensor([0.5])` gets tensors of shape [1], a float gets a float.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..facts import Facts
from ..protocol import Kind, Make, Pack
from ..spec import Assignment
from .names import Keys, norm

WEIGHTISH = ("w", "weight", "weights", "param", "params", "theta", "omega")


@dataclass
class Weights:
    """How the weights live: `names` (weight key -> the submission's global) or one `packed` global."""

    names: dict[str, str] = field(default_factory=dict)
    packed: str | None = None  # the submission's name of the one object holding them all
    how: str = "names"  # names | single | packed | option (--bind weights=...) | none
    candidates: tuple[str, ...] = ()  # ambiguous: several objects could be the weights


def numel(k: Kind) -> int:
    return math.prod(k.shape) if k.shape is not None else (len(k.numbers) if k.numbers else 1)


def find_weights(a: Assignment, facts: Facts, globals_: dict[str, Kind], readers: list[str],
                 params: set[str]) -> Weights:
    """From the globals the bound functions read (and the parameters they take), never from values."""
    n = len(a.weights)
    read = set().union(*(facts.reads(f) for f in readers)) if readers else set()
    read |= {u.target for u in facts.updates}  # what the program's own updates step (a loop with no functions)
    spoken = read | params | set(globals_) | set(facts.assigned)
    names: dict[str, str] = {}
    for w in a.weights:
        same = [s for s in spoken if s == w] or sorted(s for s in spoken if norm(s) == norm(w))
        single = [s for s in same if s not in globals_ or numel(globals_[s]) == 1]
        if len(single) == 1:
            names[w] = single[0]
    if len(names) == n:
        return Weights(names=names)
    packed = [g for g, k in globals_.items() if n > 1 and numel(k) == n and (g in read or g in params)
              and (k.requires_grad or k.type in ("ndarray", "list", "tuple") or a.framework == "numpy")]
    if not packed:  # a pack taken as a parameter whose global only `__main__` sets: `forward_propagate(..., w)`
        key = Keys(a).pack_of("weights")
        packed = [p for p in params if key is not None and (p == key or norm(p) in WEIGHTISH)
                  and (p not in globals_ or numel(globals_[p]) == n)]
    if len(packed) == 1:
        return Weights(packed=packed[0], how="packed")
    if len(packed) > 1:
        return Weights(how="none", candidates=tuple(sorted(packed)))
    if n == 1:
        single_ = sorted(g for g, k in globals_.items() if g in read and numel(k) == 1
                         and (k.requires_grad or k.type == "float"))
        grads = [g for g in single_ if globals_[g].requires_grad]
        pick = grads if len(grads) == 1 else single_
        if len(pick) == 1:
            return Weights(names={a.weights[0]: pick[0]}, how="single")
        if len(pick) > 1:
            return Weights(how="none", candidates=tuple(pick))
    return Weights(names=names, how="names" if names else "none")


def _make_like(k: Kind | None, grad: bool, framework: str, inject_as: str) -> Make:
    """A value built like the submission's own global `k` (a float where it has none)."""
    if k is not None and k.type == "tensor" and numel(k) == 1:
        return Make("tensor", list(k.shape or []), k.dtype if k.dtype in ("float32", "float64") else "float32",
                    grad=grad)
    if k is not None and k.type == "ndarray" and numel(k) == 1:
        return Make("ndarray", list(k.shape or []), k.dtype if k.dtype in ("float32", "float64") else "float64")
    if framework == "torch" and (grad or (k is None and inject_as == "tensor")):
        return Make("tensor", [1], "float32", grad=grad)
    return Make("float")


def makes(a: Assignment, keys: Keys, weights: Weights, globals_: dict[str, Kind],
          made: dict[str, str]) -> tuple[dict[str, Make], list[Pack]]:
    """How to build every value of a case, and the packs: each like the submission's own (as loading it
    defined it, or, for what only its `__main__` sets, as the code makes it: `torch.tensor(...)`, `np.array`)."""
    own = {v: k for k, v in weights.names.items()}
    make: dict[str, Make] = {}
    for key in [*a.inputs, *a.targets, *a.weights]:
        name = weights.names.get(key) or next((g for g in globals_ if keys.key(g) == key and g not in own), None)
        grad = key in a.weights and a.framework == "torch"
        make[key] = _make_like(globals_.get(name) if name else None, grad, a.framework, a.inject_as)
    packs = []
    for pack_key, members in keys.packs.items():
        is_weights = members == a.weights
        name = weights.packed if is_weights and weights.packed else pack_key
        k = globals_.get(name)
        kind = k.type if k is not None else made.get(name, "tensor" if is_weights and a.framework == "torch" else "")
        if kind == "tensor" and (k is None or not k.tensors):
            dtype = k.dtype if k is not None and k.dtype in ("float32", "float64") else "float32"
            packs.append(Pack(pack_key, members, "tensor", dtype, grad=is_weights and a.framework == "torch"))
        elif kind == "ndarray" or k is None and a.framework == "numpy":
            packs.append(Pack(pack_key, members, "ndarray", k.dtype if k is not None and k.dtype else "float64"))
        else:  # a list: of the members' own tensors (the list style), or of plain numbers
            packs.append(Pack(pack_key, members, "list", floats=not (k is not None and k.tensors)))
    return make, packs
