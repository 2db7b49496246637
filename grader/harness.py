"""Runs inside the sandboxed child: exec the submission, call its functions, emit observations.

Standalone on purpose: it imports nothing of the grader and never sees an expected value;
numpy or torch are imported only for a submission of that framework. The job arrives as
JSON on one inherited pipe, observations leave as JSON lines on another; the child's
stdout and stderr belong to the submission and are never read as results.

    python -I -X utf8 harness.py JOB_FD RESULT_FD
"""

from __future__ import annotations

import builtins
import inspect
import json
import math
import os
import resource  # at the top: the fork server imports it once, not each child
import signal
import sys
import time
import traceback
import types
from typing import Any, Callable

MAX_ITEMS = 32  # returned values kept per call
MAX_NUMBERS = 64  # numbers kept per value
_write = os.write  # bound before the submission can patch os
_real_exit = os._exit
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


def _exit_instead(code: int = 0) -> None:
    """Stands in for os._exit: the submission's exit becomes an exception the harness survives."""
    raise SystemExit(code)


def _discard(*args: Any, **kwargs: Any) -> None:
    """The submission's print: arguments are still evaluated, nothing is formatted or written."""


_armed = False  # a timer set by `limited` is running
_counting: Child | None = None  # whose backward() calls the patched torch counts


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


# ---------------------------------------------------------------- values


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
        return {"type": type(value).__name__, "error": _text(e)}
    return {"type": type(value).__name__}


def _several(value: Any) -> list[Any]:
    """A return value as its list of outputs: a tuple or list is several, anything else one."""
    return list(value) if isinstance(value, (tuple, list)) else [value]


def returned(value: Any) -> list[Any]:
    """A function's return value as the numbers of each of its outputs."""
    return [numbers(v) for v in _several(value)[:MAX_ITEMS]]


def _text(e: BaseException) -> str:
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
                if isinstance(proto, (list, tuple)) and proto and not _is_tensor(proto[0]) \
                        and group != "weights":
                    out[list_name] = [case[m] for m in members]  # the list style keeps floats
                else:
                    out[list_name] = [out[m] for m in members]
        return out

    def weight_objects(self, values: dict[str, Any]) -> list[Any]:
        return [values[n] for n in self.names["weights"]]


