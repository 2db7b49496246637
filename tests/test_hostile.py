"""Hostile submissions (tests/hostile/*.py, verdicts in tests/hostile/cases.toml).

Each file is a student's submission with one hostile behaviour. Each must get the verdict its
table names, within its time limit, without its side effect, and without touching the
grader's own process. Every file is safe to run with no sandbox at all: bounded loops,
processes (20, each gone within 15 s), threads (3000, all ended at once) and time; memory up to
8 GiB (memory_grab.py, when loaded and again as `__main__`; 4 GiB of memfds in
parks_memory_in_memfd.py); writes only below /tmp (up to 1 GiB, in a scratch folder only),
except one empty uniquely named file that escape_writes.py creates in /root and removes at
once; deletes only in a scratch folder; changes to other processes only ones harmless to a test
run (poisons_the_fork_server.py: no core dumps, nice +1, SCHED_BATCH, one CPU, low I/O priority).

All selected submissions are graded up front, a few at a time, by a module fixture (the
slow ones first); each test then waits for its own verdict. The grader's working folder is a
temporary folder for the whole module, holding the class folder with every submission and a
neighbour's file with a secret token, so the files that look around find something to take.
"""

from __future__ import annotations

import builtins
import fcntl
import gc
import math
import os
import re
import secrets
import shutil
import signal
import socket
import sys
import threading
import time
import tomllib
import traceback
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy.testing  # noqa: F401  (numpy.testing.* is among what must stay real)
import pytest

from grader import batch
from grader.child import forkserver
from grader.feedback import Feedback
from grader.options import Options
from grader.grade import grade_file
from grader.spec import load_assignment

from .conftest import SUBMISSIONS

HOSTILE = Path(__file__).parent / "hostile"
CASES: dict[str, dict[str, Any]] = tomllib.loads((HOSTILE / "cases.toml").read_text(encoding="utf-8"))
SENTINEL = "HOSTILE-"  # the files raise or print it only when an attack worked
TOKEN_PREFIX = "BPGRADE-NEIGHBOUR-SECRET-"
MARKER = "bpgrade-hostile-escape-marker"
KID = "bpghostile-kid"  # what fork_burst.py's lingering children call themselves
PORTS = range(47123, 47131)  # where loopback_connect.py knocks
FAKE_RESULTS = ("results.json", "feedback.json", "fake_feedback_wrong_impl.json", "grades.csv", "summary.json",
                "gradescope")
PLANTED = ("hostile-planted-file", "trap")  # what deletes_own_folder.py leaves in its scratch folder
LEFT_ON_DISK = "bpgrade-hostile-*"  # what immutable_scratch_file.py and fills_the_disk.py write in theirs
MARGIN = 20.0  # seconds over limits.total_seconds for killing, cleaning up and a loaded machine
WORKERS = 3  # submissions graded at the same time (2 cores; the slow ones mostly sleep)
WAIT = 420.0  # a test waiting longer than this for its verdict reports a hang
SLOW_FIRST = ["refuses_sigterm.py", "swallows_timeout_in_forward.py", "infinite_loop_in_forward.py",
              "infinite_loop_at_import.py", "returns_huge_array.py", "memory_grab.py", "lingering_thread.py",
              "output_flood.py"]
HONEST = {  # fixtures graded alone, to compare with the same files graded beside hostile ones
    "bp-numpy/correct_seed001_fixed.py": ("bp-numpy", "default"),
    "bp-numpy/seed000_hidden_delta.py": ("bp-numpy", "default"),
    "bp-numpy/correct_gbk_coding_line.py": ("bp-numpy", "default"),
    "bp-torch/correct_seed001_template.py": ("bp-torch", "sigmoid"),
}
BATCH_HOSTILE = ["fake_feedback_wrong_impl.py", "neighbour_reader.py", "escape_writes.py"]
BATCH_HONEST = ["bp-numpy/correct_seed001_fixed.py", "bp-numpy/seed000_hidden_delta.py",
                "bp-numpy/correct_gbk_coding_line.py"]
HOSTILE_BLOCK = re.compile(r"^# >>> hostile\n.*?^# <<< hostile\n", re.S | re.M)


