"""Known wrong implementations of the homework, as data: `mistakes.toml`, texts beside it.

Each entry is one kind of variant (`variants.py`) with its parameters, bound to every
reference model it applies to; the bound variant is a `Model` that recomputes, in float64
numpy, exactly what one typical buggy submission computes, so the grader can tell a student
not only *that* a number differs but *which* known mistake produces it. The README's table
is generated from it: `python -m reference.mistakes README.md`.

Conventions
- `check` is the first check, in the order forward, loss, gradients, update, training,
  whose numbers reveal the mistake; the values of every earlier check equal the
  reference's (the tests prove it).
- A variant's `evaluate` gives the gradients of the submission's own computation:
  autograd's of its loss (torch), or its hand-written backward fed its own forward outputs
  (numpy). The numpy grader feeds `back_propagate` the submission's forward outputs and
  compares with the variant's `backward` of those same outputs. The two agree except for
  the row-by-row layouts, whose forward is wrong: fed the reference's h and o,
  `hidden-weights-row-by-row` returns exactly the reference's gradients with d_w2 and
  d_w3 swapped.
- The loss mistakes scale autograd's gradients with the loss (a torch submission shows
  them). A numpy submission derives its gradients apart from the `error` line and keeps
  them right; the loss value alone identifies the mistake there.
- Numbers that coincide on generic cases are one entry, with the ways of writing it in
  `forms`: `(o1-y1)**2 + (o2-y2)**2`, `MSELoss()(o1, y1) + MSELoss()(o2, y2)` and
  `MSELoss(reduction='sum')` are all `loss-doubled`; `torch.stack([o1, o2])` (dim 0) and
  one `CrossEntropyLoss` per output are both `cross-entropy-over-one-class`.
- At all-zero weights (task zero-init) five entries give the reference's first
  pass exactly: `hidden-sigmoid-derivative-missing` and
  `hidden-delta-missing-output-slope` (the hidden gradients are 0 either way,
  since w5..w8 = 0), `output-delta-hidden-slope` (h = o = 1/2, so h(1-h) =
  o(1-o)), `weights-row-by-row` and `hidden-weights-row-by-row` (equal weights
  cannot be told apart). Training from zero at step 1 shows
  `hidden-weights-row-by-row` in round 3 (the hidden weights stay 0 for a round)
  and the others in round 2; the hidden cases show all five at once.

This module is numpy only: the grader's parent imports it, never torch.
"""

from __future__ import annotations

import sys
import tomllib
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from . import mistake_texts
from .model import Model
from .models import MODELS
from .net222 import ACTIVATIONS, LOSSES
from .variants import KINDS

CHECKS = ("forward", "loss", "gradients", "update", "training")
FRAMEWORKS = ("numpy", "torch")
LANGUAGES = ("en", "zh")
CATALOGUE = Path(__file__).resolve().with_name("mistakes.toml")
README_BEGIN = ("<!-- the known mistakes, generated from reference/mistakes.toml: "
                "python -m reference.mistakes README.md -->")
README_END = "<!-- end of the known mistakes -->"


@dataclass(frozen=True)
class MistakeText:
    name: str  # one line
    explanation: str  # what the numbers show and why it is wrong
    fix: str  # the corrected formula, plain-text maths
    # what a framework's submissions read instead (`[mistakes.<id>.numpy]`): a numpy file is never told to use torch
    frameworks: dict[str, dict[str, str]] = field(default_factory=dict, hash=False)

    def written_for(self, framework: str) -> MistakeText:
        """The texts a submission of this framework reads."""
        return replace(self, **self.frameworks.get(framework, {}), frameworks={})


