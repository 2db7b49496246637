"""What crosses the pipes between the grader (the parent) and its sandboxed child.

The one module both sides import: the child (`grader/child/`) builds these dataclasses and
sends them as JSON lines; the parent decodes every frame once, strictly, into the same types
(`grader/frames.py`: unknown keys, kinds or probe ids and frames out of order make the file an
error). Standard library only, so the child imports nothing else of the grader.

The conversation, in order:

    parent -> child   Job                  the source and the sandbox's settings (job pipe, line 1)
    child  -> parent  SandboxFrame         which confinement layers held
    child  -> parent  LoadFrame            what executing the module defined: functions, globals
    parent -> child   Plan                 the binding the parent decided, and the probes (job pipe, line 2)
    child  -> parent  LayoutFrame          only when the plan asks: the order of a packed parameter vector
    child  -> parent  ProbeFrame ...       one per probe, in the plan's order
    child  -> parent  DoneFrame
    child  -> parent  MainFrame            the program's own `__main__`, traced

A value the child observed is a list of floats, or a `NotNumbers` saying what it was instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

STRICT = {"extra": "forbid"}  # pydantic's config for every type below: an unknown key is a forgery

Numbers = list[float]


@dataclass
class NotNumbers:
    """Why an observed value is not a list of numbers: its type, and shape and dtype where it has them."""

    __pydantic_config__ = STRICT
    type: str
    shape: list[int] | None = None
    dtype: str | None = None
    raised: str | None = None  # its conversion raised this exception type


Value = Numbers | NotNumbers | None

# What went wrong in the child, as a code with arguments: the parent words it in the reader's language.
ErrorCode = Literal[
    "raised",  # the submission raised (type, message, line, function)
    "timeout",  # a call took longer than its limit
    "exit",  # sys.exit() / os._exit() (exit_code)
    "unbound",  # the plan names a function the module does not have (function)
    "not_tensor",  # a loss that is not a tensor: backward() cannot run (type)
    "no_numbers",  # forward gave nothing numeric to feed the next stage (function)
]


@dataclass
class ChildError:
    __pydantic_config__ = STRICT
    code: ErrorCode
    type: str = ""  # the exception's class name
    message: str = ""  # the submission's own exception text: never shown for a hidden case
    line: int | None = None  # where, in the submission's file
    function: str | None = None  # in which of its functions (None: at module level)
    exit_code: int | str | None = None


# ---------------------------------------------------------------- parent -> child


@dataclass
class Limits:
    __pydantic_config__ = STRICT
    main_seconds: float
    probe_seconds: float
    total_seconds: float


@dataclass
class Job:
    """Line 1 of the job pipe: everything the child needs before it knows the binding."""

    __pydantic_config__ = STRICT
    source: str
    filename: str
    framework: str
    scratch: str
    readable: list[str]  # extra folders Landlock lets it read (the fork server's font cache)
    rlimits: dict[str, int]
    limits: Limits
    forbidden_modules: list[str] = field(default_factory=list)


@dataclass
class Make:
    """How to build one value of a case in the submission's own type: a float, or a tensor or array
    shaped like the submission's global of that role (`torch.tensor([0.2])` begets `tensor([v])`)."""

    __pydantic_config__ = STRICT
    kind: Literal["float", "tensor", "ndarray"] = "float"
    shape: list[int] = field(default_factory=list)
    dtype: str = "float64"
    grad: bool = False  # a fresh leaf tensor that requires grad (a weight)


@dataclass
class Pack:
    """Several values of a case in one object: `x = [x1, x2]`, `w = [w1, ..., w8]`, `w = torch.zeros(8)`."""

    __pydantic_config__ = STRICT
    key: str  # the packed value's own key (what a parameter or global bound to it receives)
    members: list[str]  # the keys it holds, by position
    kind: Literal["list", "tensor", "ndarray"] = "list"  # list: of the members' own objects
    dtype: str = "float64"
    grad: bool = False  # tensor: one leaf that requires grad
    floats: bool = False  # list: of plain floats rather than the members' objects


@dataclass
class Call:
    """How to call the function bound to one role: which value goes to each positional parameter."""

    __pydantic_config__ = STRICT
    function: str
    args: list[str]  # value keys


@dataclass
class Layout:
    """Ask for the order of a packed parameter vector: call `call` with the vector set to each unit
    vector in turn, at each input in `at` (the parent checks the answer against these numbers)."""

    __pydantic_config__ = STRICT
    pack: str  # the Pack key
    role: str  # whose call (its Binding.calls entry) shows the effect
    input: str  # the value key the inputs in `at` go to
    at: list[float]
    exponents: dict[str, float]  # member -> the power of the input it multiplies (x^2, x, 1: 2, 1, 0)