def _functions() -> dict[str, Any]:
    """What a submission run in-process would patch: must stay the real objects in the grader."""
    npm = sys.modules["numpy"]
    return {"numpy.allclose": npm.allclose, "numpy.isclose": npm.isclose, "numpy.array_equal": npm.array_equal,
            "numpy.isnan": npm.isnan, "numpy.isfinite": npm.isfinite,
            "numpy.testing.assert_allclose": npm.testing.assert_allclose,
            "math.isclose": math.isclose, "math.isfinite": math.isfinite, "math.isnan": math.isnan,
            "builtins.abs": builtins.abs, "builtins.round": builtins.round, "builtins.print": builtins.print,
            "builtins.input": builtins.input, "os._exit": os._exit, "sys.exit": sys.exit}


REAL_FUNCTIONS = _functions()  # taken when the test module is imported, before any grading


def inherited(pid: int) -> dict[str, Any]:
    """What process `pid` passes on to the children it starts, and a submission must never change there:
    its limits, nice value, scheduling class and priority, CPU affinity and I/O priority."""
    return {"limits": Path(f"/proc/{pid}/limits").read_text(), "nice": os.getpriority(os.PRIO_PROCESS, pid),
            "scheduler": os.sched_getscheduler(pid), "priority": os.sched_getparam(pid).sched_priority,
            "affinity": os.sched_getaffinity(pid),
            "ioprio": forkserver._ioprio_call(1, 1, pid) if forkserver._IOPRIO else None}


@dataclass
class ProcessState:
    """The parts of the grader's process a submission must never reach."""

    cwd: str
    environ: dict[str, str]
    functions: dict[str, Any]
    handlers: dict[str, Any]
    recursion_limit: int
    stdout: Any
    stderr: Any
    inherited: dict[str, Any]

    @staticmethod
    def now() -> ProcessState:
        return ProcessState(
            inherited=inherited(os.getpid()),
            cwd=os.getcwd(),
            # PYTEST_CURRENT_TEST and conftest's per-test LC_ALL are pytest's doing, not a submission's
            environ={k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "LC_ALL")},
            functions=_functions(),
            handlers={s.name: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM,
                                                            signal.SIGCHLD, signal.SIGPIPE, signal.SIGHUP)},
            recursion_limit=sys.getrecursionlimit(), stdout=sys.stdout, stderr=sys.stderr)

    def differences(self, other: ProcessState) -> list[str]:
        out = []
        if other.cwd != self.cwd:
            out.append(f"the grader's cwd changed: {self.cwd} -> {other.cwd}")
        if other.environ != self.environ:
            changed = sorted(k for k in set(self.environ) | set(other.environ)
                             if self.environ.get(k) != other.environ.get(k))
            out.append(f"the grader's os.environ changed: {changed}")
        for name, fn in self.functions.items():
            if other.functions[name] is not fn:
                out.append(f"the grader's {name} was replaced")
        for name, fn in REAL_FUNCTIONS.items():
            if other.functions[name] is not fn:
                out.append(f"the grader's {name} is not the real one")
        if other.handlers != self.handlers:
            out.append(f"the grader's signal handlers changed: {self.handlers} -> {other.handlers}")
        if other.recursion_limit != self.recursion_limit:
            out.append(f"the grader's recursion limit changed: {self.recursion_limit} -> {other.recursion_limit}")
        if other.stdout is not self.stdout or other.stderr is not self.stderr:
            out.append("the grader's sys.stdout or sys.stderr was replaced")
        if other.inherited != self.inherited:
            out.append(f"the grader's limits or scheduling changed: {self.inherited} -> {other.inherited}")
        return out


