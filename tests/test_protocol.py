"""The boundary: the child side imports nothing of the parent's, and the parent reads its frames strictly."""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

import pytest

from grader import frames
from grader.grade import grade_file
from grader.options import Options
from grader.protocol import (Binding, ChildError, DoneFrame, LoadFrame, MainFrame, Plan, Probe, ProbeFrame,
                             SandboxFrame, Trace, read_layout)

from .conftest import SUBMISSIONS

CHILD = Path(__file__).resolve().parents[1] / "grader" / "child"
ALLOWED = {"numpy", "torch", "matplotlib", "pyseccomp", "grader.protocol"}


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level:
            found.add(node.module or "")
    return found


@pytest.mark.parametrize("path", sorted(CHILD.glob("*.py")), ids=lambda p: p.name)
def test_the_child_side_imports_only_the_standard_library_the_frameworks_and_the_protocol(path: Path):
    outside = {m for m in _imports(path) if m.split(".")[0] not in sys.stdlib_module_names
               and m.split(".")[0] not in ALLOWED and m not in ALLOWED and not m.startswith("grader.child")}
    assert not outside, outside
    assert {m for m in _imports(path) if m.startswith("grader")} <= {"grader.protocol", "grader.child"} | {
        f"grader.child.{p.stem}" for p in CHILD.glob("*.py")}


@pytest.mark.parametrize("start", ["fork", "fresh"])
def test_in_a_running_child_only_the_protocol_and_the_child_side_of_the_grader_are_loaded(write, start: str):
    """A submission that lists the grader's modules it can see, in the text of an exception on the given case."""
    source = (SUBMISSIONS / "bp-numpy" / "correct_seed001_fixed.py").read_text(encoding="utf-8").replace(
        "def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):  # 正向传播\n",
        "def forward_propagate(x1, x2, y1, y2, w1, w2, w3, w4, w5, w6, w7, w8):\n"
        "    import sys\n    raise ValueError(' '.join(sorted(m for m in sys.modules if m.startswith('grader'))))\n", 1)
    fb = grade_file(write("hw.py", source), Options(assignment="bp-numpy", start=start))
    forward = next(c for c in fb.checks if c.id == "forward")
    seen = set(forward.message.split("ValueError")[1].split(":", 1)[1].split(";")[0].split())
    assert seen and seen <= {"grader", "grader.protocol", "grader.child"} | {
        f"grader.child.{p.stem}" for p in CHILD.glob("*.py")}, seen


# ---------------------------------------------------------------- strict frames


def _plan(load: LoadFrame) -> Plan:
    binding = Binding(framework="numpy", make={}, packs=[], calls={}, inject={}, outputs={}, weights=["w"],
                      weight_globals={}, packed_weights=None, trace=Trace())
    return Plan(binding=binding, probes=[Probe(id="forward/0", kind="call", role="forward", case={"x": 1.0}),
                                         Probe(id="forward/1", kind="call", role="forward", case={"x": 2.0})])


def _honest() -> list[dict[str, object]]:
    return [dataclasses.asdict(f) for f in (
        SandboxFrame(kind="sandbox", layers={"network": True}),
        LoadFrame(kind="load", error=None, functions={}, globals={}),
        ProbeFrame(kind="probe", id="forward/0", case={"x": 1.0}, result={"returned": [[2.0]]}),
        ProbeFrame(kind="probe", id="forward/1", case={"x": 2.0}, error=ChildError(code="timeout")),
        DoneFrame(kind="done"),
        MainFrame(kind="main", error=None, backward_calls=0, steps=[], final=[], globals={}))]


def _read(raws: list[dict[str, object]]) -> frames.Conversation:
    c = frames.Conversation(_plan)
    for raw in raws:
        c.feed(raw)
    return c


def test_the_honest_sequence_and_any_prefix_of_it_are_read():
    for n in range(len(_honest()) + 1):
        c = _read(_honest()[:n])
        assert c.forged is None, (n, c.forged)
    seen = _read(_honest()).seen
    assert seen.main is not None and seen.probes["forward/1"].result is None and seen.done is not None


@pytest.mark.parametrize("forge", [
    lambda f: f.insert(3, dict(f[2])),  # a probe frame twice
    lambda f: f.insert(5, dict(f[4])),  # done twice
    lambda f: f.append(dict(f[5])),  # main twice
    lambda f: f[2].update(extra=1),  # an unknown key
    lambda f: f[4].update(id="main"),  # the id that once hid a forged singleton
    lambda f: f[2].update(id="forward/9"),  # an unknown probe id
    lambda f: f.insert(2, f.pop(3)),  # out of order
    lambda f: f.insert(1, {"kind": "verdict", "score": 10}),  # an unknown kind
    lambda f: f[2].update(case={"x": 9.0}),  # another case than it was given
    lambda f: f[2].update(result={"returned": [[1.0]]}, error={"code": "timeout"}),  # a result and an error
    lambda f: f[2]["result"].update(returned=[[int("9" * 20)]]) or f[2]["result"].update(returned="x"),  # no list
])
def test_a_frame_the_child_cannot_have_sent_makes_the_channel_untrusted(forge):
    raws = _honest()
    forge(raws)
    assert _read(raws).forged is not None


def test_a_line_that_is_not_a_json_object_makes_the_channel_untrusted():
    c = _read(_honest()[:2])
    c.garbled()
    assert c.forged is not None


def test_a_layout_reading_must_follow_from_its_numbers():
    at, exponents = [2.0, 3.0], {"w1": 2.0, "w2": 1.0, "b": 0.0}
    values = [[2.0, 3.0], [4.0, 9.0], [1.0, 1.0]]  # x, x^2, 1
    assert read_layout(values, at, exponents) == ["w2", "w1", "b"]
    assert read_layout([[2.0, 3.0], [2.0, 3.0], [1.0, 1.0]], at, exponents) is None  # not the model's form
