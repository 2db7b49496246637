"""What the source says, read from its syntax tree without running it: the parent's half of binding.

For each function: its parameters, the globals it reads and writes, the functions it calls,
whether it calls backward(). For the program: the names it assigns at module level, what it
imports, and (grader/loops.py) the training loops around its backward() calls.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, field

from .loops import Loop, Update
from .loops import read as read_loops


@dataclass(frozen=True)
class Function:
    name: str
    line: int
    params: tuple[str, ...]
    required: int  # positional parameters without a default
    reads: frozenset[str]  # globals it reads (not its own locals)
    writes: frozenset[str]  # globals it declares `global` and assigns
    calls: frozenset[str]  # names it calls: module functions among them
    backward: bool  # calls .backward() itself
    returns: tuple[str | None, ...] = ()  # the names its last `return a, b, c` gives back (None: not a name)
    uses: frozenset[str] = frozenset()  # every call as written, dotted: torch.sigmoid, nn.CrossEntropyLoss, relu


@dataclass(frozen=True)
class Class:
    """A class the file defines: its methods (seen without `self`, reading and writing its attributes as
    a module function reads and writes globals) and what its `__init__` makes of each attribute."""

    name: str
    line: int
    methods: dict[str, Function]
    attributes: frozenset[str]  # self.X it assigns anywhere
    made: dict[str, str]  # attribute -> tensor | ndarray | list | number, as __init__ makes it
    sizes: dict[str, int]
    required: int  # parameters its __init__ needs besides self (0: the grader can make one)
    values: dict[str, ast.expr] = field(default_factory=dict)  # attribute -> the expression __init__ gives it


@dataclass
class Facts:
    functions: dict[str, Function] = field(default_factory=dict)
    assigned: frozenset[str] = frozenset()  # module-level names assigned (also in top-level if/try/for/with)
    imports: frozenset[str] = frozenset()  # top-level packages imported anywhere
    loops: list[Loop] = field(default_factory=list)
    updates: list[Update] = field(default_factory=list)
    calls: dict[str, list[list[ast.expr]]] = field(default_factory=dict)  # function -> argument lists seen
    made: dict[str, str] = field(default_factory=dict)  # module-level name -> tensor | ndarray | list | number
    sizes: dict[str, int] = field(default_factory=dict)  # module-level name -> how many numbers its literal holds
    classes: dict[str, Class] = field(default_factory=dict)
    values: dict[str, ast.expr] = field(default_factory=dict)  # module-level name -> the first expression it is given
    uses: frozenset[str] = frozenset()  # the calls of the module's own statements (not inside its functions)
    top_calls: frozenset[str] = frozenset()  # the module functions those statements call
    ranges: tuple[int, ...] = ()  # the round counts of its `for ... in range(N)` loops (N a number or a global)

    def through(self, name: str) -> Facts:
        """The file as seen from inside one of its classes: its methods are the functions, its attributes
        (with the module's globals) the globals; so the binder binds methods as it binds functions."""
        c = self.classes[name]
        return Facts(functions=dict(c.methods), assigned=self.assigned | c.attributes, imports=self.imports,
                     loops=self.loops, updates=self.updates, calls=self.calls, made={**self.made, **c.made},
                     sizes={**self.sizes, **c.sizes}, values={**self.values, **c.values}, uses=self.uses,
                     top_calls=self.top_calls, ranges=self.ranges)

    def reached(self, names: list[str]) -> tuple[frozenset[str], frozenset[str]]:
        """Every call (dotted, as written) that running these functions can make, through the module functions
        they call and the module values they read (`criterion = nn.CrossEntropyLoss()` read inside `loss`),
        and the module functions among them."""
        seen: set[str] = set()
        uses: set[str] = set()
        stack = list(names)
        while stack:
            f = self.functions.get(stack.pop())
            if f is None or f.name in seen:
                continue
            seen.add(f.name)
            uses |= f.uses
            for read in f.reads:
                value = self.values.get(read)
                if value is not None:
                    uses |= _dotted_calls(value)
            stack.extend(c for c in f.calls if c in self.functions)
        return frozenset(uses), frozenset(seen)

    def callees(self, name: str) -> list[Function]:
        """The function and every module function it calls, directly or through others."""
        seen: dict[str, Function] = {}
        stack = [name]
        while stack:
            f = self.functions.get(stack.pop())
            if f is None or f.name in seen:
                continue
            seen[f.name] = f
            stack.extend(f.calls)
        return list(seen.values())

    def reads(self, name: str) -> set[str]:
        """The globals a function reads, through the module functions it calls too."""
        return set().union(*(f.reads for f in self.callees(name)))

    def passed(self, function: str | None, name: str) -> ast.expr | None:
        """What the first call of `function` passes for its parameter `name` (`train(x_data, y_data, 0.01)`)."""
        f = self.functions.get(function or "")
        if f is None or name not in f.params:
            return None
        at = f.params.index(name)
        return next((args[at] for args in self.calls.get(f.name, []) if at < len(args)), None)

    def reaches(self, caller: str, callee: str) -> bool:
        """Whether `caller` calls `callee`, directly or through other module functions."""
        return any(callee in f.calls for f in self.callees(caller))


def read(tree: ast.Module) -> Facts:
    facts = Facts()
    assigned: set[str] = set()
    top_uses: set[str] = set()
    top_calls: set[str] = set()
    for node in top_level(tree.body):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            facts.functions[node.name] = _function(node.name, node, node.args, node.body)
            continue
        if isinstance(node, ast.ClassDef):
            facts.classes[node.name] = _class(node)
            continue
        if not isinstance(node, (ast.If, ast.Try, ast.For, ast.While, ast.With)):  # their bodies come one by one
            top_uses |= _dotted_calls(node)
            top_calls.update(n.func.id for n in ast.walk(node) if isinstance(n, ast.Call)
                             and isinstance(n.func, ast.Name))
        else:
            for part in _heads(node):
                top_uses |= _dotted_calls(part)
        if isinstance(node, ast.Assign):
            for target in node.targets:
                for name, value in _pairs(target, node.value):
                    facts.values.setdefault(name, value)
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                assigned.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
                if isinstance(target, ast.Name) and node.value is not None and (made := _made(node.value)):
                    facts.made.setdefault(target.id, made)
                    if (size := _size(node.value)) is not None:
                        facts.sizes.setdefault(target.id, size)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):  # forward = lambda x: x * w
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        lam = node.value
                        facts.functions[target.id] = _function(target.id, node, lam.args, [ast.Return(lam.body)])
        elif isinstance(node, (ast.For, ast.With)):
            assigned.update(n.id for t in _bound_by(node) for n in ast.walk(t) if isinstance(n, ast.Name))
    facts.assigned = frozenset(assigned)
    facts.uses = frozenset(top_uses)
    facts.top_calls = frozenset(top_calls)
    imports: set[str] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Import):
            imports.update(a.name.split(".")[0] for a in n.names)
        elif isinstance(n, ast.ImportFrom) and n.module and not n.level:
            imports.add(n.module.split(".")[0])
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name):
            facts.calls.setdefault(n.func.id, []).append(list(n.args))
    facts.imports = frozenset(imports)
    facts.ranges = tuple(count for node in ast.walk(tree) if isinstance(node, ast.For)
                         and (count := _range_count(node.iter, facts.values)) is not None)
    facts.loops, facts.updates = read_loops(tree, facts)
    return facts


