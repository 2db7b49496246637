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

from .binding import decide
from .binding.names import norm
from .facts import Facts, Function, read
from .i18n import t
from .protocol import ClassShape, Kind, LoadFrame, Signature
from .spec import Assignment


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
    """The task and why: a keyword of the task's `detect` list seen in the code, else the default."""
    if a.tasks.get("zero-init") and _all_weights_zero(a, tree):
        return "zero-init", t("detect.all_zero")
    code = "\n".join(line.split("#", 1)[0] for line in source.splitlines())  # comments do not count
    for task_id, task in a.tasks.items():
        for keyword in task.detect:
            if keyword in code:
                return task_id, t("detect.keyword", keyword=keyword)
    return a.default_task, t("detect.default")


def _all_weights_zero(a: Assignment, tree: ast.Module) -> bool:
    """True when every weight is assigned from literals that are all zero (`torch.Tensor([0])`)."""
    values: dict[str, list[float]] = {}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        target = node.targets[0]
        names = [target] if isinstance(target, ast.Name) else getattr(target, "elts", [])
        exprs = [node.value] if isinstance(target, ast.Name) else getattr(node.value, "elts", [])
        for name, expr in zip(names, exprs):
            if isinstance(name, ast.Name):
                values[name.id] = [c.value for c in ast.walk(expr)
                                   if isinstance(c, ast.Constant) and type(c.value) in (int, float)]
    per_weight = [values.get(w) for w in a.weights]
    if all(per_weight):
        return all(v == 0 for vs in per_weight for v in vs)
    listed = values.get(next((k for k, v in a.lists.items() if v == "weights"), ""))
    return bool(listed) and all(v == 0 for v in listed)