class Loopback:
    """A TCP listener (127.0.0.1 and ::1) and a UDP socket on the first free port of PORTS."""

    def __init__(self) -> None:
        self.port: int | None = None
        self.sockets: list[socket.socket] = []
        self.accepted: list[str] = []
        self.datagrams: list[str] = []
        for port in PORTS:
            try:
                self.sockets = self._bind(port)
                self.port = port
                break
            except OSError:
                for s in self.sockets:
                    s.close()
                self.sockets = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        if self.port is not None:
            self.thread.start()

    @staticmethod
    def _bind(port: int) -> list[socket.socket]:
        out = []
        for family, host, kind in ((socket.AF_INET, "127.0.0.1", socket.SOCK_STREAM),
                                   (socket.AF_INET, "127.0.0.1", socket.SOCK_DGRAM),
                                   (socket.AF_INET6, "::1", socket.SOCK_STREAM),
                                   (socket.AF_INET6, "::1", socket.SOCK_DGRAM)):
            try:
                s = socket.socket(family, kind)
            except OSError:
                continue  # no IPv6 here
            out.append(s)
            try:
                s.bind((host, port))
            except OSError:
                if family == socket.AF_INET6:
                    out.remove(s)
                    s.close()
                    continue
                raise
            if kind == socket.SOCK_STREAM:
                s.listen()
            s.setblocking(False)
        return out

    def _serve(self) -> None:
        import selectors

        sel = selectors.DefaultSelector()
        for s in self.sockets:
            sel.register(s, selectors.EVENT_READ)
        while not self.stop.is_set():
            for key, _ in sel.select(timeout=0.2):
                s = key.fileobj
                assert isinstance(s, socket.socket)
                try:
                    if s.type == socket.SOCK_STREAM:
                        conn, peer = s.accept()
                        self.accepted.append(f"{peer}")
                        conn.close()
                    else:
                        data, peer = s.recvfrom(4096)
                        self.datagrams.append(f"{peer}: {data[:60]!r}")
                except OSError:
                    pass

    def close(self) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(5)
        for s in self.sockets:
            s.close()


@dataclass
class Graded:
    fb: Feedback | None
    raised: str  # grade_file's traceback, if it raised
    wall: float
    kids_alive: list[int] = field(default_factory=list)  # bpghostile-kid processes right after the verdict


def _kids() -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                alive = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # zombies are gone
                if alive and (entry / "comm").read_text().strip() == KID:
                    out.append(int(entry.name))
            except (OSError, IndexError):
                pass
    return out


RETRIED: list[str] = []  # gradings that raised once and were tried again: see the last test


def _grade(path: Path, assignment: str, task: str) -> Graded:
    for attempt in (1, 2):
        started = time.monotonic()
        try:
            fb, raised = grade_file(path, Options(assignment=assignment, task=task)), ""
        except KeyboardInterrupt:
            raise
        except BaseException:  # noqa: BLE001 - SystemExit included: the point is to report it
            fb, raised = None, traceback.format_exc()
        wall = time.monotonic() - started
        if fb is not None or attempt == 2:
            break
        # once more, so a transient grader error (e.g. CPython 3.11's ast.parse racing in
        # threads, gh-106905) fails its own test below rather than this case's
        RETRIED.append(f"{path.name}: {raised.strip().splitlines()[-1]}\n{raised}")
    kids = _kids()
    for pid in kids:  # processes this test started through the grader: end them, by pid
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return Graded(fb, raised, wall, kids)


def _done(value: Graded) -> Future[Graded]:
    f: Future[Graded] = Future()
    f.set_result(value)
    return f


def _markers() -> list[Path]:
    """Every escape marker where escape_writes.py would leave one (outside any arena folder too)."""
    tmp = Path("/tmp")
    found = [p for p in (tmp / MARKER,) if p.exists()]
    found += [p for p in tmp.glob(f"*/{MARKER}") if p.exists()]
    found += list(Path("/root").glob(f"{MARKER}*")) if os.access("/root", os.R_OK) else []
    return found


def _remove_markers(root: Path | None = None) -> None:
    for p in _markers() + (list(root.rglob(MARKER)) if root else []):
        try:
            p.unlink()
        except OSError:
            pass


def _one_line(text: str | None) -> list[str]:
    problems = []
    if not text or not text.strip():
        problems.append("the error verdict gives no reason")
    elif "\n" in text.strip():
        problems.append(f"the error is not one line: {text!r}")
    if text and "Traceback" in text:
        problems.append(f"the error shows a traceback: {text!r}")
    return problems


def _summary(fb: Feedback | None) -> str:
    if fb is None:
        return "(no verdict)"
    lines = [f"observed: status={fb.status} score={fb.score}/{fb.max_score} seconds={fb.seconds} error={fb.error!r}"]
    lines += [f"  {c.id}: {c.status} {c.score}/{c.max_score} {c.message!r}" for c in fb.checks]
    lines += [f"  note: {n}" for n in fb.notes]
    return "\n".join(lines)