def _is_tensor(v: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(v, torch.Tensor)


# ---------------------------------------------------------------- binding


class Binder:
    """Finds each role's function and maps its parameters to the case's values by name."""

    def __init__(self, job: dict[str, Any], module: dict[str, Any], names_read: set[str]) -> None:
        self.module = module
        self.roles = job["roles"]
        self.aliases: dict[str, str] = {}
        for canonical, alts in job["aliases"].items():
            for alt in alts:
                self.aliases[alt] = canonical
        self.names_read = names_read
        self.step_names = {"step", *(a for a, c in self.aliases.items() if c == "step")}
        self._plans: dict[tuple[int, str, frozenset[str]], tuple[Callable[..., Any], list[str], bool]] = {}

    def function(self, role: str) -> tuple[str, Callable[..., Any]] | None:
        for name in self.roles[role]["names"]:
            fn = self.module.get(name)
            if callable(fn) and not isinstance(fn, type):
                return name, fn
        return None

    def inject(self, values: dict[str, Any]) -> None:
        """Set the globals the submission's functions read, as its `__main__` would have."""
        for name, v in values.items():
            if name in self.names_read:
                self.module[name] = v

    def call(self, role: str, values: dict[str, Any]) -> tuple[Any, bool]:
        """Call the role's function; also says whether the grader chose its step."""
        found = self.function(role)
        if found is None:
            raise LookupError(f"no function named {' or '.join(self.roles[role]['names'])}")
        name, fn = found
        self.inject(values)
        keys, step_given = self._plan(name, fn, role, values)
        return fn(*[values[k] for k in keys]), step_given

    def _plan(self, name: str, fn: Callable[..., Any], role: str, values: dict[str, Any]) -> tuple[list[str], bool]:
        """Which values to pass and whether that chooses its step: worked out once per function and kind of call."""
        key = (id(fn), role, frozenset(values))
        plan = self._plans.get(key)
        if plan is None or plan[0] is not fn:
            keys = self._arguments(name, fn, role, values)
            reads = names_read_by(fn.__code__) if isinstance(fn, types.FunctionType) else set()
            plan = self._plans[key] = (fn, keys, "step" in keys or bool(self.step_names & reads))
        return plan[1], plan[2]

    def _arguments(self, name: str, fn: Callable[..., Any], role: str, values: dict[str, Any]) -> list[str]:
        """The values' names to pass, by parameter name (or alias); by the contract's order when names are unknown."""
        params = _parameters(fn)
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        variadic = any(p.kind == p.VAR_POSITIONAL for p in params)
        canonical = self.roles[role]["params"]
        keys: list[str] = []
        for p in positional:
            key = p.name if p.name in values else self.aliases.get(p.name, p.name)
            if key in values:
                keys.append(key)
            elif p.default is not p.empty:
                break  # this one and the rest keep their defaults
            else:
                keys = []
                break
        else:
            if not variadic:
                return keys
        required = [p for p in positional if p.default is p.empty]
        if (len(required) == len(canonical) or variadic) and all(c in values for c in canonical):
            return list(canonical)
        missing = [p.name for p in required if p.name not in values and self.aliases.get(p.name) not in values]
        raise TypeError(f"cannot tell what to pass as {', '.join(missing) or 'its parameters'} "
                        f"of {name}{inspect.signature(fn) if params else '()'}; "
                        f"expected parameters like ({', '.join(canonical)})")


def _parameters(fn: Callable[..., Any]) -> list[inspect.Parameter]:
    """A function's parameters (none when it has no signature), looked up once per function."""
    key = id(fn)
    if key not in _SIGNATURES or _SIGNATURES[key][0] is not fn:
        try:
            params = list(inspect.signature(fn).parameters.values())
        except (TypeError, ValueError):
            params = []
        _SIGNATURES[key] = (fn, params)
    return _SIGNATURES[key][1]


_SIGNATURES: dict[int, tuple[Callable[..., Any], list[inspect.Parameter]]] = {}


def names_read_by(code: types.CodeType, *, inner_only: bool = False) -> set[str]:
    """The global names a code object mentions (co_names), its nested functions' included."""
    found: set[str] = set()
    stack = [k for k in code.co_consts if isinstance(k, types.CodeType)] if inner_only else [code]
    while stack:
        c = stack.pop()
        found.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return found


# ---------------------------------------------------------------- the runs


class Child:
    """One submission's process: its probes first, then its own `__main__`, each in a fresh namespace.

    Probes come first so that a `__main__` that hangs, crashes or kills the process cannot cost
    their observations; they must end by `probes_until`, which keeps `main_seconds` for the
    program itself inside the submission's `total_seconds`.
    """

    def __init__(self, job: dict[str, Any], emit: Emitter, started: float) -> None:
        self.job = job
        self.emit = emit
        self.code = compile(job["source"], job["filename"], "exec", dont_inherit=True)
        limits = job["limits"]
        self.probes_until = started + limits["total_seconds"] - limits["main_seconds"]
        self.backward_calls = 0
        self.first_backward_weights: dict[str, Any] | None = None
        self.module: dict[str, Any] = {}
        self.first_rounds: dict[str, dict[str, Any]] = {}  # training probe id -> its first round, as autograd sees it

    def where(self, e: BaseException) -> str:
        frames = [f for f in traceback.extract_tb(e.__traceback__) if f.filename == self.job["filename"]]
        if not frames:
            return ""
        f = frames[-1]
        return f"line {f.lineno}" + (f" in {f.name}" if f.name != "<module>" else "")

    def error(self, e: BaseException) -> dict[str, Any]:
        if isinstance(e, ProbeTimeout):
            return {"type": "Timeout", "message": "took longer than the time limit", "where": self.where(e)}
        if isinstance(e, SystemExit):
            return {"type": "SystemExit", "message": f"sys.exit({e.code!r}) was called", "where": self.where(e),
                    "code": e.code if isinstance(e.code, (int, type(None))) else str(e.code)}
        return {"type": type(e).__name__, "message": _text(e), "where": self.where(e)}

    def prepare(self, name: str) -> None:
        """A fresh module namespace, in the scratch folder, with torch's backward() counted from zero."""
        global _counting
        os.chdir(self.job["scratch"])  # the probes' module may have moved elsewhere
        os.environ.setdefault("MPLBACKEND", "Agg")
        os._exit = _exit_instead  # type: ignore[assignment]
        self.backward_calls = 0
        self.first_backward_weights = None
        if self.job["framework"] == "torch" and _counting is None:
            import torch

            torch.set_num_threads(1)
            original = torch.Tensor.backward

            def counted_backward(tensor: Any, *args: Any, **kwargs: Any) -> Any:
                child = _counting
                if child is not None:
                    if child.backward_calls == 0:
                        child.first_backward_weights = child.weights_now()
                    child.backward_calls += 1
                return original(tensor, *args, **kwargs)

            torch.Tensor.backward = counted_backward  # type: ignore[method-assign]
        _counting = self
        module = types.ModuleType(name)
        module.__file__ = os.path.join(os.getcwd(), self.job["filename"])
        # its output is discarded unread, so print skips the formatting (torch's repr is slow)
        module.__builtins__ = {**builtins.__dict__, "print": _discard}  # type: ignore[attr-defined]
        sys.modules[name] = module
        self.module = module.__dict__
        sys.argv = [self.job["filename"]]

    def weights_now(self) -> dict[str, Any]:
        """The submission's current weights by name, read from its globals (or its list `w`)."""
        names = self.job["names"]["weights"]
        found = {n: numbers(self.module[n]) for n in names if n in self.module}
        if len(found) < len(names):
            for list_name, group in self.job["lists"].items():
                seq = self.module.get(list_name)
                if group == "weights" and isinstance(seq, (list, tuple)) and len(seq) == len(names):
                    found = {n: numbers(v) for n, v in zip(names, seq)}
        return found

    def execute(self, seconds: float) -> dict[str, Any] | None:
        """Run the module body; the error (sys.exit included), or None."""
        try:
            limited(seconds, lambda: exec(self.code, self.module))
        except BaseException as e:  # noqa: BLE001 - the submission may raise anything
            return self.error(e)
        return None

    def forbidden_loaded(self) -> list[str]:
        """Forbidden libraries in this process: by module name, or by their native code still mapped
        (deleting `sys.modules["torch"]` cannot unload libtorch)."""
        try:
            with open("/proc/self/maps", encoding="utf-8", errors="replace") as f:
                mapped = f.read()
        except OSError:
            mapped = ""
        return sorted(m for m in self.job["forbidden_modules"]
                      if any(k == m or k.startswith(m + ".") for k in list(sys.modules)) or f"/{m}/" in mapped)

    def time_left(self, seconds: float) -> float:
        """A probe's own limit, cut to what is left of the probes' share (a floor keeps the timer armed)."""
        return max(0.01, min(seconds, self.probes_until - time.monotonic()))

    def step_global(self) -> float | None:
        for name in self.job["step_names"]:
            v = numbers(self.module.get(name)) if name in self.module else None
            if isinstance(v, list) and len(v) == 1 and math.isfinite(v[0]):
                return v[0]
        return None

    # -- main: the student's own program, once

    def run_main(self) -> None:
        self.prepare("__main__")
        error = self.execute(self.job["limits"]["main_seconds"])
        if error and error["type"] == "SystemExit" and error["code"] in (None, 0):
            error = None  # a program may end itself successfully
        self.emit({"kind": "main", "error": error, "backward_calls": self.backward_calls,
                   "initial": self.first_backward_weights, "final": self.weights_now(),
                   "step": self.step_global(), "forbidden_loaded": self.forbidden_loaded()})

    # -- probe: load as a module, then call its functions case by case

    def run_probes(self) -> None:
        self.prepare("submission")
        error = self.execute(self.time_left(self.job["limits"]["main_seconds"]))
        initial = self.first_backward_weights or self.weights_now()
        binder = Binder(self.job, self.module, names_read_by(self.code, inner_only=True))
        functions = {role: found[0] for role in self.job["roles"] if (found := binder.function(role))}
        self.emit({"kind": "load", "error": error, "functions": functions, "initial": initial,
                   "step": self.step_global()})
        values = Values(self.job, self.module)
        for probe in self.job["probes"]:
            case = dict(probe["case"])
            if probe.get("own_weights"):
                case.update({n: v[0] for n, v in initial.items() if isinstance(v, list) and len(v) == 1})
            frame: dict[str, Any] = {"kind": "probe", "id": probe["id"], "case": case}
            try:
                frame.update(self.reused(probe) or limited(
                    self.time_left(self.job["limits"]["probe_seconds"]),
                    lambda: PROBES[probe["kind"]](self, binder, values, case, probe)))
            except BaseException as e:  # noqa: BLE001
                frame["error"] = self.error(e)
            self.emit(frame)
        self.emit({"kind": "done", "forbidden_loaded": self.forbidden_loaded()})

    def reused(self, probe: dict[str, Any]) -> dict[str, Any] | None:
        """What the first training round of the same case observed for this probe's call, if it got that far."""
        first = self.first_rounds.get(probe.get("reuse", ""))
        if first is None:
            return None
        return {"returned": first["returned"]} if probe["kind"] == "call" else dict(first)


def probe_call(child: Child, binder: Binder, values: Values, case: dict[str, float],
               probe: dict[str, Any]) -> dict[str, Any]:
    result, _ = binder.call(probe["role"], values.build(case))
    return {"returned": returned(result)}


def probe_autograd(child: Child, binder: Binder, values: Values, case: dict[str, float],
                   probe: dict[str, Any]) -> dict[str, Any]:
    built = values.build(case)
    loss, _ = binder.call(probe["role"], built)
    out: dict[str, Any] = {"returned": returned(loss)}
    if not _is_tensor(loss):
        raise TypeError(f"the loss is a {type(loss).__name__}, not a tensor: backward() cannot run")
    loss.backward()
    out["grads"] = {n: None if w.grad is None else numbers(w.grad)
                    for n, w in zip(values.names["weights"], values.weight_objects(built))}
    return out


def _forward(binder: Binder, values: Values, case: dict[str, float]) -> tuple[dict[str, Any], list[Any]]:
    """The submission's forward on a case: its outputs by the role's names, as it returned them."""
    built = values.build(case)
    outputs, _ = binder.call("forward", built)
    return built, _several(outputs)


def _scalars(names: list[str], objects: list[Any]) -> dict[str, float] | None:
    got = {n: numbers(v) for n, v in zip(names, objects)}
    if len(got) < len(names) or not all(isinstance(v, list) and len(v) == 1 and math.isfinite(v[0])
                                        for v in got.values()):
        return None
    return {n: v[0] for n, v in got.items()}  # type: ignore[index]


def probe_backward(child: Child, binder: Binder, values: Values, case: dict[str, float],
                   probe: dict[str, Any]) -> dict[str, Any]:
    """Backward fed the submission's own forward outputs, and its own loss's finite differences."""
    names = binder.roles["forward"]["outputs"]
    built, outs = _forward(binder, values, case)
    fed = _scalars(names, outs)
    if fed is None:
        if not probe["fallback"]:
            raise ValueError("the forward pass gave no numbers to feed the backward pass")
        fed, outs = probe["fallback"], [probe["fallback"][n] for n in names]
    built.update(zip(names, outs))
    grads, _ = binder.call("backward", built)
    return {"returned": returned(grads), "fed": fed, "numeric": _finite_differences(binder, values, case, names)}


def _finite_differences(binder: Binder, values: Values, case: dict[str, float],
                        names: list[str]) -> list[float] | None:
    """d(its own loss)/dw by central differences of its own forward: is backward true to forward?"""
    if "error" not in names:
        return None
    at = names.index("error")
    slopes = []
    for w in values.names["weights"]:
        h = 1e-6 * max(1.0, abs(case[w]))
        ends = []
        for sign in (1, -1):
            _, outs = _forward(binder, values, {**case, w: case[w] + sign * h})
            e = numbers(outs[at]) if len(outs) > at else None
            if not (isinstance(e, list) and len(e) == 1 and math.isfinite(e[0])):
                return None
            ends.append(e[0])
        slopes.append((ends[0] - ends[1]) / (2 * h))
    return slopes


def _new_weights(child: Child, values: Values, result: Any, before: list[Any]) -> list[Any]:
    """What an update produced: the returned weights, else the globals it rebound or mutated."""
    n = len(before)
    if isinstance(result, (tuple, list)) and len(result) == n:
        return list(result)
    if isinstance(result, (tuple, list)) and len(result) == 1 and isinstance(result[0], (tuple, list)) \
            and len(result[0]) == n:
        return list(result[0])
    names = values.names["weights"]
    if all(name in child.module for name in names):
        return [child.module[name] for name in names]
    for list_name, group in values.lists.items():
        seq = child.module.get(list_name)
        if group == "weights" and isinstance(seq, (list, tuple)) and len(seq) == n:
            return list(seq)
    return before


def probe_update(child: Child, binder: Binder, values: Values, case: dict[str, float],
                 probe: dict[str, Any]) -> dict[str, Any]:
    built = values.build(case)
    grads = probe["grads"]
    weights = values.weight_objects(built)
    torch = values.torch
    if torch is not None:
        for w, g in zip(weights, grads):
            w.grad = torch.full_like(w, g).detach()
    else:
        built.update({f"d_{n}": g for n, g in zip(values.names["weights"], grads)})
    result, step_given = binder.call(probe["role"], built)
    new = _new_weights(child, values, result, weights)
    out: dict[str, Any] = {"weights": [numbers(w) for w in new], "step_given": step_given}
    if torch is not None:
        out["grads_after"] = [None if not _is_tensor(w) or w.grad is None else numbers(w.grad) for w in new]
    return out


def probe_train(child: Child, binder: Binder, values: Values, case: dict[str, float],
                probe: dict[str, Any]) -> dict[str, Any]:
    """Drive the student's own functions round after round, as its `__main__` would."""
    names = values.names["weights"]
    built = values.build(case)
    rounds: list[dict[str, Any]] = []
    torch = values.torch
    for _ in range(probe["rounds"]):
        weights = values.weight_objects(built)
        record: dict[str, Any] = {"weights": [numbers(w) for w in weights]}
        rounds.append(record)
        if torch is not None:
            loss, _ = binder.call("loss", built)
            record["loss"] = numbers(loss)
            loss.backward()
            record["grads"] = [None if not _is_tensor(w) or w.grad is None else numbers(w.grad) for w in weights]
            if len(rounds) == 1 and _is_tensor(loss):  # what probe_autograd would have seen on this case
                child.first_rounds[probe["id"]] = {"returned": returned(loss),
                                                   "grads": dict(zip(names, record["grads"]))}
        else:
            outputs, _ = binder.call("forward", built)
            outs = _several(outputs)
            record["loss"] = numbers(outs[-1]) if outs else None
            built.update(zip(binder.roles["forward"]["outputs"], outs))
            grads = _several(binder.call("backward", built)[0])
            record["grads"] = [numbers(g) for g in grads]
            built.update(zip(binder.roles["backward"]["outputs"], grads))
        result, _ = binder.call("update", built)
        new = _new_weights(child, values, result, weights)
        built.update(zip(names, new))
        for list_name, group in values.lists.items():
            if group == "weights":
                built[list_name] = new
    return {"rounds": rounds, "final": [numbers(w) for w in values.weight_objects(built)]}


PROBES: dict[str, Callable[..., dict[str, Any]]] = {
    "call": probe_call, "backward": probe_backward, "autograd": probe_autograd, "update": probe_update,
    "train": probe_train,
}


def isolate_network() -> bool:
    """A fresh network namespace: no interface but a downed loopback, so no connection anywhere.

    Done first, while the process has one thread; as root a plain unshare works, elsewhere a
    user namespace may grant it. False where neither is allowed.
    """
    import ctypes

    clone_newnet, clone_newuser = 0x40000000, 0x10000000
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(clone_newnet) == 0 or libc.unshare(clone_newuser | clone_newnet) == 0
    except (OSError, AttributeError):
        return False


def apply_limits(limits: dict[str, int]) -> None:
    """CPU seconds, address space, file size, open files; no core dumps."""
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 1))
    memory = limits["memory_mib"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_bytes"], limits["file_bytes"]))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def preload(framework: str, imported: Callable[[], None] = lambda: None) -> None:
    """What every submission of the framework imports anyway: paid once in a fork server.

    `imported` runs once numpy (and torch) are in, before matplotlib: the server's cue to start
    backing their memory by huge pages on the other core (see forkserver.py).
    """
    import numpy  # noqa: F401

    if framework == "torch":
        import torch

        torch.set_num_threads(1)  # a forked child hangs on a parallel op its parent already ran
    imported()
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
    except ImportError:
        pass
    try:
        import pyseccomp  # noqa: F401  (finds libseccomp now: that runs ldconfig, which exec would forbid)
    except (ImportError, RuntimeError, OSError):
        pass


def run_child(job_fd: int, result_fd: int) -> None:
    """One submission's run: confine this process, then probe the submission and run its `__main__`."""
    started = time.monotonic()
    network = sys.platform == "linux" and isolate_network()
    with os.fdopen(job_fd, "rb") as f:
        job = json.loads(f.read())
    apply_limits(job["rlimits"])
    preload(job["framework"])
    os.chdir(job["scratch"])
    from confine import restrict_files, restrict_syscalls

    files = restrict_files(job["scratch"], job["readable"])
    syscalls = restrict_syscalls()
    emit = Emitter(result_fd)
    emit({"kind": "sandbox", "network": network, "files": files, "syscalls": syscalls})
    child = Child(job, emit, started)
    child.run_probes()
    child.run_main()


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import confine  # noqa: F401  (imported now, while the grader's folder may still be read)
    import forkserver

    del sys.path[0]  # the submission must not import the grader's modules
    if sys.argv[1] == "--serve":
        forkserver.serve(int(sys.argv[2]), sys.argv[3], run_child, preload)
        return
    code = 0
    try:
        run_child(int(sys.argv[1]), int(sys.argv[2]))
    except BaseException:  # noqa: BLE001 - a harness failure, reported on stderr
        traceback.print_exc()
        code = 70
    finally:  # threads the submission left running must not keep the child alive
        sys.stdout.flush()
        sys.stderr.flush()
        _real_exit(code)


if __name__ == "__main__":
    main()
