"""Binding: which of the submission's functions plays each role, and what to pass it."""

from __future__ import annotations

import inspect
import types
from typing import Any, Callable



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
