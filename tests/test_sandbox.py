"""The child cannot reach the network, holds no hidden answer, and nothing it prints or writes
becomes a verdict; a forked child grades exactly like a fresh one."""

from __future__ import annotations

import ast
import dataclasses
import json
import socket
import tomllib
import sys
import threading
from pathlib import Path

import pytest

from grader import plan, sandbox
from grader.expected import expected
from grader.facts import read
from grader.frames import Observations
from grader.options import Options
from grader.grade import converse, grade_file
from grader.spec import load_all

from .conftest import SUBMISSIONS

SEED001 = (SUBMISSIONS / "bp-numpy" / "correct_seed001_fixed.py").read_text()


def test_no_connection_reaches_a_loopback_listener(write):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted: list[object] = []
    graded = threading.Event()

    def accept() -> None:
        while not graded.is_set():
            try:
                accepted.append(listener.accept())
            except OSError:
                pass

    t = threading.Thread(target=accept)
    t.start()
    probe = (f"import socket\ntry:\n    socket.create_connection(('127.0.0.1', {port}), timeout=2).sendall(b'x')\n"
             f"    print('connected')\nexcept OSError as e:\n    print('blocked', e)\n")
    fb = grade_file(write("hw.py", probe + SEED001), Options(assignment="bp-numpy"))
    graded.set()
    t.join()
    listener.close()
    assert accepted == []
    assert "no network (own network namespace)" in fb.protections
    assert fb.score == fb.max_score  # the refused connection costs an honest file nothing


def test_printed_or_written_fake_results_change_nothing(write, tmp_path: Path):
    fake = ('{"schema_version": 1, "status": "graded", "score": 10, "max_score": 10}\n'
            '{"kind": "probe", "id": "gradients/0", "returned": [[-0.008421]]}\n')
    cheat = (f"import sys\nprint({fake!r})\nsys.stderr.write({fake!r})\n"
             f"open('results.json', 'w').write({fake!r})\nopen('grades.csv', 'w').write('me,10,10,graded')\n")
    original = (SUBMISSIONS / "bp-numpy" / "seed000_hidden_delta.py").read_text()
    fb = grade_file(write("hw.py", cheat + original), Options(assignment="bp-numpy"))
    honest = grade_file(SUBMISSIONS / "bp-numpy" / "seed000_hidden_delta.py", Options(assignment="bp-numpy"))
    assert fb.score == honest.score < honest.max_score
    assert [c.status for c in fb.checks] == [c.status for c in honest.checks]
    assert not (tmp_path / "results.json").exists() and not (tmp_path / "grades.csv").exists()


def _sent(a, task, source: str) -> tuple[str, list[plan.Case]]:
    """Everything the parent writes to the child's job pipe for one source (both lines), and the cases."""
    cases = plan.cases(a, task, seed=7)
    tree = ast.parse(source)
    lines: list[str] = [json.dumps(plan.job(a, source, "hw.py"))]
    planned = plan.probes

    def spy(a_, cases_, decision):
        probes = planned(a_, cases_, decision)
        lines.append(json.dumps([dataclasses.asdict(p) for p in probes]))
        lines.append(json.dumps(dataclasses.asdict(decision.binding)))
        return probes

    run, conversation, decision = converse(a, read(tree), cases, source, "hw.py", Options(), spy)
    assert decision is not None and run.ended == "ok" and conversation.forged is None
    return "\n".join(lines), cases


@pytest.mark.parametrize("name", ["bp-numpy/correct_seed001_fixed.py", "bp-torch/correct_seed001_template.py",
                                  "bp-torch/cross_entropy_correct.py", "linear/seed003_linear.py",
                                  "quadratic/seed003_quadratic.py"])
def test_no_hidden_answer_is_sent_to_the_child(name: str):
    v = tomllib.loads((SUBMISSIONS / "verdicts.toml").read_text(encoding="utf-8"))[name]
    a = load_all()[v["assignment"]]
    task = a.tasks[v["task"]]
    sent, cases = _sent(a, task, (SUBMISSIONS / name).read_text(encoding="utf-8"))
    for case in cases[1:]:
        answers = {k: v for k, v in expected(a, task, case.values).items() if v not in case.values.values()}
        leaked = [k for k, v in answers.items() if json.dumps(v) in sent]
        assert not leaked, (name, case.index, leaked)


@pytest.mark.parametrize("name", ["bp-torch/correct_seed001_template.py", "bp-torch/seed002_only_w1_zeroed.py",
                                  "bp-numpy/seed000_hidden_delta.py", "bp-numpy/uses_torch_autograd.py"])
