"""Binding: which function plays each role, what to pass each of its parameters, where the weights live.

Decided here, in the parent, from the code (`grader/facts.py`) and from what executing the module
defined (the child's LoadFrame: its functions' signatures, its globals' types); never from the
reference's answers, so a real mistake (terms swapped under their own names, a wrong derivative)
stays a mistake and is never bound away. The child only carries the decision out.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ..facts import Facts
from ..protocol import Binding, Call, Instance, Layout, LoadFrame, Trace
from ..spec import Assignment
from .layout import Weights, find_weights, makes
from .names import Keys
from .roles import Found, Unfound, find_roles

TRACE_ROUNDS = 24  # backward() calls of the program's own run recorded in full
LAYOUT_AT = [2.0, 3.0]  # inputs at which a packed vector's order is read (x^2, x and 1 differ there)


@dataclass(frozen=True)
class Unbindable:
    """A role whose function was found but cannot be called: its parameters mean nothing the grader knows."""

    role: str
    function: str
    params: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass
class Decision:
    binding: Binding
    found: dict[str, Found]  # roles bound
    unfound: dict[str, Unfound]  # roles without a function
    unbindable: dict[str, Unbindable]  # roles with a function the grader cannot call
    weights: Weights
    params: dict[str, list[str]]  # role -> the function's own parameter names
    data: tuple[str, ...] = ()  # the globals the program's training loop walks through
    steps: tuple[float | str, ...] = ()  # what its updates multiply the gradient by
    per_sample: bool = False
    notes: list[str] = field(default_factory=list)

    def bound(self, role: str) -> bool:
        return role in self.binding.calls

    def step_given(self) -> bool:
        """Whether the grader chooses the update's step: a parameter it passes, or a global the update reads."""
        call = self.binding.calls.get("update")
        return call is not None and ("step" in call.args or "step" in self.binding.inject.get("update", {}).values())


def decide(a: Assignment, facts: Facts, load: LoadFrame, options: dict[str, str]) -> Decision:
    """The binding of module functions; where a class the file defines binds more roles with its methods
    (`class Net` with forward_propagate, loss_fuction, update_w), of those: each probe calls them on a fresh
    `Net()`. A tie keeps the module's functions."""
    module = _decide(a, facts, load, options)
    if len(module.found) == len(a.roles):
        return module
    best = module
    for name in sorted(set(load.classes) & set(facts.classes)):
        shape = load.classes[name]
        instance = Instance(name, sorted(facts.classes[name].attributes | set(shape.attributes)))
        d = _decide(a, facts.through(name), load.through(name), options, instance)
        if shape.error is not None:  # no instance to call them on: found, but not callable
            d.unbindable.update({r: Unbindable(r, c.function, tuple(d.params[r]), (f"{name}()",))
                                 for r, c in d.binding.calls.items()})
            d.binding.calls.clear()
        if len(d.found) > len(best.found):
            best = d
    return best


def _decide(a: Assignment, facts: Facts, load: LoadFrame, options: dict[str, str],
            instance: Instance | None = None) -> Decision:
    keys = Keys(a)
    found, unfound = find_roles(a, load.functions, facts, options)
    params = {role: load.functions[f.function].params for role, f in found.items()}
    weights = _named_weights(a, load, options["weights"]) if "weights" in options else \
        find_weights(a, facts, load.globals, [f.function for f in found.values()],
                     {p for ps in params.values() for p in ps})
    keys.own.update({name: key for key, name in weights.names.items()})
    pack_key = keys.pack_of("weights")
    if weights.packed is not None and pack_key is not None:
        keys.own[weights.packed] = pack_key
    make, packs = makes(a, keys, weights, load.globals, facts.made)
    calls: dict[str, Call] = {}
    unbindable: dict[str, Unbindable] = {}
    for role, f in found.items():
        args = _arguments(a, keys, facts, role, f.function, load, found)
        if isinstance(args, Unbindable):
            unbindable[role] = args
        else:
            calls[role] = Call(f.function, args)
    inject = {role: _injected(keys, facts, c.function) for role, c in calls.items()}
    outputs = {role: _outputs(a, keys, facts, role, c.function) for role, c in calls.items()}
    if "backward" in a.roles:  # an update is handed gradients by these keys even where backward is not bound
        outputs.setdefault("backward", list(a.roles["backward"].outputs))
    packed = pack_key if weights.packed is not None else None
    data, per_sample = _data(facts)
    steps = tuple(s for u in facts.updates if (s := _at_call_site(facts, u.function, u.step)) is not None)
    report = sorted({*data, *(s for s in steps if isinstance(s, str)), *_program_inputs(a, keys, load)})
    traced = instance is None  # a class's weights live in the program's own instance, which the trace cannot name
    trace = Trace(weights=dict(weights.names) if traced else {}, packed=weights.packed if traced else None,
                  members=list(a.weights), rounds=TRACE_ROUNDS, report=report)
    binding = Binding(framework=a.framework, make=make, packs=packs, calls=calls, inject=inject, outputs=outputs,
                      weights=list(a.weights), weight_globals=dict(weights.names), packed_weights=packed, trace=trace,
                      layout=_layout(a, packed, calls), instance=instance)
    return Decision(binding, found, unfound, unbindable, weights, params, data, steps, per_sample)