class Arena:
    """The grader's working folder for this module, and every verdict being computed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.cwd = root / "grader-cwd"
        self.folder = self.cwd / "class"
        self.canary = self.cwd / "canary" / "keep.txt"
        self.twins = root / "twins"
        self.token = TOKEN_PREFIX + secrets.token_hex(16)
        self.neighbour = self.folder / "aaa_neighbour.py"
        self.futures: dict[str, Future[Graded]] = {}
        self.before: ProcessState | None = None
        self.open_fds: dict[int, str] = {}
        self.loopback: Loopback | None = None

    def neighbour_text(self) -> str:
        honest = (SUBMISSIONS / "bp-numpy" / "correct_seed001_fixed.py").read_text(encoding="utf-8")
        return f"# student 0001, secret: {self.token}\n{honest}"

    def result(self, key: str) -> Graded:
        return self.futures[key].result(timeout=WAIT)

    def twin(self, name: str) -> Path:
        return self.twins / name


def _selected(items: list[pytest.Item]) -> tuple[list[str], bool]:
    """The hostile cases the session runs here, and whether the batch test is among them."""
    names: list[str] = []
    wants_batch = False
    for item in items:
        if item.path.name != Path(__file__).name:
            continue
        callspec = getattr(item, "callspec", None)
        if callspec is not None and "name" in callspec.params:
            names.append(callspec.params["name"])
        elif item.name.startswith("test_batch"):
            wants_batch = True
        elif item.name.startswith(("test_grader_process", "test_grade_file_never")):
            names.extend(CASES)
    return sorted(set(names)), wants_batch


@pytest.fixture(scope="module")
def arena(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    a = Arena(tmp_path_factory.mktemp("hostile"))
    a.folder.mkdir(parents=True)
    a.canary.parent.mkdir()
    a.canary.write_text("the grader's own file\n")
    a.twins.mkdir()
    a.neighbour.write_text(a.neighbour_text(), encoding="utf-8")
    for name, case in CASES.items():
        shutil.copy(HOSTILE / name, a.folder / name)
        if case.get("twin"):
            honest = HOSTILE_BLOCK.sub("", (HOSTILE / name).read_text(encoding="utf-8"))
            assert honest != (HOSTILE / name).read_text(encoding="utf-8"), f"{name} has no hostile block"
            a.twin(name).write_text(honest, encoding="utf-8")
    _remove_markers()  # stale ones from an interrupted run would hide a new escape
    names, wants_batch = _selected(request.session.items)
    old_cwd = os.getcwd()
    os.chdir(a.cwd)
    a.loopback = Loopback()
    try:
        # the honest fixtures one at a time first: they also start the fork servers (torch's
        # takes seconds) before the hostile ones load the machine
        frameworks = {CASES[n]["assignment"] for n in names} | ({"bp-numpy"} if wants_batch else set())
        for rel, (assignment, task) in HONEST.items():
            first = rel == next(r for r, ids in HONEST.items() if ids[0] == assignment)
            if (wants_batch and rel in BATCH_HONEST) or (first and assignment in frameworks):
                a.futures[f"honest:{rel}"] = _done(_grade(SUBMISSIONS / rel, assignment, task))
        a.before = ProcessState.now()
        gc.collect()
        a.open_fds = _open_fds()
        order = [n for n in SLOW_FIRST if n in names] + [n for n in names if n not in SLOW_FIRST]
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for name in order:
                case = CASES[name]
                a.futures[f"hostile:{name}"] = pool.submit(_grade, a.folder / name, case["assignment"], case["task"])
            for name in order:
                if CASES[name].get("twin"):
                    case = CASES[name]
                    a.futures[f"twin:{name}"] = pool.submit(_grade, a.twin(name), case["assignment"], case["task"])
            if wants_batch:
                for name in BATCH_HOSTILE:
                    if f"twin:{name}" not in a.futures and CASES[name].get("twin"):
                        a.futures[f"twin:{name}"] = pool.submit(_grade, a.twin(name), CASES[name]["assignment"],
                                                                CASES[name]["task"])
            yield a
    finally:
        a.loopback.close()
        os.chdir(old_cwd)
        for pid in _kids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _remove_markers(a.root)


# ---------------------------------------------------------------- what each case is checked for


def verdict_problems(case: dict[str, Any], g: Graded, arena: Arena) -> list[str]:
    fb = g.fb
    assert fb is not None
    problems: list[str] = []
    statuses = case["status"] if isinstance(case["status"], list) else [case["status"]]
    if fb.status not in statuses:
        problems.append(f"status {fb.status!r}, expected {' or '.join(statuses)}")
    if fb.status == "error":
        problems += _one_line(fb.error)
        if case.get("error_contains") and case["error_contains"].lower() not in (fb.error or "").lower():
            problems.append(f"the error does not say {case['error_contains']!r}: {fb.error!r}")
    for c in fb.checks:
        if "Traceback" in c.message:
            problems.append(f"{c.id}'s message shows a traceback")
        if not c.message.strip():
            problems.append(f"{c.id} has no message")
    limits = load_assignment(case["assignment"]).limits
    limit = case.get("max_seconds", limits.total_seconds + MARGIN)
    if fb.seconds > limit or g.wall > limit + 5:
        problems.append(f"the verdict took {fb.seconds:.1f} s (wall {g.wall:.1f} s); the limit is {limit:g} s")
    problems += [f"the grader left something behind: {n}" for n in fb.notes if "could not clean up" in n]
    text = fb.model_dump_json()
    if SENTINEL in text:
        where = re.search(rf"{SENTINEL}[^\"]{{0,160}}", text)
        problems.append(f"the attack worked, says the submission: {where.group() if where else SENTINEL}")
    if arena.token in text:
        problems.append("the neighbour's secret token is in the verdict")
    checks = {c.id: c for c in fb.checks}
    for check in case.get("passed", []):
        if fb.status == "graded" and (check not in checks or checks[check].status != "pass"):
            got = checks[check].status if check in checks else "missing"
            problems.append(f"{check} should pass (the submission's {check} is right), got {got}")
    for check in case.get("not_passed", []):
        if fb.status != "graded":
            continue
        if check not in checks:
            problems.append(f"{check} is missing from the verdict")
        elif checks[check].status == "pass":
            problems.append(f"{check} passed but must not: {checks[check].message!r}")
    if case.get("full_marks"):
        if fb.status != "graded" or fb.score != fb.max_score or fb.max_score <= 0:
            problems.append(f"a correct submission must get full marks: {fb.score}/{fb.max_score}")
        problems += [f"{c.id} is {c.status}: {c.message!r}" for c in fb.checks if c.status not in ("pass", "skipped")]
    if "score_at_most" in case and fb.score > case["score_at_most"]:
        problems.append(f"scored {fb.score}/{fb.max_score}; at most {case['score_at_most']:g} is right")
    if fb.status == "graded":
        for check, fragment in case.get("message_contains", {}).items():
            message = checks[check].message if check in checks else ""
            if fragment.lower() not in message.lower():
                problems.append(f"{check}'s message does not say {fragment!r}: {message!r}")
        for check, fragment in case.get("message_excludes", {}).items():
            message = checks[check].message if check in checks else ""
            if fragment.lower() in message.lower():
                problems.append(f"{check}'s message says {fragment!r}, which is not true: {message!r}")
        fragment = case.get("notes_contain")
        if fragment and not any(fragment.lower() in n.lower() for n in fb.notes):
            problems.append(f"no note says {fragment!r}: {fb.notes}")
    return problems


def twin_problems(name: str, g: Graded, arena: Arena) -> list[str]:
    twin = arena.result(f"twin:{name}")
    if twin.fb is None:
        return [f"grading the honest twin raised:\n{twin.raised}"]
    fb, honest = g.fb, twin.fb
    assert fb is not None
    problems = []
    if fb.score != honest.score or fb.status != honest.status:
        problems.append(f"score {fb.score} ({fb.status}) differs from the honest twin's {honest.score} "
                        f"({honest.status}): the hostile part changed the verdict")
    mine = {c.id: c.status for c in fb.checks}
    theirs = {c.id: c.status for c in honest.checks}
    if mine != theirs:
        problems.append(f"check statuses differ from the honest twin's: {mine} vs {theirs}")
    return problems


def _scratch_folders() -> list[Path]:
    return [p for p in Path("/tmp").glob("bpgrade-*") if p.is_dir()]


def _force_remove(path: Path) -> None:
    """Delete a file a submission left, clearing an immutable flag first (the test runs as root)."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.ioctl(fd, 0x40086602, b"\0" * 8)  # FS_IOC_SETFLAGS: no flags
        finally:
            os.close(fd)
    except OSError:
        pass
    path.unlink(missing_ok=True)


