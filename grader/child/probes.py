"""The runs inside the child: load the submission as a module, call its functions case by case
(the probes), then run its own `__main__`, traced; every observation leaves as a frame.

The probes run first so that a `__main__` that hangs, crashes or kills the process cannot cost
their observations; they must end by `probes_until`, which keeps `main_seconds` for the program
itself inside the submission's `total_seconds`.
"""

from __future__ import annotations
import __future__

import ast
import functools
import inspect
import math
import os
import sys
import time
import types
from collections.abc import Callable
from typing import Any

from grader.protocol import (
    AutogradResult,
    BackwardResult,
    CallResult,
    ChildError,
    ClassShape,
    DoneFrame,
    Kind,
    LayoutFrame,
    LoadFrame,
    MainFrame,
    ProbeFrame,
    Round,
    Signature,
    TrainResult,
    UpdateResult,
    read_layout,
)

from .calls import Caller, NoNumbers, Unbound
from .runtime import Emitter, child_error, limited, new_module, patch_runtime
from .tracer import Tracer, install_tracer
from .values import Builder, is_tensor, kind, numbers, returned, scalar, several, spread

MAX_GLOBALS = 200  # globals described for binding
MAX_CLASSES = 8  # classes of the file described (each made once, to see its attributes)


class NotTensor(Exception):
    def __init__(self, type_name: str) -> None:
        super().__init__(type_name)
        self.type_name = type_name


