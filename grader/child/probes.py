"""The runs inside the child: load the submission as a module, call its functions case by case
(the probes), then run its own `__main__`; every observation leaves as a frame."""

from __future__ import annotations

import builtins
import math
import os
import sys
import time
import traceback
import types
from typing import Any, Callable

from .bind import Binder, names_read_by
from .runtime import Emitter, ProbeTimeout, discard, exit_instead, limited
from .values import Values, is_tensor, numbers, returned, several, text

_counting: Child | None = None  # whose backward() calls the patched torch counts



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
        return {"type": type(e).__name__, "message": text(e), "where": self.where(e)}

    def prepare(self, name: str) -> None:
        """A fresh module namespace, in the scratch folder, with torch's backward() counted from zero."""
        global _counting
        os.chdir(self.job["scratch"])  # the probes' module may have moved elsewhere
        os.environ.setdefault("MPLBACKEND", "Agg")
        os._exit = exit_instead  # type: ignore[assignment]
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
        module.__builtins__ = {**builtins.__dict__, "print": discard}  # type: ignore[attr-defined]
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
    if not is_tensor(loss):
        raise TypeError(f"the loss is a {type(loss).__name__}, not a tensor: backward() cannot run")
    loss.backward()
    out["grads"] = {n: None if w.grad is None else numbers(w.grad)
                    for n, w in zip(values.names["weights"], values.weight_objects(built))}
    return out


def _forward(binder: Binder, values: Values, case: dict[str, float]) -> tuple[dict[str, Any], list[Any]]:
    """The submission's forward on a case: its outputs by the role's names, as it returned them."""
    built = values.build(case)
    outputs, _ = binder.call("forward", built)
    return built, several(outputs)


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
        out["grads_after"] = [None if not is_tensor(w) or w.grad is None else numbers(w.grad) for w in new]
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
            record["grads"] = [None if not is_tensor(w) or w.grad is None else numbers(w.grad) for w in weights]
            if len(rounds) == 1 and is_tensor(loss):  # what probe_autograd would have seen on this case
                child.first_rounds[probe["id"]] = {"returned": returned(loss),
                                                   "grads": dict(zip(names, record["grads"]))}
        else:
            outputs, _ = binder.call("forward", built)
            outs = several(outputs)
            record["loss"] = numbers(outs[-1]) if outs else None
            built.update(zip(binder.roles["forward"]["outputs"], outs))
            grads = several(binder.call("backward", built)[0])
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
