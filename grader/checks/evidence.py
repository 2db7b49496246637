"""Everything the checks may look at, read-only: the assignment, the cases, the binding and what the child
observed, with the few views several checks derive from them (the step each update took)."""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from functools import cached_property

from ..binding import Decision
from ..compare import scalar
from ..facts import Facts
from ..frames import Observations, Observed
from ..i18n import current
from ..load import Source
from ..plan import Case
from ..protocol import UpdateResult
from ..sandbox import ChildRun
from ..spec import Assignment, Task, Tolerance


@dataclass(frozen=True, eq=False)
class Evidence:
    a: Assignment
    task: Task
    cases: list[Case]
    facts: Facts
    source: Source
    run: ChildRun
    seen: Observations
    decision: Decision

    def function(self, role: str) -> str:
        """The submission's function bound to a role (the role's first accepted name when none is)."""
        found = self.decision.found.get(role)
        return found.function if found else self.a.roles[role].names[0]

    def bound(self, role: str) -> bool:
        return self.decision.bound(role)

    def observed(self, probe: str, case: Case) -> Observed | None:
        return self.seen.probes.get(f"{probe}/{case.index}")

    def spec(self, check: str) -> tuple[float, Tolerance]:
        c = self.a.checks[check]
        return c.points, c.tolerance or Tolerance(rtol=1e-6, atol=1e-9)

    def hint(self, check: str, step: float | None = None) -> list[str]:
        """The check's hint; a `{step}` in it is the step the submission uses (the homework's where unknown)."""
        hint = self.a.checks[check].hint
        if not hint:
            return []
        shown = step if step is not None and math.isfinite(step) and step > 0 else self.a.given.step
        return [hint.text(current()).replace("{step}", f"{shown:g}")]

    def values(self, case: Case, seen: Observed) -> dict[str, float] | None:
        """The case as the child ran it: a case that starts from the submission's own weights takes them
        from the probe's echo (which may differ from the plan in the weights alone, see frames.py)."""
        if not case.own_weights:
            return case.values
        echoed = seen.frame.case
        if any(not math.isfinite(echoed[w]) for w in self.a.weights):
            return None
        return dict(echoed)

    @cached_property
    def steps(self) -> dict[int, float]:
        """The step each case's update took: the case's own where the grader chose it (a parameter or a
        global the update reads), else measured from what the update did with the gradients it was given."""
        out: dict[int, float] = {}
        given = self.decision.step_given()
        for case in self.cases:
            seen = self.observed("update", case)
            if given:
                out[case.index] = case.values["step"]
            elif seen is not None and isinstance(seen.result, UpdateResult):
                out[case.index] = self.measured_step(case, seen)
        return out

    def measured_step(self, case: Case, seen: Observed) -> float:
        """The median over the weights of (old - new) / gradient: what a plain gradient step multiplies by."""
        old = self.values(case, seen)
        assert isinstance(seen.result, UpdateResult)
        new = [scalar(w)[0] for w in seen.result.weights]
        if old is None or len(new) != len(self.a.weights) or any(v is None for v in new):
            return math.nan
        if len(new) != len(self.a.weights) or any(v is None for v in new):
            return math.nan
        ratios = [(old[n] - v) / g for n, v, g in zip(self.a.weights, new, case.grads)]  # type: ignore[operator]
        return statistics.median(ratios) if all(math.isfinite(r) for r in ratios) else math.nan