def side_effect_problems(kind: str, g: Graded, arena: Arena) -> list[str]:
    problems: list[str] = []
    if kind == "fake-results":
        # the grader's folder, the class folder, the fork servers' folders (a submission may write
        # in its own scratch folder: that is what it is for, and it is removed after the run)
        servers = [p for p in Path("/tmp").glob("bpgrade-mpl-*") if p.is_dir()]
        for folder in [arena.cwd, arena.folder, *servers]:
            for fake in FAKE_RESULTS:
                target = folder / fake
                if target.exists():
                    problems.append(f"fake results written outside the scratch folder: {target}")
                    if target.is_dir():
                        shutil.rmtree(target, ignore_errors=True)
                    else:
                        target.unlink(missing_ok=True)
    elif kind == "escape":
        found = _markers() + list(arena.root.rglob(MARKER))
        problems += [f"a file was written outside the scratch folder: {p}" for p in found]
        _remove_markers(arena.root)
    elif kind == "leak":
        pass  # the token and the sentinel are looked for in every verdict
    elif kind == "network":
        lb = arena.loopback
        assert lb is not None
        if lb.port is None:
            pytest.skip(f"no free port in {PORTS.start}-{PORTS.stop - 1} for the loopback listener")
        if lb.accepted:
            problems.append(f"the loopback listener on port {lb.port} accepted connections from {lb.accepted}")
        if lb.datagrams:
            problems.append(f"the loopback UDP socket on port {lb.port} received {lb.datagrams}")
    elif kind == "processes":
        if g.kids_alive:
            problems.append(f"processes the submission started outlived its verdict: pids {g.kids_alive} "
                            f"({KID}, escaped by setsid)")
    elif kind == "cleanup":
        for folder in _scratch_folders():
            for planted in PLANTED:
                if (folder / planted).exists() or (folder / planted).is_symlink():
                    problems.append(f"the scratch folder was not cleaned up: {folder / planted}")
    elif kind == "disk":
        for left in [p for folder in _scratch_folders() for p in folder.glob(LEFT_ON_DISK)]:
            problems.append(f"left on disk after the run: {left} ({left.stat().st_size} bytes)")
            _force_remove(left)
    elif kind == "server-state":
        assert arena.before is not None
        servers = [p for p in _children(os.getpid()) if "--serve" in _cmdline(p)]
        for pid in servers:
            try:
                now = inherited(pid)
            except OSError:
                continue  # a server that ended meanwhile (a dirty one ends by itself)
            if now != arena.before.inherited:
                problems.append(f"fork server {pid}'s limits or scheduling changed: {arena.before.inherited} -> {now}")
        rel = "bp-numpy/correct_seed001_fixed.py"
        later, alone = _grade(SUBMISSIONS / rel, "bp-numpy", "default").fb, arena.result(f"honest:{rel}").fb
        if later is None or alone is None or later.model_dump(exclude={"seconds"}) != alone.model_dump(
                exclude={"seconds"}):
            problems.append(f"an honest file graded after this one lost its verdict:\n{_summary(later)}\n{_summary(alone)}")
    elif kind != "none":
        problems.append(f"unknown side_effect {kind!r} in cases.toml")
    return problems