@dataclass
class Trace:
    """What to record of the program's own run: its parameters at each backward(), and globals at the end."""

    __pydantic_config__ = STRICT
    weights: dict[str, str] = field(default_factory=dict)  # weight key -> the global holding it
    packed: str | None = None  # or one global holding them all, by `members`
    members: list[str] = field(default_factory=list)
    rounds: int = 24  # rounds recorded in full (the first ones); the rest are counted
    report: list[str] = field(default_factory=list)  # globals whose values the end of the run reports


@dataclass
class Instance:
    """The roles are methods of a class: each probe calls them on a fresh instance, `cls()`, and the values
    the plan injects under `attributes` are set on that instance (the rest, as globals of the module)."""

    __pydantic_config__ = STRICT
    cls: str
    attributes: list[str] = field(default_factory=list)


@dataclass
class Binding:
    """The parent's decision on how this submission is called; the child only carries it out."""

    __pydantic_config__ = STRICT
    framework: str
    make: dict[str, Make]  # value key -> how to build it
    packs: list[Pack]
    calls: dict[str, Call]  # role -> call
    inject: dict[str, dict[str, str]]  # role -> {module global -> value key}: set before its call, as `__main__` would
    outputs: dict[str, list[str]]  # role -> the keys of what it returns, by position
    weights: list[str]  # the weight keys, in the model's order
    weight_globals: dict[str, str]  # weight key -> the global an update may rebind instead of returning
    packed_weights: str | None  # the Pack key of the weights, when one object holds them all
    trace: Trace
    layout: Layout | None = None
    instance: Instance | None = None


ProbeKind = Literal["call", "autograd", "backward", "update", "train"]


@dataclass
class Probe:
    """One call (or several: a training run) of the submission on one case. Inputs only."""

    __pydantic_config__ = STRICT
    id: str  # "<check>/<case>"
    kind: ProbeKind
    role: str
    case: dict[str, float]
    own_weights: bool = False  # start from the submission's own initial weights
    grads: list[float] = field(default_factory=list)  # update: the gradients it is handed
    rounds: int = 0  # train
    reuse: str = ""  # the id of a train probe whose first round made this very call
    numeric: bool = False  # also central differences of its own loss (is backward true to forward?)


@dataclass
class Plan:
    """Line 2 of the job pipe, sent once the parent has seen the LoadFrame."""

    __pydantic_config__ = STRICT
    binding: Binding
    probes: list[Probe]


# ---------------------------------------------------------------- child -> parent


@dataclass
class SandboxFrame:
    """Sent once the child is confined, before the submission's first line: so no submission can forge it."""

    __pydantic_config__ = STRICT
    kind: Literal["sandbox"]
    layers: dict[str, bool]  # layer -> whether it holds
    hidden: list[str] = field(default_factory=list)  # forbidden libraries the child found it cannot import


@dataclass
class Signature:
    __pydantic_config__ = STRICT
    params: list[str]  # positional parameters, in order
    required: int  # how many of them have no default
    varargs: bool = False


@dataclass
class Kind:
    """What a module global holds, for binding: a number, a tensor (and whether it is a weight), a list."""

    __pydantic_config__ = STRICT
    type: str  # float, int, tensor, ndarray, list, tuple, or another type's name
    shape: list[int] | None = None
    dtype: str | None = None
    requires_grad: bool = False
    numbers: Numbers | None = None  # its numbers, when it has few enough
    tensors: bool = False  # a list or tuple of tensors


@dataclass
class ClassShape:
    """A class the submission's file defines: its methods (without `self`) and what a trial instance holds."""

    __pydantic_config__ = STRICT
    methods: dict[str, Signature]
    attributes: dict[str, Kind]  # of `cls()`, the attributes that hold numbers
    error: ChildError | None = None  # `cls()` raised (or needs arguments): no instance to call methods on


@dataclass
class LoadFrame:
    __pydantic_config__ = STRICT
    kind: Literal["load"]
    error: ChildError | None  # the first statement of the module that raised (the rest still ran)
    functions: dict[str, Signature]  # callables the submission's own file defines
    globals: dict[str, Kind]  # its module globals that hold numbers
    classes: dict[str, ClassShape] = field(default_factory=dict)

    def through(self, name: str) -> LoadFrame:
        """What loading showed, as seen from inside one class: its methods are the functions, its instance's
        attributes (over the module's globals) the globals."""
        c = self.classes[name]
        return LoadFrame(kind="load", error=self.error, functions=dict(c.methods),
                         globals={**self.globals, **c.attributes})


