"""The training loop as the source writes it: the loops around backward(), what data each walks through,
and how each update statement is written (the step it multiplies the gradient by, whether it rebinds).

Read from the syntax tree, never run: grader/facts.py calls it once its functions are known.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .facts import Facts


@dataclass(frozen=True)
class Update:
    """One statement that updates a parameter from its gradient: `w.data = w.data - 0.01 * w.grad.data`."""

    line: int
    target: str  # the name updated (w, w1, w[i] -> w)
    step: float | str | None  # the factor of the gradient: a number, a name, or unknown
    rebinds: bool  # `w = w - lr * w.grad`: a new tensor, no longer the leaf autograd fills
    function: str | None = None  # the function it is in (None: module level)


@dataclass(frozen=True)
class Loop:
    """A loop whose body reaches backward(): the lecture's training loop."""

    line: int
    data: tuple[str, ...]  # the names of the sequences it walks through together (zip(x_data, y_data))
    per_sample: bool  # backward() once per element of the data
    function: str | None  # the function it is in (None: module level)


def read(tree: ast.Module, facts: Facts) -> tuple[list[Loop], list[Update]]:
    """The loops that reach backward() (directly or through a module function), and every update statement;
    `facts` knows the module's functions already."""
    found: list[Loop] = []
    updates: list[Update] = []
    backward_functions = {n for n in facts.functions if _reaches_backward(facts, n)}

    def reaches_backward(node: ast.AST) -> bool:
        for n in ast.walk(node):
            if isinstance(n, ast.Call):
                if isinstance(n.func, ast.Attribute) and n.func.attr == "backward":
                    return True
                if isinstance(n.func, ast.Name) and n.func.id in backward_functions:
                    return True
        return False

    def visit(body: list[ast.stmt], function: str | None) -> None:
        for node in body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                visit(node.body, node.name)
                continue
            if isinstance(node, ast.For) and reaches_backward(node):
                inner = [n for n in node.body if isinstance(n, ast.For) and reaches_backward(n)]
                if not inner:  # the innermost loop around backward(): what it walks through is the data
                    data = _walked(node.iter)
                    found.append(Loop(node.lineno, data, bool(data), function))
            update = _update(node, function)
            if update is not None:
                updates.append(update)
            for part in ("body", "orelse", "finalbody"):
                visit(getattr(node, part, []), function)
            for handler in getattr(node, "handlers", []):
                visit(handler.body, function)

    visit(tree.body, None)
    return found, updates


def _reaches_backward(facts: Facts, name: str) -> bool:
    return any(f.backward for f in facts.callees(name))


def _walked(it: ast.expr) -> tuple[str, ...]:
    """The sequences a `for` walks: zip(a, b), enumerate(zip(a, b)), range(len(a)), or a itself."""
    if isinstance(it, ast.Call) and isinstance(it.func, ast.Name):
        if it.func.id == "enumerate" and it.args:
            return _walked(it.args[0])
        if it.func.id == "zip":
            names = tuple(a.id for a in it.args if isinstance(a, ast.Name))
            return names if len(names) == len(it.args) else ()
        if it.func.id == "range" and len(it.args) == 1:
            arg = it.args[0]
            if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "len" and arg.args \
                    and isinstance(arg.args[0], ast.Name):
                return (arg.args[0].id,)
            return ()
    return (it.id,) if isinstance(it, ast.Name) else ()


def _update(node: ast.AST, function: str | None) -> Update | None:
    """`w.data = w.data - lr * w.grad.data`, `w -= lr * w.grad`, `w[i].data -= 0.01 * w[i].grad`, ..."""
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target, value = node.targets[0], node.value
    elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Sub):
        target, value = node.target, node.value
    else:
        return None
    name = _root(target)
    if name is None or not any(isinstance(n, ast.Attribute) and n.attr == "grad" for n in ast.walk(value)):
        return None
    step: float | str | None = None
    for n in ast.walk(value):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mult):
            for factor, other in ((n.left, n.right), (n.right, n.left)):
                if any(isinstance(m, ast.Attribute) and m.attr == "grad" for m in ast.walk(other)):
                    if isinstance(factor, ast.Constant) and isinstance(factor.value, (int, float)):
                        step = float(factor.value)
                    elif isinstance(factor, ast.Name):
                        step = factor.id
    rebinds = isinstance(target, ast.Name) and isinstance(node, ast.Assign)
    return Update(node.lineno, name, step, rebinds, function)


def _root(target: ast.expr) -> str | None:
    """The name an assignment target hangs from: w.data, w[i].data, w -> w."""
    while isinstance(target, (ast.Attribute, ast.Subscript)):
        target = target.value
    return target.id if isinstance(target, ast.Name) else None
