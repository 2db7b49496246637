"""Which of the submission's functions plays each role of the assignment.

In order: the user's `--bind ROLE=NAME`; an accepted name (the assignment lists them,
`loss_fuction` included); the same name spelled otherwise (`forwardPropagate`); a near
misspelling (`forword`); for forward, the one function the bound loss calls with its input.
Two candidates equally good leave the role unbound, with both named: the grader does not guess.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..facts import Facts
from ..protocol import Signature
from ..spec import Assignment
from .names import norm, similar

HOW = ("option", "name", "spelling", "similar", "called")  # the ways a role is found, best first


@dataclass(frozen=True)
class Found:
    role: str
    function: str
    how: str  # one of HOW


@dataclass(frozen=True)
class Unfound:
    role: str
    why: str  # "absent" | "ambiguous" | "unknown_option"
    candidates: tuple[str, ...] = ()


def find_roles(a: Assignment, functions: dict[str, Signature], facts: Facts,
               options: dict[str, str]) -> tuple[dict[str, Found], dict[str, Unfound]]:
    found: dict[str, Found] = {}
    unfound: dict[str, Unfound] = {}
    taken: set[str] = set()
    for role, spec in a.roles.items():
        pick = _pick(role, spec.names, functions, options, taken)
        if isinstance(pick, Found):
            found[role] = pick
            taken.add(pick.function)
        else:
            unfound[role] = pick
    forward = unfound.get("forward")
    if forward is not None and forward.why == "absent" and "loss" in found:
        called = sorted(f for f in facts.functions.get(found["loss"].function, _NONE).calls
                        if f in functions and f not in taken)
        if len(called) == 1:
            found["forward"] = Found("forward", called[0], "called")
            del unfound["forward"]
    return found, unfound


def _pick(role: str, accepted: list[str], functions: dict[str, Signature], options: dict[str, str],
          taken: set[str]) -> Found | Unfound:
    if role in options:
        name = options[role]
        return Found(role, name, "option") if name in functions else Unfound(role, "unknown_option", (name,))
    free = [f for f in functions if f not in taken]
    for name in accepted:
        if name in free:
            return Found(role, name, "name")
    spelled = sorted({f for f in free if norm(f) in {norm(a) for a in accepted}})
    if len(spelled) == 1:
        return Found(role, spelled[0], "spelling")
    if len(spelled) > 1:
        return Unfound(role, "ambiguous", tuple(spelled))
    near = {f: d for f in free if (d := similar(f, accepted)) is not None}
    if near:
        best = min(near.values())
        closest = sorted(f for f, d in near.items() if d == best)
        return Found(role, closest[0], "similar") if len(closest) == 1 else Unfound(role, "ambiguous", tuple(closest))
    return Unfound(role, "absent")


class _No:
    calls: frozenset[str] = frozenset()


_NONE = _No()
