"""Pydantic models of `assignments/*.toml`: what is graded, with which names and tolerances.

An assignment file is data only; adding a task or changing points never needs code.
"""

from __future__ import annotations

import tomllib
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from reference.models import MODELS

from . import ASSIGNMENTS_DIR

CHECK_IDS = ("runs", "forward", "loss", "gradients", "update", "training", "policy")
ROLES = ("forward", "loss", "backward", "update")
NEEDS = {"forward": ("forward",), "loss": ("loss", "forward"), "gradients": ("backward", "loss"),
         "update": ("update",)}  # the roles a check judges (one of them)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Tolerance(Strict):
    rtol: float = Field(ge=0)
    atol: float = Field(ge=0)


class Role(Strict):
    """One function of the contract, found by any of its accepted names."""

    names: list[str] = Field(min_length=1)
    params: list[str]  # canonical parameter names, in order: the positional fallback
    shapes: list[list[str]] = []  # other call shapes of the same role, e.g. loss(out_o1, out_o2, y1, y2)
    outputs: list[str] = []  # what it returns, by position
    optional_outputs: list[str] = []  # may follow the outputs (e.g. hidden layer values)
    required: bool = True  # False: a style may write it inline in __main__ instead


class Text(Strict):
    """One text in every language the grader speaks (grader/i18n.py LANGS)."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1)

    def text(self, lang: str) -> str:
        return {"en": self.en, "zh": self.zh}.get(lang, self.en)


class CheckSpec(Strict):
    points: float = Field(ge=0)
    # where the points go when a style cannot be judged on this check (the first of these that is judged)
    moves_to: list[str] = []
    tolerance: Tolerance | None = None
    hint: Text | None = None  # shown when the check fails, in the feedback's language


class Given(Strict):
    """The homework's own case."""

    inputs: list[float]
    targets: list[float]
    weights: list[float]
    step: float
    data_x: list[float] = []  # lecture: the training data the student's loop walks through
    data_y: list[float] = []


class Hidden(Strict):
    """Randomized cases injected through parameters and globals; values never shown."""

    count: int = Field(ge=3)
    seed: int
    inputs: tuple[float, float]
    targets: tuple[float, float]
    weights: tuple[float, float]
    step: tuple[float, float]


class Training(Strict):
    rounds: int = Field(ge=3)  # teacher-forced rounds per hidden case
    # rounds on the given case, also the loss curve drawn for the student: the homework prints 10 rounds
    curve: int = Field(default=10, ge=3)
    step_names: list[str] = ["step", "lr", "learning_rate", "alpha", "eta"]


class Task(Strict):
    title: str
    activation: Literal["sigmoid", "relu"] = "sigmoid"
    loss: Literal["mse", "mse-mean", "cross-entropy"] = "mse"
    init: Literal["given", "submission"] = "given"  # whose weights start the given case
    expect_init: float | None = None  # zero-init: every weight must start here


class Packed(Strict):
    """How to read the order of a packed parameter vector from the submission's own forward (linear models):
    each weight multiplies this power of the input."""

    input: str
    exponents: dict[str, float]


class Detect(Strict):
    globals: list[str] = []  # module-level names assigned by this assignment's style
    forbid: list[str] = []  # functions that point to another assignment


class Limits(Strict):
    main_seconds: float = 20.0
    probe_seconds: float = 5.0
    total_seconds: float = 60.0
    memory_mib: int = 3072


