"""The child cannot reach the network, holds no hidden answer, and nothing it prints or writes
becomes a verdict; a forked child grades exactly like a fresh one."""

from __future__ import annotations

import ast
import dataclasses
import ctypes
import errno
import fcntl
import json
import os
import platform
import resource
import socket
import tomllib
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Callable

import pytest

from grader import batch, cgroups, plan, sandbox, scratch, spawn
from grader.child import forkserver
from grader.expected import expected
from grader.facts import read
from grader.frames import Observations
from grader.options import STARTS, Options
from grader.grade import converse, grade_file
from grader.spec import load_all

from .conftest import SUBMISSIONS
from .test_hostile import inherited

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


def _one_run(source: str, planned=plan.probes, start: str = "fork", assignment: str = "bp-torch",
             hidden: list[str] | None = None, **limits: float) -> tuple[sandbox.ChildRun, Observations]:
    """The probes and `__main__` of a source in one child, as grade_file runs them."""
    a = load_all()[assignment]
    lim = a.limits.model_copy(update=limits)
    a = a.model_copy(update={"limits": lim})
    task = a.tasks[a.default_task]
    run, conversation, _ = converse(a, read(ast.parse(source)), plan.cases(a, task, seed=7), source, "hw.py",
                                    Options(start=start), planned, hidden=hidden)
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


# ---------------------------------------------------------------- the child is nobody; its limits; a clean server

ROOT = sys.platform == "linux" and os.geteuid() == 0
as_root = pytest.mark.skipif(not ROOT, reason="a child changes its uid and capabilities only when the grader is root")
STATUS = ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp")
TELL_STATUS = ("lines = dict(l.split(':', 1) for l in open('/proc/self/status').read().splitlines() if ':' in l)\n"
               "raise RuntimeError(repr({k: sorted({str(int(v, 16)) if k.startswith('Cap') else v\n"
               f"                                   for v in lines[k].split()}}) for k in {STATUS!r}}}))\n")


@as_root
@pytest.mark.parametrize("start", STARTS)
def test_a_child_runs_as_nobody_keeping_only_the_capability_to_read(start: str):
    """Another uid and gid, no groups, CAP_DAC_READ_SEARCH alone in every set (bounding too), no new
    privileges, seccomp on: read from /proc/self/status by the submission's first line."""
    _, seen = _one_run(TELL_STATUS + (SUBMISSIONS / "bp-torch" / "correct_seed001_template.py").read_text(),
                       start=start)
    assert seen.load is not None and seen.load.error is not None
    status = ast.literal_eval(seen.load.error.message)
    from grader.child import identity

    assert status["CapPrm"] == status["CapEff"] == status["CapBnd"] == [str(identity.KEPT)]
    assert status["CapInh"] == status["CapAmb"] == ["0"]
    assert len(status["Uid"]) == 1 and status["Uid"] != ["0"] and status["Gid"] == status["Uid"]
    assert status["Groups"] == []
    assert status["NoNewPrivs"] == ["1"] and status["Seccomp"] == ["2"]
    assert seen.sandbox is not None and seen.sandbox.layers["user"] is True


def _in_a_forked_child(confine_it: Callable[[], object], attempt: Callable[[], dict[str, str]]) -> dict[str, str]:
    """`attempt`'s outcomes, in a child of this process confined by `confine_it` alone (one wall at a time)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(r)
            confine_it()
            os.write(w, json.dumps(attempt()).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    return json.loads(data)


def _calls_on(target: int) -> dict[str, str]:
    """Each call that could change process `target`, made with the values it already has (harmless where it
    is allowed): "ok" or the error's name."""
    calls: dict[str, Callable[[], object]] = {
        "prlimit": lambda: resource.prlimit(target, resource.RLIMIT_CORE, resource.getrlimit(resource.RLIMIT_CORE)),
        "setpriority": lambda: os.setpriority(os.PRIO_PROCESS, target, os.getpriority(os.PRIO_PROCESS, target)),
        "sched_setaffinity": lambda: os.sched_setaffinity(target, os.sched_getaffinity(target)),
        "sched_setscheduler": lambda: os.sched_setscheduler(target, os.sched_getscheduler(target),
                                                            os.sched_getparam(target)),
    }
    if forkserver._IOPRIO:
        def set_ioprio() -> None:
            if forkserver._ioprio_call(0, 1, target, forkserver._ioprio_call(1, 1, target)) != 0:
                raise OSError(ctypes.get_errno(), "ioprio_set")
        calls["ioprio_set"] = set_ioprio
    out = {}
    for name, call in calls.items():
        try:
            call()
            out[name] = "ok"
        except OSError as e:
            out[name] = errno.errorcode.get(e.errno or 0, str(e))
    return out


def _become_nobody() -> None:
    from grader.child import identity

    assert identity.become(sandbox._Uids.FIRST + 1023, 64)


def _filter_syscalls() -> None:
    from grader.child import confine

    assert confine.restrict_syscalls()


