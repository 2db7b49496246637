"""Carrying out the parent's binding: call the function bound to a role with the values it names.

No decision is taken here: which function plays which role, what each parameter receives and
which globals to set were decided by the parent (`grader/binding/`) from the code and what
executing it defined; the child only looks the function up and calls it.
"""

from __future__ import annotations

from typing import Any

from .values import scalar, spread


class Unbound(Exception):
    """The plan names a function the module does not hold (the submission deleted or rebound it)."""

    def __init__(self, function: str) -> None:
        super().__init__(function)
        self.function = function


class NoNumbers(Exception):
    """Forward gave nothing numeric to feed the stage after it."""

    def __init__(self, function: str) -> None:
        super().__init__(function)
        self.function = function


class Caller:
    def __init__(self, binding: dict[str, Any], module: dict[str, Any]) -> None:
        self.calls: dict[str, dict[str, Any]] = binding["calls"]
        self.inject: dict[str, dict[str, str]] = binding["inject"]
        self.outputs: dict[str, list[str]] = binding["outputs"]
        self.module = module
        self.instance_of: dict[str, Any] | None = binding.get("instance")
        self.instance: Any = None  # the fresh object whose methods play the roles (a class style)

    def renew(self) -> None:
        """A fresh instance for the next probe (a class style), so no case inherits another's state."""
        if self.instance_of is not None:
            cls = self.module.get(self.instance_of["cls"])
            if not isinstance(cls, type):
                raise Unbound(self.instance_of["cls"])
            self.instance = cls()

    @property
    def held(self) -> dict[str, Any]:
        """Where the plan's names live: the instance's attributes over the module's globals."""
        if self.instance is None:
            return self.module
        return {**self.module, **getattr(self.instance, "__dict__", {})}

    def _set(self, name: str, value: Any) -> None:
        if self.instance is not None and name in self.instance_of["attributes"]:  # type: ignore[index]
            setattr(self.instance, name, value)
        else:
            self.module[name] = value

    def has(self, role: str) -> bool:
        return role in self.calls

    def needs(self, role: str) -> set[str]:
        """Forward's outputs a call of `role` takes, as parameters or as the globals it reads."""
        if role == "forward":
            return set()
        outputs = set(self.outputs.get("forward", ()))
        return outputs & {*self.calls[role]["args"], *self.inject.get(role, {}).values()}

    def call(self, role: str, values: dict[str, Any]) -> Any:
        """Set the globals the function reads, as the submission's `__main__` would have, then call it.

        A call that takes forward's outputs (`loss(y_pred, y)`, `back_propagate(out_o1, ...)`) gets
        the submission's own forward of the same values, computed first unless already there."""
        c = self.calls[role]
        name = c["function"]
        fn = getattr(self.instance, name, None) if self.instance is not None else self.module.get(name)
        if not callable(fn):
            raise Unbound(c["function"])
        if any(k not in values for k in self.needs(role)):
            self.feed(values)
        for name, key in self.inject.get(role, {}).items():
            if key in values:
                self._set(name, values[key])
        return fn(*[values[k] for k in c["args"]])

    def feed(self, values: dict[str, Any]) -> dict[str, float]:
        """Forward's outputs of these values, added to them by their keys; their numbers are returned."""
        keys = self.outputs["forward"]
        outs = spread(self.call("forward", values), len(keys))
        values.update(zip(keys, outs))
        return {k: v for k, o in zip(keys, outs) if (v := scalar(o)) is not None}

    def fed(self, role: str, values: dict[str, Any]) -> dict[str, float] | None:
        """The forward outputs a call of `role` is given, as numbers (None when it takes none)."""
        needed = self.needs(role)
        if not needed:
            return None
        fed = self.feed(values)
        if any(k not in fed for k in needed):
            raise NoNumbers(self.calls["forward"]["function"])
        return fed

    def loss_of(self, values: dict[str, Any]) -> float | None:
        """The loss a call returns (the loss role's, or forward's `error` output), for central differences."""
        role = "loss" if "loss" in self.calls else "forward"
        keys = self.outputs.get(role, [])
        if "error" not in keys:
            return None
        outs = spread(self.call(role, values), len(keys))
        at = keys.index("error")
        return scalar(outs[at]) if at < len(outs) else None