class Session:
    """One submission's process: its module loaded once for the probes, then its `__main__` afresh."""

    def __init__(self, job: dict[str, Any], emit: Emitter, started: float) -> None:
        self.job = job
        self.emit = emit
        self.filename: str = job["filename"]
        limits = job["limits"]
        self.probes_until = started + limits["total_seconds"] - limits["main_seconds"]
        self.module: dict[str, Any] = {}

    def error(self, e: BaseException) -> ChildError:
        if isinstance(e, Unbound):
            return ChildError(code="unbound", function=e.function)
        if isinstance(e, NoNumbers):
            return ChildError(code="no_numbers", function=e.function)
        if isinstance(e, NotTensor):
            return ChildError(code="not_tensor", type=e.type_name)
        return child_error(e, self.filename)

    def time_left(self, seconds: float) -> float:
        """A call's own limit, cut to what is left of the probes' share."""
        return min(seconds, self.probes_until - time.monotonic())

    def _namespace(self, name: str) -> dict[str, Any]:
        os.chdir(self.job["scratch"])  # the probes' module may have moved elsewhere
        if self.job["scratch"] not in sys.path:  # its helpers, copied beside it: `from utils import sigmoid`
            sys.path.insert(0, self.job["scratch"])
        patch_runtime()
        self.module = new_module(name, self.filename).__dict__
        return self.module

    # -- load: the module, statement by statement, so a failing line costs only itself

    def load(self) -> LoadFrame:
        module = self._namespace("submission")
        error = None
        for code in _statements(self.job["source"], self.filename):
            try:
                limited(self.time_left(self.job["limits"]["main_seconds"]), lambda code=code: exec(code, module))  # type: ignore[misc]
            except BaseException as e:  # noqa: BLE001 - the submission may raise anything
                error = error or self.error(e)
                if error.code in ("timeout", "exit"):
                    break  # python itself would stop here
        functions = {n: sig for n, v in list(module.items()) if (sig := self._signature(v)) is not None}
        mine = [(n, v) for n, v in list(module.items()) if isinstance(v, type) and v.__module__ == "submission"]
        classes = {n: self._shape(v) for n, v in mine[:MAX_CLASSES]}
        return LoadFrame(kind="load", error=error, functions=functions, globals=_described(module), classes=classes)

    def _shape(self, cls: type) -> ClassShape:
        """A class of the file: its own methods, without `self`, and the attributes of a trial instance."""
        methods = {n: sig for n, v in list(vars(cls).items())
                   if not n.startswith("__") and (sig := self._signature(v, bound=True)) is not None}
        try:
            made = limited(self.time_left(self.job["limits"]["probe_seconds"]), cls)
        except BaseException as e:  # noqa: BLE001 - its __init__ may raise anything, or need arguments
            return ClassShape(methods=methods, attributes={}, error=self.error(e))
        return ClassShape(methods=methods, attributes=_described(getattr(made, "__dict__", {})))

    def _signature(self, fn: Any, bound: bool = False) -> Signature | None:
        """A function the submission's own file defines, with its positional parameters (a method's
        without its first, `self`)."""
        if not isinstance(fn, types.FunctionType) or fn.__code__.co_filename != self.filename:
            return None
        try:
            params = list(inspect.signature(fn).parameters.values())[1 if bound else 0:]
        except (TypeError, ValueError):
            return None
        positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        return Signature(params=[p.name for p in positional],
                         required=sum(p.default is p.empty for p in positional),
                         varargs=any(p.kind == p.VAR_POSITIONAL for p in params))

    # -- probes: the parent's plan, case by case

    def run_probes(self, plan: dict[str, Any]) -> None:
        binding = plan["binding"]
        self.caller = Caller(binding, self.module)
        self.builder = Builder(binding)
        self.binding = binding
        self.first_rounds: dict[str, dict[str, Any]] = {}  # train probe id -> what its first round saw
        initial: dict[str, float | None] = {}
        try:
            limited(self.time_left(self.job["limits"]["probe_seconds"]), self.caller.renew)
            if binding["layout"] is not None:
                self.emit(self._layout(binding["layout"]))
            initial = self._own_weights(binding)
        except BaseException:  # noqa: BLE001 - each probe meets the same failure again, and reports it
            pass
        for probe in plan["probes"]:
            case = dict(probe["case"])
            if probe["own_weights"]:
                case.update({k: v for k, v in initial.items() if v is not None})
            frame = ProbeFrame(kind="probe", id=probe["id"], case=case)
            try:
                frame.result = self.reused(probe) or limited(
                    self.time_left(self.job["limits"]["probe_seconds"]), functools.partial(self._fresh, probe, case))
            except BaseException as e:  # noqa: BLE001
                frame.error = self.error(e)
            self.emit(frame)
        self.emit(DoneFrame(kind="done", forbidden_loaded=self.forbidden_loaded()))

    def _layout(self, layout: dict[str, Any]) -> LayoutFrame:
        """The packed vector set to each unit vector in turn, called at each input: what each position multiplies."""
        pack = next(p for p in self.builder.packs if p["key"] == layout["pack"])
        size = len(pack["members"])
        values: list[list[float]] = []
        try:
            for i in range(size):
                row = []
                for x in layout["at"]:
                    unit = {m: float(j == i) for j, m in enumerate(pack["members"])}
                    built = self.builder.build({**unit, layout["input"]: x})
                    got = limited(self.time_left(self.job["limits"]["probe_seconds"]),
                                  lambda built=built: scalar(several(self.caller.call(layout["role"], built))[0]))  # type: ignore[misc]
                    if got is None:
                        return LayoutFrame(kind="layout", values=None, order=None)
                    row.append(got)
                values.append(row)
        except BaseException as e:  # noqa: BLE001
            return LayoutFrame(kind="layout", values=None, order=None, error=self.error(e))
        order = read_layout(values, layout["at"], layout["exponents"])
        if order is not None:
            pack["members"] = order
            if self.binding["trace"]["packed"] is not None:
                self.binding["trace"]["members"] = order
        return LayoutFrame(kind="layout", values=values, order=order)

    def _own_weights(self, binding: dict[str, Any]) -> dict[str, float | None]:
        """The weights the module starts with, where it holds them (zero and random initialisation tasks)."""
        trace = binding["trace"]
        if trace["packed"] is not None:
            got = numbers(self.module.get(trace["packed"]))
            if isinstance(got, list) and len(got) == len(trace["members"]):
                return dict(zip(trace["members"], got))
            return {}
        held = self.caller.held
        return {k: scalar(held[g]) for k, g in (trace["weights"] or binding["weight_globals"]).items() if g in held}

    def _fresh(self, probe: dict[str, Any], case: dict[str, Any]) -> Any:
        """Carry out a probe on a fresh instance (a class style): no case inherits another's state."""
        self.caller.renew()
        return PROBES[probe["kind"]](self, case, probe)

    def reused(self, probe: dict[str, Any]) -> dict[str, Any] | None:
        """What the first training round of the same case observed for this probe's call, if it got that far."""
        first = self.first_rounds.get(probe["reuse"])
        if first is None or probe["numeric"]:
            return None
        return first[probe["kind"]]

    def numeric(self, case: dict[str, float]) -> dict[str, float] | None:
        """d(its own loss)/dw by central differences of its own functions: is backward true to forward?"""
        slopes = {}
        for w in self.binding["weights"]:
            single = self.binding["make"].get(w, {}).get("dtype") == "float32" or self._packed_float32()
            h = (1e-3 if single else 1e-6) * max(1.0, abs(case[w]))
            ends = []
            for sign in (1, -1):
                got = self.caller.loss_of(self.builder.build({**case, w: case[w] + sign * h}))
                if got is None or not math.isfinite(got):
                    return None
                ends.append(got)
            slopes[w] = (ends[0] - ends[1]) / (2 * h)
        return slopes

    def _packed_float32(self) -> bool:
        return any(p["key"] == self.binding["packed_weights"] and p["dtype"] == "float32" for p in self.builder.packs)

    # -- main: the student's own program, once, traced

    def run_main(self, trace: dict[str, Any]) -> None:
        module = self._namespace("__main__")
        install_tracer()
        tracer = Tracer(trace, module)
        Tracer.current = tracer
        error = None
        try:
            limited(self.job["limits"]["main_seconds"],
                    lambda: exec(compile(self.job["source"], self.filename, "exec", dont_inherit=True), module))
        except BaseException as e:  # noqa: BLE001
            error = self.error(e)
            if error.code == "exit" and error.exit_code in (None, 0):
                error = None  # a program may end itself successfully
        finally:
            Tracer.current = None
        report = {n: k for n in trace["report"] if n in module and (k := kind(module[n])) is not None}
        self.emit(MainFrame(kind="main", error=error, backward_calls=tracer.calls, steps=tracer.steps,
                            final=tracer.weights()[0], globals=report, forbidden_loaded=self.forbidden_loaded()))

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