def arena_problems(arena: Arena) -> list[str]:
    """What every case must leave alone: the grader's folder, the class folder, the process."""
    problems = []
    if not arena.canary.is_file() or arena.canary.read_text() != "the grader's own file\n":
        problems.append(f"the grader's own file {arena.canary} was changed or deleted")
    if arena.neighbour.read_text(encoding="utf-8") != arena.neighbour_text():
        problems.append("the neighbour's submission was changed")
    missing = [n for n in CASES if not (arena.folder / n).is_file()]
    if missing:
        problems.append(f"submissions vanished from the class folder: {missing}")
    assert arena.before is not None
    problems += arena.before.differences(ProcessState.now())
    return problems


# ---------------------------------------------------------------- the tests

KEYS = {"assignment", "task", "status", "error_contains", "passed", "not_passed", "full_marks", "score_at_most",
        "message_contains", "message_excludes", "notes_contain", "twin", "side_effect", "max_seconds", "why"}
SIDE_EFFECTS = {"none", "fake-results", "escape", "leak", "network", "processes", "cleanup", "server-state", "disk"}


def test_every_hostile_file_has_its_table_and_every_table_its_file():
    files = {p.name for p in HOSTILE.glob("*.py")}
    assert files == set(CASES)
    for name, case in CASES.items():
        assert set(case) <= KEYS, f"{name}: unknown keys {set(case) - KEYS}"
        assert {"assignment", "task", "status", "side_effect", "why"} <= set(case), name
        a = load_assignment(case["assignment"])
        assert case["task"] in a.tasks, name
        named = [*case.get("passed", []), *case.get("not_passed", []), *case.get("message_contains", {}),
                 *case.get("message_excludes", {})]
        assert set(named) <= set(a.checks), f"{name}: checks {set(named) - set(a.checks)} are not {a.id}'s"
        assert not set(case.get("passed", [])) & set(case.get("not_passed", [])), name
        assert case["side_effect"] in SIDE_EFFECTS, name
        if case.get("twin"):
            assert HOSTILE_BLOCK.search((HOSTILE / name).read_text(encoding="utf-8")), f"{name}: no hostile block"


