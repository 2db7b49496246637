"""Names: the value keys an assignment speaks of, and how a submission's own names map onto them.

A key is what the grader can hand a function: an input (`x1`), a target, a weight, the step, one
of forward's outputs (`out_o1`, `y_pred`), a gradient (`d_w1`), or a pack of several (`x` for
[x1, x2], `w` for the weights). A submission's name maps to a key by the assignment's aliases
(`lr` is the step) or by spelling alone (`w_1`, `W1`, `dw1`); the weights' own names come first
(the linear model's weight may be called `w1`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..spec import Assignment

DEFAULT_PACKS = {"inputs": "x", "targets": "y", "weights": "w", "grads": "d_w"}
SIMILAR = 2  # edits between two names that still count as the same (forword ~ forward)


def norm(name: str) -> str:
    """A name without case and underscores: `forward_Propagate`, `forwardpropagate`; `w_1`, `W1`."""
    return name.lower().replace("_", "")


def distance(a: str, b: str) -> int:
    """Levenshtein distance."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def similar(name: str, accepted: list[str]) -> int | None:
    """How far `name` is from the nearest accepted name, when close enough to be a misspelling of it."""
    n = norm(name)
    if len(n) < 5:
        return None  # short names differ by too little to tell a typo from another word
    best = min(distance(n, norm(a)) for a in accepted)
    return best if best <= SIMILAR else None


@dataclass
class Keys:
    """The key space of one assignment, and the submission's names that stand for keys."""

    a: Assignment
    packs: dict[str, list[str]] = field(default_factory=dict)  # pack key -> member keys
    own: dict[str, str] = field(default_factory=dict)  # the submission's name -> key (its weights)

    def __post_init__(self) -> None:
        groups = {"inputs": self.a.inputs, "targets": self.a.targets, "weights": self.a.weights, "grads": self.grads}
        named: dict[str, str] = {group: key for key, group in self.a.lists.items()}
        for group, members in groups.items():
            key = named.get(group, DEFAULT_PACKS[group])
            if len(members) > 1 and key not in self.scalars:
                self.packs[key] = members

    @property
    def scalars(self) -> list[str]:
        a = self.a
        outs = [k for r in a.roles.values() for k in [*r.outputs, *r.optional_outputs]]
        return [*a.inputs, *a.targets, *a.weights, "step", *outs, *self.grads, "error"]

    @property
    def grads(self) -> list[str]:
        return [f"d_{w}" for w in self.a.weights]

    def pack_of(self, group: str) -> str | None:
        members = {"inputs": self.a.inputs, "targets": self.a.targets, "weights": self.a.weights,
                   "grads": self.grads}[group]
        return next((k for k, m in self.packs.items() if m == members), None)

    def key(self, name: str) -> str | None:
        """The key a submission's name stands for, or None."""
        if name in self.own:
            return self.own[name]
        every = [*self.scalars, *self.packs]
        if name in every:
            return name
        for canonical, alternatives in self.a.aliases.items():
            if name in alternatives:
                return canonical
        n = norm(name)
        found = [k for k in every if norm(k) == n]
        if len(found) == 1:
            return found[0]
        for canonical, alternatives in self.a.aliases.items():
            if any(norm(alt) == n for alt in alternatives):
                return canonical
        return None
