"""Guess the assignment and task from what a file defines, without running it."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from .i18n import t
from .spec import Assignment


@dataclass(frozen=True)
class Outline:
    """The names a file defines at module level (also inside top-level if/try blocks)."""

    functions: frozenset[str]
    globals: frozenset[str]
    imports: frozenset[str]


def outline(tree: ast.Module) -> Outline:
    functions: set[str] = set()
    names: set[str] = set()
    imports: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                functions.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, (ast.If, ast.Try, ast.For, ast.While, ast.With)):
                for part in ("body", "orelse", "finalbody"):
                    visit(getattr(node, part, []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    for node in _statements(tree.body):  # imports anywhere, functions included
        if isinstance(node, ast.Import):
            imports.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            imports.add(node.module.split(".")[0])
    return Outline(frozenset(functions), frozenset(names), frozenset(imports))


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement, nested ones included, without visiting expressions (ast.walk's cost is in them)."""
    for node in body:
        yield node
        for part in ("body", "orelse", "finalbody"):
            inner = getattr(node, part, None)
            if isinstance(inner, list):
                yield from _statements(inner)
        for holder in [*getattr(node, "handlers", []), *getattr(node, "cases", [])]:
            yield from _statements(holder.body)


def assignment_score(a: Assignment, o: Outline) -> float:
    """0 when a required function group is missing or a forbidden one is present."""
    if any(not o.functions.intersection(group) for group in a.detect.functions):
        return 0.0
    if o.functions.intersection(a.detect.forbid):
        return 0.0
    uses_torch = "torch" in o.imports
    framework_fit = 1.0 if uses_torch == (a.framework == "torch") else 0.0
    globals_fit = len(o.globals.intersection(a.detect.globals)) / max(1, len(a.detect.globals))
    return len(a.detect.functions) + framework_fit + globals_fit


def detect_assignment(assignments: dict[str, Assignment], tree: ast.Module) -> str | None:
    """The best score; a tie goes to the assignment more of whose globals the file sets (the more specific one:
    a net with biases sets all of bp-numpy's weights and its own biases too)."""
    o = outline(tree)
    scored = sorted(((assignment_score(a, o), len(o.globals.intersection(a.detect.globals)), key)
                     for key, a in assignments.items()), reverse=True)
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