def _named_weights(a: Assignment, load: LoadFrame, named: str) -> Weights:
    """`--bind weights=w_1,w_2,b` (one name per weight, in the model's order) or `--bind weights=theta` (one object
    holding them all, or the one weight)."""
    names = [n.strip() for n in named.split(",") if n.strip()]
    if len(names) == len(a.weights) and len(names) > 1:
        return Weights(names=dict(zip(a.weights, names)), how="option")
    if len(names) == 1 and len(a.weights) == 1:
        return Weights(names={a.weights[0]: names[0]}, how="option")
    if len(names) == 1:
        return Weights(packed=names[0], how="option")
    return Weights(how="none", candidates=tuple(names))


def _arguments(a: Assignment, keys: Keys, facts: Facts, role: str, function: str, load: LoadFrame,
               found: dict[str, Found]) -> list[str] | Unbindable:
    """The key each positional parameter receives: by its name, else by the role's call shapes."""
    sig = load.functions[function]
    spec = a.roles[role]
    named = [keys.key(p) for p in sig.params]
    required = named[:sig.required]
    if all(k is not None for k in required):
        optional = []
        for k in named[sig.required:]:  # a parameter with a default keeps it unless its name says otherwise
            if k is None:
                break
            optional.append(k)
        return [*required, *optional]  # type: ignore[list-item]
    shapes = [spec.params, *spec.shapes]
    fitting = [s for s in shapes if sig.required <= len(s) <= len(sig.params) or sig.varargs and len(s) >= sig.required]
    if len(fitting) > 1 and "forward" in found:  # loss(a, b, c, d): inputs if it calls forward, else outputs
        outputs = set(a.roles["forward"].outputs)
        calls_forward = facts.reaches(function, found["forward"].function)
        fitting.sort(key=lambda s: bool(outputs & set(s)) == calls_forward)
    if fitting:
        return list(fitting[0])
    missing = tuple(p for p, k in zip(sig.params[:sig.required], required) if k is None)
    return Unbindable(role, function, tuple(sig.params), missing)


def _outputs(a: Assignment, keys: Keys, facts: Facts, role: str, function: str) -> list[str]:
    """The keys of what a function returns, by position: the names it returns where they all say what they are
    (`return o1, o2, error`), else the role's declared outputs."""
    if role == "loss":
        return ["error"]
    spec = a.roles[role]
    declared = [*spec.outputs, *spec.optional_outputs]
    f = facts.functions.get(function)
    named = [keys.key(n) if n is not None else None for n in (f.returns if f else ())]
    known = {*declared, "error"}  # a forward may hand back the error it computed on the way
    if len(named) > 1 and all(k in known for k in named) and len(set(named)) == len(named) \
            and all(k in named for k in spec.outputs):
        return named  # type: ignore[return-value]
    return declared


def _injected(keys: Keys, facts: Facts, function: str) -> dict[str, str]:
    """The globals a function reads (through the functions it calls too) that stand for a value of the case."""
    out = {}
    for name in sorted(facts.reads(function)):
        if name in facts.functions:
            continue
        key = keys.key(name)
        if key is not None:
            out[name] = key
    return out


def _at_call_site(facts: Facts, function: str | None, value: float | str | None) -> float | str | None:
    """A name inside `function` as the program's run gives it: a parameter is what the call passes
    (`train(x_data, y_data, 0.01)`: a global's name, or a number), anything else itself."""
    if not isinstance(value, str):
        return value
    arg = facts.passed(function, value)
    if isinstance(arg, ast.Name):
        return arg.id
    if isinstance(arg, ast.Constant) and isinstance(arg.value, (int, float)) and not isinstance(arg.value, bool):
        return float(arg.value)
    return value


def _data(facts: Facts) -> tuple[tuple[str, ...], bool]:
    """The sequences the training loop walks through together (a `train(xs, ys)` call's arguments for its
    parameters), and whether backward() runs once per element."""
    for loop in facts.loops:
        names = tuple(str(_at_call_site(facts, loop.function, n)) for n in loop.data)
        if names:
            return names, loop.per_sample
    return (), False


def _program_inputs(a: Assignment, keys: Keys, load: LoadFrame) -> list[str]:
    """The globals holding the program's own inputs and targets (its `x1`, its list `x`)."""
    wanted = {*a.inputs, *a.targets, *(k for k, m in keys.packs.items() if m in (a.inputs, a.targets))}
    return [g for g in load.globals if keys.key(g) in wanted]


def _layout(a: Assignment, packed: str | None, calls: dict[str, Call]) -> Layout | None:
    """Ask the child to read a packed vector's order from its own forward (or loss), where the model says how."""
    if packed is None or a.packed is None:
        return None
    if "forward" not in calls or a.packed.input not in calls["forward"].args:
        return None  # no forward of its own to ask: the order is assumed (and the report says so)
    return Layout(pack=packed, role="forward", input=a.packed.input, at=LAYOUT_AT, exponents=dict(a.packed.exponents))