@pytest.mark.parametrize("name", sorted(CASES))
def test_hostile_submission_gets_its_verdict_and_nothing_else(name: str, arena: Arena):
    case = CASES[name]
    g = arena.result(f"hostile:{name}")
    assert g.fb is not None, f"grade_file raised instead of giving a verdict:\n{g.raised}"
    problems = verdict_problems(case, g, arena)
    if case.get("twin"):
        problems += twin_problems(name, g, arena)
    problems += side_effect_problems(case.get("side_effect", "none"), g, arena)
    problems += arena_problems(arena)
    assert not problems, f"{name}: " + "\n".join(problems) + "\n" + _summary(g.fb)


def test_batch_with_hostile_neighbours_gives_every_submission_its_own_verdict(arena: Arena):
    room = arena.cwd / "batch-class"  # inside the grader's working folder, where hostile files look
    out = arena.cwd / "results"
    room.mkdir()
    (room / "aaa_neighbour.py").write_text(arena.neighbour_text(), encoding="utf-8")
    honest_keys = {}
    for rel in BATCH_HONEST:
        key = f"honest_{Path(rel).stem}"
        shutil.copy(SUBMISSIONS / rel, room / f"{key}.py")
        honest_keys[key] = rel
    for name in BATCH_HOSTILE:
        shutil.copy(HOSTILE / name, room / name)
    results = batch.grade_folder(room, out, Options(assignment="bp-numpy", task="default"), jobs=2)
    keys = sorted(["aaa_neighbour", *honest_keys, *(Path(n).stem for n in BATCH_HOSTILE)])
    assert sorted(results) == keys

    problems: list[str] = []
    for key, fb in results.items():
        if fb.status == "error":
            problems += [f"{key}: {p}" for p in _one_line(fb.error)]
        if SENTINEL in fb.model_dump_json():
            problems.append(f"{key}: an attack worked: {fb.model_dump_json()[:300]}")
    for key, rel in honest_keys.items():
        alone = arena.result(f"honest:{rel}").fb
        assert alone is not None
        fb = results[key]
        if fb.score != alone.score or fb.status != alone.status:
            problems.append(f"{key}: score {fb.score} in the batch, {alone.score} alone")
        if [(c.id, c.status, c.score, c.message) for c in fb.checks] != \
                [(c.id, c.status, c.score, c.message) for c in alone.checks]:
            problems.append(f"{key}: its checks differ from grading it alone:\n{_summary(fb)}\n{_summary(alone)}")
    alone = arena.result("honest:bp-numpy/correct_seed001_fixed.py").fb
    assert alone is not None
    if results["aaa_neighbour"].score != alone.score:
        problems.append(f"the neighbour scored {results['aaa_neighbour'].score}, its honest text {alone.score}")
    twin = arena.result("twin:fake_feedback_wrong_impl.py").fb
    assert twin is not None
    fake = results["fake_feedback_wrong_impl"]
    if fake.score != twin.score or fake.score == fake.max_score:
        problems.append(f"fake_feedback_wrong_impl scored {fake.score} in the batch; its honest twin {twin.score}")
    for key in ("neighbour_reader", "escape_writes"):
        fb = results[key]
        if fb.status != "graded" or fb.score != fb.max_score:
            problems.append(f"{key} (correct apart from its attack) scored {fb.score}/{fb.max_score}:\n{_summary(fb)}")

    present = {p.name for p in out.iterdir()}
    missing = {f"{k}.json" for k in keys} | {"grades.csv", "summary.json"}
    if missing - present:
        problems.append(f"the grader's files are missing from the results folder: {sorted(missing - present)}")
    strangers = sorted(n for n in present if n in ("results.json", "feedback.json", "gradescope")
                       or (n.endswith(".json") and n not in missing))
    if strangers:
        problems.append(f"the results folder holds files the grader did not write: {strangers}")
    for key, fb in results.items():
        if (out / f"{key}.json").is_file() and \
                Feedback.model_validate_json((out / f"{key}.json").read_text(encoding="utf-8")) != fb:
            problems.append(f"{key}.json is not the verdict the grader returned")
    for p in out.iterdir():
        if p.is_file() and p.suffix in (".json", ".csv"):
            text = p.read_text(encoding="utf-8", errors="replace")
            if arena.token in text:
                problems.append(f"the neighbour's token is in {p.name}")
    rows = (out / "grades.csv").read_text(encoding="utf-8").strip().splitlines()
    if len(rows) != len(keys) + 1 or any("fake_feedback_wrong_impl,100" in r for r in rows):
        problems.append(f"grades.csv is not the grader's: {rows}")
    for folder in (arena.cwd, room):
        problems += [f"fake results in {folder}: {f}" for f in FAKE_RESULTS if (folder / f).exists()]
    found = _markers() + list(arena.root.rglob(MARKER))
    problems += [f"escape marker written: {p}" for p in found]
    _remove_markers(arena.root)
    problems += arena_problems(arena)
    assert not problems, "\n".join(problems)


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _open_fds() -> dict[int, str]:
    out = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        out[int(fd)] = re.sub(r"\[\d+\]$", "[…]", target)  # pipe:[1234] -> pipe:[…]
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_grader_process_is_untouched_after_every_hostile_submission(arena: Arena):
    for key in list(arena.futures):
        arena.result(key)  # every verdict is in
    problems = arena_problems(arena)
    deadline = time.monotonic() + 10
    while True:  # children reaped, fork servers idle, no stray process
        servers = [p for p in _children(os.getpid()) if "--serve" in _cmdline(p)]
        strays = [(p, _cmdline(p)) for p in _children(os.getpid()) if p not in servers]
        busy = {p: _children(p) for p in servers if _children(p)}
        kids = _kids()
        if not (strays or busy or kids) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    if strays:
        problems.append(f"the grader still has child processes: {strays}")
    if busy:
        problems.append(f"fork servers still have children: {busy}")
    if kids:
        problems.append(f"{KID} processes are alive: {kids}")
    gc.collect()  # unclosed selectors wait for the collector; they are not a leak
    grown = Counter(_open_fds().values()) - Counter(arena.open_fds.values())
    leaked = {k: n for k, n in grown.items() if k.startswith(("pipe:", "socket:", "anon_inode:"))}
    if sum(leaked.values()) > 4:  # a child's pipes or sockets the grader forgot to close
        problems.append(f"the grader holds more descriptors than before the hostile files: {leaked}")
    assert not problems, "\n".join(problems)


def test_grade_file_never_raised_while_grading_side_by_side(arena: Arena):
    """Batch mode grades in threads: grade_file must give every submission a verdict there too."""
    for key in list(arena.futures):
        arena.result(key)
    assert not RETRIED, "grade_file raised (a retry then gave a verdict):\n" + "\n".join(RETRIED)