class Assignment(Strict):
    id: str
    title: str
    framework: Literal["numpy", "torch"]
    model: str  # a reference model (reference/models.py): it names the outputs, parameters and hidden units
    inputs: list[str]
    targets: list[str]
    weights: list[str]
    lists: dict[str, Literal["inputs", "targets", "weights"]] = {}  # e.g. w = [w1..w8]
    inject_as: Literal["float", "tensor"] = "float"  # inputs/targets with no student global to mimic
    aliases: dict[str, list[str]] = {}
    roles: dict[str, Role]  # forward, loss, backward, update (ROLES)
    checks: dict[str, CheckSpec]
    given: Given
    hidden: Hidden
    training: Training
    tasks: dict[str, Task]
    default_task: str
    detect: Detect
    forbidden_modules: list[str] = []  # the policy check: modules the homework may not use
    # what the sandbox provides besides numpy, torch and matplotlib (installed with the grader: pyproject.toml),
    # named when an import fails; tests/test_load.py checks each imports in the sandbox
    packages: list[str] = []
    packed: Packed | None = None
    limits: Limits = Limits()

    @field_validator("model")
    @classmethod
    def _known_model(cls, model: str) -> str:
        if model not in MODELS:
            raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
        return model

    @model_validator(mode="after")
    def _consistent(self) -> Assignment:
        unknown = set(self.checks) - set(CHECK_IDS)
        if unknown:
            raise ValueError(f"unknown check ids {sorted(unknown)}")
        if set(self.roles) - set(ROLES):
            raise ValueError(f"unknown roles {sorted(set(self.roles) - set(ROLES))}; known: {', '.join(ROLES)}")
        for check, roles in NEEDS.items():  # a check whose stage no role plays would crash, not grade
            if check in self.checks and not set(roles) & set(self.roles):
                raise ValueError(f"checks.{check} needs a role {' or '.join(roles)} to judge")
        for check, c in self.checks.items():
            if set(c.moves_to) - set(self.checks):
                raise ValueError(f"checks.{check}.moves_to names checks this assignment has not: "
                                 f"{sorted(set(c.moves_to) - set(self.checks))}")
        if self.default_task not in self.tasks:
            raise ValueError(f"default_task {self.default_task!r} is not among the tasks")
        if len(self.given.weights) != len(self.weights):
            raise ValueError("given.weights must list one value per weight")
        if len(self.given.inputs) != len(self.inputs) or len(self.given.targets) != len(self.targets):
            raise ValueError("given inputs/targets do not match the declared names")
        self._fits_the_model()
        return self

    def _fits_the_model(self) -> None:
        """The names the grader compares are the model's: its inputs, targets, parameters, outputs, gradients."""
        m = MODELS[self.model]
        for what, mine, its in (("inputs", self.inputs, m.inputs), ("targets", self.targets, m.targets),
                                ("weights", self.weights, m.params)):
            if tuple(mine) != its:
                raise ValueError(f"{what} must be the model {m.id}'s, in its order: {', '.join(its)}")
        for role_id, role in self.roles.items():
            unknown = [n for n in role.outputs + role.optional_outputs if n not in m.outputs]
            if role_id in ("forward", "loss") and unknown:
                raise ValueError(f"roles.{role_id} outputs {', '.join(unknown)}: the model {m.id} names its "
                                 f"outputs {', '.join(m.outputs)}")
            if role_id == "backward" and role.outputs != [f"d_{n}" for n in self.weights]:
                raise ValueError("roles.backward outputs must be d_<weight> for every weight, in order")

    @property
    def max_score(self) -> float:
        return sum(c.points for c in self.checks.values())

    def role_names(self) -> set[str]:
        return {name for role in self.roles.values() for name in role.names}


def load_assignment(assignment_id: str) -> Assignment:
    path = ASSIGNMENTS_DIR / f"{assignment_id}.toml"
    if not path.is_file():
        raise KeyError(f"unknown assignment {assignment_id!r}; known: {', '.join(assignment_ids())}")
    with path.open("rb") as f:
        return Assignment.model_validate(tomllib.load(f))


def assignment_ids() -> list[str]:
    return sorted(p.stem for p in ASSIGNMENTS_DIR.glob("*.toml"))


@cache
def load_all() -> dict[str, Assignment]:
    """Every assignment, parsed and validated once per process (a batch asks for them per submission)."""
    return {a: load_assignment(a) for a in assignment_ids()}
