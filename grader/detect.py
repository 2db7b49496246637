"""Guess the assignment and task from what a file's code says, without running it.

The assignment is the one its code binds best to: the binder (grader/binding/) is run on the
syntax tree alone for each assignment, and the one with the most roles found and callable,
whose weights are found (by name, or one literal of the right size), wins. So `forword`, a
packed `torch.tensor([1.0, 1.0, 1.0])` or a lecture loop with no function at all are detected
as the binding would find them, by one mechanism.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from .binding import Decision, decide
from .binding.names import norm
from .facts import Facts, Function, dotted, read
from .i18n import t
from .protocol import ClassShape, Kind, LoadFrame, Signature
from .spec import Assignment, Task


@dataclass(frozen=True)
class Outline:
    """The names a file defines at module level (also inside top-level if/try blocks)."""

    functions: frozenset[str]
    globals: frozenset[str]
    imports: frozenset[str]


def outline(tree: ast.Module) -> Outline:
    facts = read(tree)
    methods = {f"{c.name}.{m}" for c in facts.classes.values() for m in c.methods}
    return Outline(frozenset(facts.functions) | frozenset(methods), facts.assigned, facts.imports)


def static_load(facts: Facts) -> LoadFrame:
    """What loading the file would report, as far as its code shows: its functions, its globals' kinds, and
    its classes' methods and attributes."""
    classes = {n: ClassShape(methods=_signatures(c.methods), attributes=_kinds(c.made, c.sizes))
               for n, c in facts.classes.items() if c.required == 0}
    return LoadFrame(kind="load", error=None, functions=_signatures(facts.functions),
                     globals=_kinds(facts.made, facts.sizes), classes=classes)


def _signatures(functions: dict[str, Function]) -> dict[str, Signature]:
    return {n: Signature(params=list(f.params), required=f.required) for n, f in functions.items()}


def _kinds(made: dict[str, str], sizes: dict[str, int]) -> dict[str, Kind]:
    kinds = {"tensor": "tensor", "ndarray": "ndarray", "list": "list", "number": "float"}
    return {n: Kind(kinds[m], [sizes[n]] if n in sizes else None, requires_grad=m == "tensor")
            for n, m in made.items()}


def assignment_score(a: Assignment, facts: Facts) -> float:
    """How well the file's code binds to the assignment; 0 when it points elsewhere or binds nothing."""
    if set(facts.functions) & set(a.detect.forbid):
        return 0.0
    d = decide(a, facts, static_load(facts), {})
    if not d.found and not (facts.loops and a.framework == "torch"):
        return 0.0
    uses_torch = "torch" in facts.imports
    framework_fit = 1.0 if uses_torch == (a.framework == "torch") else 0.0
    names = {norm(n) for n in facts.assigned}
    globals_fit = sum(norm(g) in names for g in a.detect.globals) / max(1, len(a.detect.globals))
    weights_found = 2.0 if d.weights.how != "none" else 0.0
    return len(d.found) + len(d.binding.calls) + weights_found + framework_fit + globals_fit


def detect_assignment(assignments: dict[str, Assignment], tree: ast.Module) -> str | None:
    """The best score; a tie goes to the assignment more of whose globals the file sets (the more specific one:
    a net with biases sets all of bp-numpy's weights and its own biases too)."""
    facts = read(tree)
    names = {norm(n) for n in facts.assigned}
    scored = sorted(((assignment_score(a, facts), sum(norm(g) in names for g in a.detect.globals), key)
                     for key, a in assignments.items()), key=lambda s: (-s[0], -s[1], s[2]))
    best_score, _, best = scored[0]
    return best if best_score > 0 else None


def detect_task(a: Assignment, source: str, tree: ast.Module) -> tuple[str, str]:
    """The task and why, from what the program really computes: the activation its forward reaches, the loss
    its loss function reaches (through the functions they call and the globals they read), and where its
    weights start. An unused `relu()` changes nothing; where no task has all three (a zero start with
    CrossEntropyLoss and no such task), the closest is graded and the why says so."""
    if len(a.tasks) == 1:
        return a.default_task, t("detect.default")
    seen, evidence = observed(a, read(tree))
    exact = [k for k, task in a.tasks.items() if dimensions(task) == seen]
    default = dimensions(a.tasks[a.default_task])
    considered = [k for k, task in a.tasks.items()
                  if any(v == seen[d] and v != default[d] for d, v in dimensions(task).items())]
    if exact:
        chosen, why = exact[0], t("common.sep").join(evidence) or t("detect.default")
    else:
        chosen = max(a.tasks, key=lambda k: (sum(v == seen[d] for d, v in dimensions(a.tasks[k]).items()),
                                             k in considered, k == a.default_task))
        why = t("detect.closest", evidence=t("common.sep").join(evidence), task=chosen)
    if considered and considered != [chosen]:
        why += t("common.sep") + t("detect.considered", tasks=t("common.names").join(considered))
    return chosen, why