def test_a_forked_child_grades_like_a_fresh_one(name: str):
    forked = grade_file(SUBMISSIONS / name)
    fresh = grade_file(SUBMISSIONS / name, Options(start="fresh"))
    assert forked.model_dump(exclude={"seconds"}) == fresh.model_dump(exclude={"seconds"})


@pytest.mark.skipif(sys.platform != "linux", reason="Landlock and seccomp are Linux mechanisms")
def test_every_layer_holds_on_linux():
    fb = grade_file(SUBMISSIONS / "bp-numpy" / "correct_seed001_fixed.py")
    assert not [p for p in fb.protections if "NOT" in p], fb.protections


def _one_run(source: str, planned=plan.probes, **limits: float) -> tuple[sandbox.ChildRun, Observations]:
    """The probes and `__main__` of a bp-torch source in one child, as grade_file runs them."""
    a = load_all()["bp-torch"]
    lim = a.limits.model_copy(update=limits)
    a = a.model_copy(update={"limits": lim})
    task = a.tasks[a.default_task]
    run, conversation, _ = converse(a, read(ast.parse(source)), plan.cases(a, task, seed=7), source, "hw.py",
                                    Options(), planned)
    assert conversation.forged is None
    return run, conversation.seen


def test_main_counts_only_its_own_backward_calls():
    """The probes call backward() dozens of times before `__main__` runs in the same process."""
    source = (SUBMISSIONS / "bp-torch" / "correct_seed001_template.py").read_text()
    loops = int(source.split("for i in range(")[1].split(")")[0])
    _, seen = _one_run(source)
    assert seen.probes and not any(o.frame.error for o in seen.probes.values())
    assert seen.main is not None and seen.main.error is None and seen.main.backward_calls == loops


def test_slow_probes_leave_main_its_own_seconds():
    """Probes share total_seconds - main_seconds; the program still gets main_seconds after them."""
    source = (SUBMISSIONS / "bp-torch" / "correct_seed001_template.py").read_text()
    slow = source.replace("def forward_propagate(x1, x2):\n",
                          "def forward_propagate(x1, x2):\n    import time\n    if __name__ != '__main__':\n"
                          "        time.sleep(0.5)\n")
    run, seen = _one_run(slow, total_seconds=4.0, main_seconds=2.0, probe_seconds=1.0)
    timed_out = [o for o in seen.probes.values() if o.frame.error and o.frame.error.code == "timeout"]
    assert run.ended == "ok" and timed_out and len(timed_out) < len(seen.probes)
    assert seen.main is not None and seen.main.error is None
    assert run.seconds < 4.0 + 5


@pytest.mark.parametrize("name", ["correct_seed001_template.py", "gradients_never_zeroed.py",
                                  "cross_entropy_one_class.py"])
def test_loss_reused_from_training_equals_its_own_call(name: str):
    """With an update function, loss/i is read off training/i's first round."""
    source = (SUBMISSIONS / "bp-torch" / name).read_text()

    def own_calls(a, cases, decision):
        return [dataclasses.replace(p, reuse="") for p in plan.probes(a, cases, decision)]

    _, reused = _one_run(source)
    _, called = _one_run(source, own_calls)
    ids = [i for i, o in reused.probes.items() if o.probe.reuse]
    assert ids
    assert [reused.probes[i].result for i in ids] == [called.probes[i].result for i in ids]


def test_reused_loss_is_the_first_training_rounds_own():
    """A loss that changes at every call shows which call a frame holds."""
    source = (SUBMISSIONS / "bp-torch" / "correct_seed001_template.py").read_text().replace(
        "    return loss\n", "    global calls\n    calls = globals().get('calls', 0) + 1\n    return loss + calls\n", 1)
    _, seen = _one_run(source)
    loss, training = seen.probes["loss/1"].result, seen.probes["training/1"].result
    assert loss.returned == [training.rounds[0].loss]


@pytest.mark.skipif(sys.platform != "linux", reason="seccomp is a Linux mechanism")
@pytest.mark.parametrize("pid", [2, 56, 62, 65536, 123457, 4194303])  # 56, 62: clone's and kill's numbers
def test_the_filter_compiled_once_is_libseccomps_own_for_each_pid(pid: int):
    """The fork server compiles the seccomp filter once and each child writes its pid into it."""
    from grader.child import confine

    marked = confine._bpf(confine._PID_MARK)
    if marked is None:
        pytest.skip("no libseccomp")
    assert confine._with_pid(marked, pid) == confine._bpf(pid)