@as_root
@pytest.mark.parametrize("wall", [_become_nobody, _filter_syscalls], ids=["uid", "seccomp"])
def test_each_wall_alone_refuses_changing_the_grader_but_allows_the_child_itself(wall: Callable[[], None]):
    """The kernel's own rules for another uid, and seccomp for a root child: limits, nice value, affinity,
    scheduling class and I/O priority of another process are refused; its own (pid 0 or its pid) are not."""
    grader = os.getpid()
    outcomes = _in_a_forked_child(wall, lambda: {**{f"grader {k}": v for k, v in _calls_on(grader).items()},
                                                 **{f"itself {k}": v for k, v in _calls_on(0).items()},
                                                 **{f"own pid {k}": v for k, v in _calls_on(os.getpid()).items()}})
    refused = {k for k, v in outcomes.items() if v != "ok"}
    assert refused == {k for k in outcomes if k.startswith("grader ")}, outcomes
    assert {outcomes[k] for k in refused} == {"EPERM"}, outcomes


@pytest.mark.skipif(sys.platform != "linux", reason="seccomp is a Linux mechanism")
def test_the_filter_denies_opening_files_by_handle():
    """CAP_DAC_READ_SEARCH would let a child open any file by handle, past Landlock's paths."""
    from grader.child import confine

    if confine._bpf(1) is None:
        pytest.skip("no libseccomp")
    libc = ctypes.CDLL(None, use_errno=True)
    calls = {"x86_64": (303, 304), "aarch64": (264, 265)}.get(platform.machine())
    if calls is None:
        pytest.skip("syscall numbers of this architecture not listed here")

    def attempt() -> dict[str, str]:
        handle = ctypes.create_string_buffer(8 + 128)
        ctypes.c_uint.from_buffer(handle).value = 128
        mount = ctypes.c_int()
        named = libc.syscall(calls[0], -100, b"/etc/hostname", handle, ctypes.byref(mount), 0)
        named_errno = ctypes.get_errno()
        fd = libc.syscall(calls[1], os.open("/", os.O_PATH), handle, os.O_RDONLY)
        return {"name_to_handle_at": errno.errorcode[named_errno] if named else "ok",
                "open_by_handle_at": errno.errorcode[ctypes.get_errno()] if fd < 0 else "ok"}

    assert _in_a_forked_child(_filter_syscalls, attempt) == {"name_to_handle_at": "EPERM",
                                                              "open_by_handle_at": "EPERM"}


HONEST = SUBMISSIONS / "bp-numpy" / "correct_seed001_fixed.py"


def _numpy_server() -> spawn.ForkServer:
    grade_file(HONEST)  # started and ready
    return spawn._servers["numpy"]


@as_root
def test_a_fork_server_whose_scheduling_was_changed_puts_it_back_before_forking():
    """Nice value, scheduling class, CPU affinity and a soft limit changed from outside (as a submission
    that got past both walls would): the next child still gets the verdict, and the server is as it was."""
    alone = grade_file(HONEST)
    server = _numpy_server()
    pid = server.proc.pid
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    os.setpriority(os.PRIO_PROCESS, pid, 19)
    os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))
    os.sched_setaffinity(pid, {min(os.sched_getaffinity(pid))})
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (64, hard))
    after = grade_file(HONEST)
    assert after.model_dump(exclude={"seconds"}) == alone.model_dump(exclude={"seconds"})
    assert spawn._servers["numpy"] is server and server.proc.pid == pid  # put back, not replaced
    assert inherited(pid) == inherited(os.getpid())


@as_root
def test_a_fork_server_whose_hard_limit_was_lowered_is_replaced():
    """A hard RLIMIT_FSIZE of 0 (the attack that killed every later child): a server that cannot raise it
    again refuses to fork and ends; a new one grades the next file as if nothing had happened."""
    alone = grade_file(HONEST)
    server = _numpy_server()
    resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (0, 0))
    after = grade_file(HONEST)
    assert after.model_dump(exclude={"seconds"}) == alone.model_dump(exclude={"seconds"})
    now = spawn._servers["numpy"]
    if now is server:  # a grader with CAP_SYS_RESOURCE raises it again instead
        assert resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE) == resource.getrlimit(resource.RLIMIT_FSIZE)
    else:
        assert server.dirty and server.proc.wait(10) is not None
        assert inherited(now.proc.pid) == inherited(os.getpid())