def dimensions(task: Task) -> dict[str, str]:
    """What a task asks for, along the three things a file can differ in."""
    start = "zero" if task.expect_init == 0 else "random" if task.init == "submission" else "given"
    return {"activation": task.activation, "loss": task.loss, "start": start}


RELU = ("relu", "relu_")
CLAMPS = ("clamp", "clamp_", "clamp_min", "clip")
MAXIMA = ("max", "maximum", "fmax")
LOSSES = {"CrossEntropyLoss": "cross-entropy", "cross_entropy": "cross-entropy", "MSELoss": "mse-mean",
          "mse_loss": "mse-mean"}
RANDOM = ("rand", "randn", "randint", "rand_like", "randn_like", "normal", "normal_", "uniform", "uniform_",
          "random", "standard_normal", "xavier_uniform_", "kaiming_uniform_")


def observed(a: Assignment, facts: Facts) -> tuple[dict[str, str], list[str]]:
    """The activation, loss and start the file's own code shows, with the evidence for each that is not the
    default, in words."""
    d = decide(a, facts, static_load(facts), {})
    view = facts.through(d.binding.instance.cls) if d.binding.instance is not None else facts
    forward, loss = (d.found[r].function if r in d.found else None for r in ("forward", "loss"))
    program = (sorted(view.top_calls), view.uses)
    evidence = []
    seen = {"activation": "sigmoid", "loss": "mse", "start": "given"}
    act_from = [forward] if forward else [loss] if loss else None
    uses = view.reached(act_from)[0] if act_from else program[1] | view.reached(program[0])[0]
    relu = sorted(u for u in uses if _relu(u))
    if relu:
        seen["activation"] = "relu"
        evidence.append(t("detect.calls", function=act_from[0] if act_from else t("detect.program"),
                          call=relu[0].split("(")[0]))
    loss_uses = view.reached([loss])[0] if loss else program[1] | view.reached(program[0])[0]
    kinds = sorted({(LOSSES[u.split(".")[-1]], u) for u in loss_uses if u.split(".")[-1] in LOSSES})
    if kinds and "loss" in a.roles:
        seen["loss"] = kinds[0][0]
        evidence.append(t("detect.calls", function=loss or t("detect.program"), call=kinds[0][1]))
    start, shown = _start(a, view, d)
    if start != "given":
        seen["start"] = start
        evidence.append(t("detect.start_zero", expr=shown) if start == "zero" else t("detect.start_random", expr=shown))
    return seen, evidence


def _relu(use: str) -> bool:
    name = use.split("(")[0].split(".")[-1]
    return name.lower() in RELU or name in CLAMPS and use.endswith("(min=0)") or name in MAXIMA and use.endswith("(0)")


def _start(a: Assignment, facts: Facts, d: Decision) -> tuple[str, str]:
    """Where the weights start, from the expressions that first give them their values: all zero, random
    (torch.randn, np.random), or else the given ones; and the expression, as written."""
    names = [d.weights.packed] if d.weights.packed else [d.weights.names[w] for w in a.weights if w in d.weights.names]
    exprs = [facts.values[n] for n in names if n in facts.values]
    if not names or len(exprs) != len(names):
        return "given", ""
    values = [_value(e) for e in exprs]
    shown = ast.unparse(exprs[0])[:60]
    if any(v == "random" for v in values):
        return "random", next(ast.unparse(e)[:60] for e, v in zip(exprs, values) if v == "random")
    if all(isinstance(v, list) and v and all(x == 0 for x in v) for v in values):
        return "zero", shown
    return "given", shown


def _value(e: ast.expr) -> list[float] | str | None:
    """The numbers an initial value holds, as far as its code shows; "random" for a random draw."""
    if isinstance(e, ast.Constant) and isinstance(e.value, (int, float)) and not isinstance(e.value, bool):
        return [float(e.value)]
    if isinstance(e, ast.UnaryOp) and isinstance(e.op, (ast.USub, ast.UAdd)):
        inner = _value(e.operand)
        return [-v for v in inner] if isinstance(inner, list) and isinstance(e.op, ast.USub) else inner
    if isinstance(e, (ast.List, ast.Tuple)):
        parts = [_value(x) for x in e.elts]
        if "random" in parts:
            return "random"
        return [v for p in parts if isinstance(p, list) for v in p] if all(isinstance(p, list) for p in parts) else None
    if isinstance(e, ast.ListComp):
        return _value(e.elt)
    if isinstance(e, ast.Call):
        name = dotted(e.func) or ""
        last = name.split(".")[-1]
        if last in RANDOM or ".random." in f".{name}.":
            return "random"
        if last in ("zeros", "zeros_like"):
            return [0.0]
        if last in ("ones", "ones_like"):
            return [1.0]
        if last == "full" and len(e.args) > 1:
            return _value(e.args[1])
        if isinstance(e.func, ast.Attribute) and not e.args and last in ("requires_grad_", "float", "double", "clone"):
            return _value(e.func.value)  # torch.Tensor([0]).requires_grad_()
        return _value(e.args[0]) if e.args else None  # torch.Tensor([0]), np.array([...]), Variable(...)
    return None