def _described(namespace: dict[str, Any]) -> dict[str, Kind]:
    """The values of a namespace (a module's globals, an instance's attributes) that hold numbers."""
    described: dict[str, Kind] = {}
    for n, v in list(namespace.items()):
        if len(described) < MAX_GLOBALS and not n.startswith("__") and (k := kind(v)) is not None:
            described[n] = k
    return described


def _statements(source: str, filename: str) -> list[types.CodeType]:
    """The module's top-level statements compiled one by one (its line numbers kept, its __future__ too)."""
    tree = ast.parse(source, filename)
    flags = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(__future__, alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    return [compile(ast.Module(body=[node], type_ignores=[]), filename, "exec", flags=flags, dont_inherit=True)
            for node in tree.body]


# ---------------------------------------------------------------- the probes


def probe_call(s: Session, case: dict[str, float], probe: dict[str, Any]) -> dict[str, Any]:
    values = s.builder.build(case)
    role = probe["role"]
    fed = s.caller.fed(role, values)
    return CallResult(returned=returned(s.caller.call(role, values), len(s.binding["outputs"][role])), fed=fed).__dict__


def probe_autograd(s: Session, case: dict[str, float], probe: dict[str, Any]) -> dict[str, Any]:
    values = s.builder.build(case)
    fed = s.caller.fed(probe["role"], values)
    loss = s.caller.call(probe["role"], values)
    if not is_tensor(loss):
        raise NotTensor(type(loss).__name__)
    loss.backward()
    grads = dict(zip(s.binding["weights"], s.builder.grads(values)))
    numeric = s.numeric(case) if probe["numeric"] else None
    return AutogradResult(returned=returned(loss), grads=grads, fed=fed, numeric=numeric).__dict__


def probe_backward(s: Session, case: dict[str, float], probe: dict[str, Any]) -> dict[str, Any]:
    """Backward fed the submission's own forward outputs (and its own loss's finite differences)."""
    values = s.builder.build(case)
    fed = s.caller.fed(probe["role"], values) or {}
    grads = s.caller.call(probe["role"], values)
    numeric = s.numeric(case) if probe["numeric"] else None
    return BackwardResult(returned=returned(grads, len(s.binding["weights"])), fed=fed, numeric=numeric).__dict__


def _updated(s: Session, result: Any) -> Any:
    """What an update produced: the returned weights (one each, or the packed object), else its globals."""
    n = len(s.binding["weights"])
    if isinstance(result, (tuple, list)) and len(result) == n:
        return list(result)
    if isinstance(result, (tuple, list)) and len(result) == 1 and isinstance(result[0], (tuple, list)) \
            and len(result[0]) == n:
        return list(result[0])
    packed = s.binding["packed_weights"]
    if packed is not None and result is not None and not isinstance(result, (tuple, list)):
        return result
    trace = s.binding["trace"]
    if trace["packed"] is not None and trace["packed"] in s.module:
        return s.module[trace["packed"]]
    globals_, held = s.binding["weight_globals"], s.caller.held
    if globals_ and all(g in held for g in globals_.values()):
        return [held[globals_[k]] for k in s.binding["weights"]]
    return None


def _update(s: Session, values: dict[str, Any]) -> None:
    new = _updated(s, s.caller.call("update", values))
    if new is not None:
        s.builder.rebind_weights(values, new)


def probe_update(s: Session, case: dict[str, float], probe: dict[str, Any]) -> dict[str, Any]:
    values = s.builder.build(case)
    grads = probe["grads"]
    if s.binding["framework"] == "torch":
        s.builder.set_grads(values, grads)
    else:
        s.builder.extend(values, dict(zip(s.binding["outputs"]["backward"], grads)))
    _update(s, values)
    after = s.builder.grads(values) if s.binding["framework"] == "torch" else None
    return UpdateResult(weights=s.builder.weight_numbers(values), grads_after=after).__dict__


def probe_train(s: Session, case: dict[str, float], probe: dict[str, Any]) -> dict[str, Any]:
    """Drive the student's own functions round after round, as its `__main__` would."""
    values = s.builder.build(case)
    outputs = s.binding["outputs"]
    rounds: list[Round] = []
    for _ in range(probe["rounds"]):
        for k in outputs.get("forward", ()):  # this round's forward, not the last one's
            values.pop(k, None)
        weights = s.builder.weight_numbers(values)
        if s.binding["framework"] == "torch":
            fed = s.caller.fed("loss", values)
            loss = s.caller.call("loss", values)
            if not is_tensor(loss):
                raise NotTensor(type(loss).__name__)
            loss.backward()
            grads = s.builder.grads(values)
            if not rounds:  # what the loss and gradients probes of this case would have seen
                s.first_rounds[probe["id"]] = {
                    "call": CallResult(returned=returned(loss), fed=fed).__dict__,
                    "autograd": AutogradResult(returned=returned(loss), fed=fed,
                                               grads=dict(zip(s.binding["weights"], grads))).__dict__}
            record = Round(weights=weights, loss=numbers(loss), grads=grads)
        else:
            s.caller.feed(values)
            error = values.get("error")
            got = spread(s.caller.call("backward", values), len(outputs["backward"]))
            s.builder.extend(values, dict(zip(outputs["backward"], got)))
            record = Round(weights=weights, loss=numbers(error) if "error" in values else None,
                           grads=[numbers(g) for g in got])
        rounds.append(record)
        _update(s, values)
    return TrainResult(rounds=rounds, final=s.builder.weight_numbers(values)).__dict__


PROBES: dict[str, Callable[[Session, dict[str, float], dict[str, Any]], dict[str, Any]]] = {
    "call": probe_call, "autograd": probe_autograd, "backward": probe_backward, "update": probe_update,
    "train": probe_train,
}