@dataclass(frozen=True)
class Mistake:
    id: str  # stable kebab-case id
    check: str  # the first check whose numbers reveal it, one of CHECKS
    kind: str  # one of variants.KINDS
    frameworks: tuple[str, ...]  # the assignments' frameworks that can make it
    models: tuple[str, ...]  # the reference models it applies to (reference/models.py)
    params: dict[str, Any] = field(default_factory=dict, hash=False)  # the kind's parameters
    activations: tuple[str, ...] = ACTIVATIONS  # the tasks' activations it can occur with
    losses: tuple[str, ...] = LOSSES  # the tasks' losses it can occur with
    forms: tuple[str, ...] = ()  # what the wrong code typically looks like
    fixtures: tuple[str, ...] = ()  # files below tests/submissions that make exactly this mistake

    def __post_init__(self) -> None:
        for what, values, known in (("check", (self.check,), CHECKS), ("framework", self.frameworks, FRAMEWORKS),
                                    ("model", self.models, MODELS), ("activation", self.activations, ACTIVATIONS),
                                    ("loss", self.losses, LOSSES)):
            unknown = [v for v in values if v not in known]
            if unknown or not values:
                raise ValueError(f"mistake {self.id}: unknown {what} {unknown or '(none given)'}")
        if self.kind not in KINDS and self.kind != "reference":
            raise ValueError(f"mistake {self.id}: unknown kind {self.kind!r}; known: {', '.join(KINDS)}")

    def applies_to(self, model: str, framework: str, activation: str, loss: str) -> bool:
        return model in self.models and framework in self.frameworks and activation in self.activations \
            and loss in self.losses

    def on(self, model: str) -> Model:
        """The model a submission with this mistake computes, for reference model `model`."""
        if self.kind == "reference":
            return MODELS[model]
        return _bound(self, model)

    @property
    def text(self) -> dict[str, MistakeText]:
        return {lang: texts(lang)[self.id] for lang in LANGUAGES}


# The right implementation in the catalogue's form: `on(model)` is the model itself. Not in MISTAKES.
REFERENCE = Mistake(id="reference", check="training", kind="reference", frameworks=FRAMEWORKS, models=tuple(MODELS))


@cache
def _bound(m: Mistake, model: str) -> Model:
    if model not in m.models:
        raise KeyError(f"mistake {m.id} does not apply to model {model!r}")
    return KINDS[m.kind](MODELS[model], **m.params)


def _load() -> dict[str, Mistake]:
    with CATALOGUE.open("rb") as f:
        entries = tomllib.load(f)["mistake"]
    found: dict[str, Mistake] = {}
    for entry in entries:
        fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}
        m = Mistake(**fields)
        if m.id in found or m.kind == "reference":
            raise ValueError(f"mistake {m.id!r}: a duplicate id, or the reference's kind")
        for model in m.models:
            m.on(model)  # bad parameters fail now, not while grading
        found[m.id] = m
    return found


@cache
def texts(lang: str) -> dict[str, MistakeText]:
    """Every mistake's name, explanation and fix in `lang`."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; known: {', '.join(LANGUAGES)}")
    with mistake_texts(lang).open("rb") as f:
        entries = tomllib.load(f)["mistakes"]
    out = {}
    for i, entry in entries.items():
        variants = {fw: entry.pop(fw) for fw in FRAMEWORKS if fw in entry}
        unknown = [k for fw in variants.values() for k in fw if k not in ("explanation", "fix")]
        if unknown:
            raise ValueError(f"mistake {i}: a framework's texts may give explanation and fix, not {unknown}")
        out[i] = MistakeText(**entry, frameworks=variants)
    return out


MISTAKES: dict[str, Mistake] = _load()


def applicable(model: str, framework: str, activation: str, loss: str) -> list[Mistake]:
    """The mistakes a submission of this model and framework can make in a task with this activation and loss."""
    for what, value, known in (("model", model, MODELS), ("framework", framework, FRAMEWORKS),
                               ("activation", activation, ACTIVATIONS), ("loss", loss, LOSSES)):
        if value not in known:
            raise ValueError(f"unknown {what} {value!r}; known: {', '.join(known)}")
    return [m for m in MISTAKES.values() if m.applies_to(model, framework, activation, loss)]


def table(lang: str = "en") -> str:
    """A markdown table of the catalogue: id | name | check."""
    names = texts(lang)
    head = {"en": "| id | name | check |", "zh": "| id | 名称 | 检查 |"}[lang]
    rows = [head, "| --- | --- | --- |"]
    rows += [f"| `{m.id}` | {names[m.id].name} | {m.check} |" for m in MISTAKES.values()]
    return "\n".join(rows)


def readme(text: str) -> str:
    """`text` (the README) with the table between its markers regenerated."""
    before, begin, rest = text.partition(README_BEGIN)
    _, end, after = rest.partition(README_END)
    if not begin or not end:
        raise ValueError("the README has no markers for the table of known mistakes")
    return f"{before}{README_BEGIN}\n\n{table('en')}\n\n{README_END}{after}"


if __name__ == "__main__":  # python -m reference.mistakes README.md: regenerate the table in place
    for path in map(Path, sys.argv[1:]):
        path.write_text(readme(path.read_text(encoding="utf-8")), encoding="utf-8")