def test_an_error_the_grader_caused_is_never_kept_by_a_rerun(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A child that cannot even start (here: the harness file is missing from a broken install) gets an
    error that blames the grader, not the student; the next run (install mended, same settings) grades the
    file instead of keeping that verdict."""
    folder, out = tmp_path / "class", tmp_path / "out"
    folder.mkdir()
    (folder / "hw.py").write_text(SEED001)
    fresh = Options(assignment="bp-numpy", start="fresh")
    monkeypatch.setattr(spawn, "HARNESS", tmp_path / "missing" / "boot.py")
    first = batch.grade_folder(folder, out, fresh, jobs=1)["hw"]
    monkeypatch.undo()
    again = batch.grade_folder(folder, out, fresh, jobs=1)["hw"]
    assert first.status == "error" and first.grader_fault and first.graded_with is None
    assert "not your program's fault" in (first.error or "")
    assert again.status == "graded" and again.score == again.max_score and again.graded_with


def test_a_scratch_folder_that_cannot_be_removed_is_reported(tmp_path: Path):
    """Clean-up failures are never silent: what is left is listed (and becomes a note of the verdict)."""
    folder = tmp_path / "bpgrade-test"
    (folder / "inner").mkdir(parents=True)
    (folder / "inner" / "kept").write_text("x")
    fd = os.open(folder / "inner" / "kept", os.O_RDONLY)
    try:
        fcntl.ioctl(fd, 0x40086602, struct.pack("l", 0x10))  # FS_IOC_SETFLAGS: immutable
    except OSError:
        pytest.skip("no immutable flag here (not root, or the file system has none)")
    finally:
        os.close(fd)
    try:
        problems = scratch.remove(str(folder))
    finally:
        fd = os.open(folder / "inner" / "kept", os.O_RDONLY)
        fcntl.ioctl(fd, 0x40086602, struct.pack("l", 0))
        os.close(fd)
    assert problems[0].startswith(str(folder / "inner" / "kept")) and all(str(folder) in p for p in problems)
    notes = sandbox.left_behind(sandbox.ChildRun(leftovers=problems))
    assert len(notes) == len(problems) and all(p in n for p, n in zip(problems, notes))
    assert scratch.remove(str(folder)) == [] and not folder.exists()


def test_no_control_group_outlives_its_child():
    """Each child has groups of its own where the machine allows them, removed once it has ended."""
    _, seen = _one_run((SUBMISSIONS / "bp-torch" / "correct_seed001_template.py").read_text())
    parents = cgroups._parents()
    assert seen.sandbox is not None and seen.sandbox.layers["accounting"] is (parents is not None)
    left = [n for parent in (parents[1] if parents else []) for n in os.listdir(parent)
            if n.startswith(f"bpgrade-{os.getpid()}-")]
    assert not left


def test_the_groups_nest_under_the_graders_own_in_either_cgroup_version(tmp_path: Path):
    """Where this process's group is, per hierarchy: a v1 hierarchy mounted from a container's own root, a
    co-mounted one, and the single v2 hierarchy of a systemd machine."""
    (tmp_path / "memory").mkdir()
    (tmp_path / "pids" / "job").mkdir(parents=True)
    (tmp_path / "v2" / "user.slice" / "session-3.scope").mkdir(parents=True)
    mountinfo = "\n".join([
        f"35 30 0:31 /docker/abc {tmp_path}/memory rw,relatime shared:9 - cgroup cgroup rw,memory",
        f"36 30 0:32 / {tmp_path}/pids rw,relatime - cgroup cgroup rw,pids,cpu",
        f"37 30 0:33 / {tmp_path}/v2 rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate",
        "38 30 0:34 / /tmp rw - tmpfs tmpfs rw"])
    own = "0::/user.slice/session-3.scope\n5:memory:/docker/abc\n4:cpu,pids:/job\n3:name=systemd:/x\n"
    assert cgroups.places(mountinfo, own) == {"memory": f"{tmp_path}/memory", "pids": f"{tmp_path}/pids/job",
                                              "": f"{tmp_path}/v2/user.slice/session-3.scope"}
    assert cgroups.places(mountinfo, "5:memory:/elsewhere\n") == {}  # outside what is mounted here


@pytest.mark.skipif(sys.platform != "linux", reason="Landlock is a Linux mechanism")
def test_a_bp_numpy_child_can_import_no_forbidden_library():
    """Its fork server never imported them (boot.preload), and Landlock leaves them out: every one fails to
    import in the child, which said so before the submission ran."""
    a = load_all()["bp-numpy"]
    source = (f"import importlib, sys\nfailed = []\nfor m in {a.forbidden_modules!r}:\n"
              "    try:\n        importlib.import_module(m)\n    except ImportError:\n        failed.append(m)\n"
              "raise RuntimeError(repr((failed, sorted(m for m in sys.modules if m.split('.')[0] in "
              f"{a.forbidden_modules!r}))))\n")
    _, seen = _one_run(source, assignment="bp-numpy", hidden=a.forbidden_modules)
    assert seen.load is not None and seen.load.error is not None
    assert ast.literal_eval(seen.load.error.message) == (a.forbidden_modules, [])
    assert sandbox.withheld(seen.sandbox, a.forbidden_modules)


def test_groups_a_killed_grader_left_are_swept_by_the_next_one():
    """A grader ended by SIGKILL cannot remove its children's groups: the next grader removes the empty ones
    named after a pid that no longer runs, and leaves every other alone."""
    parents = cgroups._parents()
    if parents is None:
        pytest.skip("no control groups here")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = [os.path.join(p, f"bpgrade-{int(dead.stdout)}-0") for p in parents[1]]
    ours = [os.path.join(p, f"bpgrade-{os.getpid()}-swept") for p in parents[1]]
    for folder in stale + ours:
        os.mkdir(folder)
    try:
        cgroups._sweep(parents[1])
        assert [os.path.isdir(f) for f in stale + ours] == [False] * len(stale) + [True] * len(ours)
    finally:
        for folder in stale + ours:
            if os.path.isdir(folder):
                os.rmdir(folder)