@dataclass
class LayoutFrame:
    __pydantic_config__ = STRICT
    kind: Literal["layout"]
    values: list[list[float]] | None  # per position: the call's result at each input of Layout.at
    order: list[str] | None  # the member each position holds, as the child read `values`
    error: ChildError | None = None


@dataclass
class CallResult:
    __pydantic_config__ = STRICT
    returned: list[Value]
    fed: dict[str, float] | None = None  # forward's outputs this call was fed (the loss of a prediction)


@dataclass
class AutogradResult:
    __pydantic_config__ = STRICT
    returned: list[Value]
    grads: dict[str, Value]  # weight key -> its .grad after backward()
    fed: dict[str, float] | None = None
    numeric: dict[str, float] | None = None  # central differences of its own loss


@dataclass
class BackwardResult:
    __pydantic_config__ = STRICT
    returned: list[Value]
    fed: dict[str, float]  # the forward outputs backward was given: the submission's own
    numeric: dict[str, float] | None = None  # central differences of its own forward's error


@dataclass
class UpdateResult:
    __pydantic_config__ = STRICT
    weights: list[Value]
    grads_after: list[Value] | None = None  # torch: .grad of each weight after the update


@dataclass
class Round:
    __pydantic_config__ = STRICT
    weights: list[Value]
    loss: Value
    grads: list[Value]


@dataclass
class TrainResult:
    __pydantic_config__ = STRICT
    rounds: list[Round]
    final: list[Value]


RESULTS = {"call": CallResult, "autograd": AutogradResult, "backward": BackwardResult, "update": UpdateResult,
           "train": TrainResult}


@dataclass
class ProbeFrame:
    __pydantic_config__ = STRICT
    kind: Literal["probe"]
    id: str
    case: dict[str, float]  # the case as run (own_weights: with the submission's starting weights)
    error: ChildError | None = None
    result: dict[str, object] | None = None  # one of RESULTS[probe.kind], decoded by the parent


@dataclass
class DoneFrame:
    __pydantic_config__ = STRICT
    kind: Literal["done"]
    forbidden_loaded: list[str] = field(default_factory=list)  # forbidden libraries found in the process


@dataclass
class Step:
    """One backward() of the program's own run: its parameters before it, their .grad before and after."""

    __pydantic_config__ = STRICT
    weights: list[Value]
    grads_before: list[Value]
    grads_after: list[Value]
    leaf: bool  # every parameter still a leaf tensor
    loss: Value


@dataclass
class MainFrame:
    __pydantic_config__ = STRICT
    kind: Literal["main"]
    error: ChildError | None
    backward_calls: int
    steps: list[Step]  # the first Trace.rounds backward() calls
    final: list[Value]  # the parameters when the program ended
    globals: dict[str, Kind]  # Trace.report's globals at the end
    forbidden_loaded: list[str] = field(default_factory=list)


FRAMES = {"sandbox": SandboxFrame, "load": LoadFrame, "layout": LayoutFrame, "probe": ProbeFrame,
          "done": DoneFrame, "main": MainFrame}


def read_layout(values: list[list[float]], at: list[float], exponents: dict[str, float]) -> list[str] | None:
    """Which member each position of a packed vector holds, from what the call returned with the vector set
    to each unit vector (`values[i]`, at each input in `at`): the power of the input it scales with.

    Shared so that the parent can check the child's reading of its own numbers. None unless every
    position scales as exactly one member does (a model that is not of the assignment's form).
    """
    order = []
    for row in values:
        if len(row) != len(at) or any(abs(v) < 1e-12 for v in row):
            return None
        ratios = [row[k + 1] / row[k] for k in range(len(row) - 1)]
        slopes = [_log_ratio(r, at[k + 1] / at[k]) for k, r in enumerate(ratios)]
        if any(p is None for p in slopes):
            return None
        matches = [m for m, e in exponents.items() if all(abs(p - e) < 1e-6 for p in slopes)]  # type: ignore[operator]
        if len(matches) != 1:
            return None
        order.append(matches[0])
    return order if sorted(order) == sorted(exponents) else None


def _log_ratio(ratio: float, base: float) -> float | None:
    import math

    if ratio <= 0 or base <= 0 or base == 1:
        return None
    return math.log(ratio) / math.log(base)