def _range_count(it: ast.expr, values: dict[str, ast.expr]) -> int | None:
    """N of `range(N)` or `range(a, N)`, where N is a number written there or in a global (`epochs = 1000`)."""
    if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range" and it.args):
        return None
    end = it.args[0] if len(it.args) == 1 else it.args[1]
    if isinstance(end, ast.Name):
        end = values.get(end.id, end)
    return end.value if isinstance(end, ast.Constant) and type(end.value) is int else None


def top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, those inside top-level if/try/for/while/with blocks included."""
    for node in body:
        yield node
        if isinstance(node, (ast.If, ast.Try, ast.For, ast.While, ast.With)):
            for part in ("body", "orelse", "finalbody"):
                yield from top_level(getattr(node, part, []))
            for handler in getattr(node, "handlers", []):
                yield from top_level(handler.body)


def _bound_by(node: ast.For | ast.With) -> list[ast.expr]:
    if isinstance(node, ast.For):
        return [node.target]
    return [item.optional_vars for item in node.items if item.optional_vars is not None]


def _function(name: str, node: ast.stmt, args: ast.arguments, body: list[ast.stmt]) -> Function:
    params = [a.arg for a in [*args.posonlyargs, *args.args]]
    every = params + [a.arg for a in args.kwonlyargs] + [a.arg for a in (args.vararg, args.kwarg) if a]
    declared: set[str] = set()
    local: set[str] = set(every)
    loads: set[str] = set()
    calls: set[str] = set()
    backward = False
    for sub in body:
        for n in ast.walk(sub):
            if isinstance(n, ast.Global):
                declared.update(n.names)
            elif isinstance(n, ast.Name):
                (loads if isinstance(n.ctx, ast.Load) else local).add(n.id)
            elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                local.add(n.name)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                local.update((a.asname or a.name).split(".")[0] for a in n.names)
            elif isinstance(n, ast.arg):
                local.add(n.arg)
            if isinstance(n, ast.Call):
                if isinstance(n.func, ast.Name):
                    calls.add(n.func.id)
                elif isinstance(n.func, ast.Attribute) and n.func.attr == "backward":
                    backward = True
    reads = (loads - (local - declared)) | (loads & declared)
    writes = declared & local
    returned = [n.value for sub in body for n in ast.walk(sub) if isinstance(n, ast.Return) and n.value is not None]
    returns: tuple[str | None, ...] = ()
    if returned:
        last = returned[-1]
        items = last.elts if isinstance(last, (ast.Tuple, ast.List)) else [last]
        returns = tuple(i.id if isinstance(i, ast.Name) else None for i in items)
    required = len(params) - len(args.defaults)
    uses = frozenset().union(*(_dotted_calls(sub) for sub in body)) if body else frozenset()
    return Function(name, getattr(node, "lineno", 0), tuple(params), required, frozenset(reads), frozenset(writes),
                    frozenset(calls), backward, returns, uses)


def _heads(node: ast.stmt) -> list[ast.AST]:
    """The parts of a compound statement that run once, outside its bodies: a test, an iterable, a context."""
    if isinstance(node, (ast.If, ast.While)):
        return [node.test]
    if isinstance(node, ast.For):
        return [node.iter]
    if isinstance(node, ast.With):
        return [item.context_expr for item in node.items]
    return []


def _pairs(target: ast.expr, value: ast.expr) -> list[tuple[str, ast.expr]]:
    """`a, b = x, y` as (a, x), (b, y); `a = x` as (a, x); anything else as nothing."""
    if isinstance(target, ast.Name):
        return [(target.id, value)]
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
            and len(target.elts) == len(value.elts):
        return [p for t, v in zip(target.elts, value.elts) for p in _pairs(t, v)]
    return []


def dotted(func: ast.expr) -> str | None:
    """`torch.nn.functional.relu` for the expression that names it; None for a call of a call or a subscript."""
    parts = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name):
        return ".".join(reversed(parts)) if parts else None
    return ".".join([func.id, *reversed(parts)])


def _dotted_calls(node: ast.AST) -> frozenset[str]:
    """Every call in `node` as written; a call with `min=0` (clamp) is written `clamp(min=0)`."""
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and (name := dotted(n.func)) is not None:
            out.add(name)
            if any(k.arg == "min" and _zero(k.value) for k in n.keywords) or \
                    name.split(".")[-1] in ("clamp", "clamp_", "clip") and len(n.args) > 1 and _zero(n.args[1]):
                out.add(f"{name}(min=0)")
            if any(_zero(a) for a in n.args):
                out.add(f"{name}(0)")  # max(0, z), np.maximum(z, 0)
    return frozenset(out)


def _zero(e: ast.expr) -> bool:
    return isinstance(e, ast.Constant) and type(e.value) in (int, float) and e.value == 0


def _class(node: ast.ClassDef) -> Class:
    methods: dict[str, Function] = {}
    attributes: set[str] = set()
    made: dict[str, str] = {}
    sizes: dict[str, int] = {}
    values: dict[str, ast.expr] = {}
    required = 0
    for item in node.body:
        if not isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) or not item.args.args:
            continue
        me = item.args.args[0].arg
        stored = {n.attr for n in ast.walk(item) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
                  and isinstance(n.value, ast.Name) and n.value.id == me}
        attributes |= stored
        if item.name == "__init__":
            required = len(item.args.args) - 1 - len(item.args.defaults)
            for sub in ast.walk(item):
                if isinstance(sub, ast.Assign):
                    for target in sub.targets:
                        for attr, value in _self_pairs(target, sub.value, me):
                            values.setdefault(attr, value)
                            if (kind := _made(value)) is not None:
                                made.setdefault(attr, kind)
                                if (size := _size(value)) is not None:
                                    sizes.setdefault(attr, size)
        if item.name.startswith("__") or any(isinstance(d, ast.Name) and d.id in ("staticmethod", "classmethod")
                                             for d in item.decorator_list):
            continue
        methods[item.name] = _method(item, me)
    return Class(node.name, node.lineno, methods, frozenset(attributes), made, sizes, max(required, 0), values)


def _self_pairs(target: ast.expr, value: ast.expr, me: str) -> list[tuple[str, ast.expr]]:
    if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == me:
        return [(target.attr, value)]
    if isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
            and len(target.elts) == len(value.elts):
        return [p for t, v in zip(target.elts, value.elts) for p in _self_pairs(t, v, me)]
    return []


def _method(node: ast.FunctionDef | ast.AsyncFunctionDef, me: str) -> Function:
    """A method as the binder sees a function: its parameters without `self`; `self.w1` read as the global w1,
    `self.forward(...)` as a call of the function forward."""
    args = node.args
    bare = ast.arguments(posonlyargs=[], args=args.args[1:], vararg=args.vararg, kwonlyargs=args.kwonlyargs,
                         kw_defaults=args.kw_defaults, kwarg=args.kwarg, defaults=args.defaults)
    f = _function(node.name, node, bare, node.body)
    reads = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Load)
             and isinstance(n.value, ast.Name) and n.value.id == me}
    writes = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute) and isinstance(n.ctx, ast.Store)
              and isinstance(n.value, ast.Name) and n.value.id == me}
    calls = {n.func.attr for n in ast.walk(node) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and isinstance(n.func.value, ast.Name) and n.func.value.id == me}
    uses = {u.removeprefix(f"{me}.") for u in f.uses}
    return Function(f.name, f.line, f.params, f.required, frozenset((f.reads - {me}) | reads), frozenset(writes),
                    frozenset(f.calls | calls), f.backward, f.returns, frozenset(uses))


def _size(value: ast.expr) -> int | None:
    """How many numbers a literal makes: [1.0, 2.0], torch.tensor([..]), torch.zeros(8), Variable(torch.Tensor([1]))."""
    if isinstance(value, (ast.List, ast.Tuple)):
        return len(value.elts)
    if isinstance(value, ast.Call) and value.args:
        first = value.args[0]
        name = value.func.attr if isinstance(value.func, ast.Attribute) else getattr(value.func, "id", "")
        if name in ("zeros", "ones", "rand", "randn", "empty", "full") and isinstance(first, ast.Constant) \
                and isinstance(first.value, int):
            return first.value
        return _size(first)
    return None


def _made(value: ast.expr) -> str | None:
    """What kind of value an expression makes: torch.tensor(...) a tensor, np.array(...) an array, [...] a list."""
    if isinstance(value, ast.Call):
        func = value.func
        while isinstance(func, ast.Attribute):
            func = func.value
        root = func.id if isinstance(func, ast.Name) else ""
        if root in ("torch", "Variable") or root.endswith("Variable"):
            return "tensor"
        if root in ("np", "numpy"):
            return "ndarray"
        return None
    if isinstance(value, (ast.List, ast.Tuple)):
        return "list"
    if isinstance(value, ast.Constant) and isinstance(value.value, (int, float)):
        return "number"
    return None
