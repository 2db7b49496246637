"""The student's loop, measured: a cold `grade FILE` against `python FILE`, and how soon after a save
`grade FILE --watch` shows the new verdict.

Run from the repository root with the project's venv:

    .venv/bin/python benchmarks/bench_student.py [--runs 9] [--saves 10] [--fresh] [--grade .venv/bin/grade]

1. Cold: a bp-torch file whose `__main__` trains 10 rounds (the course template,
   tests/submissions/bp-torch/correct_seed001_template.py, with 10 rounds) and a bp-numpy one
   (tests/submissions/bp-numpy/correct_seed001_fixed.py: 10 rounds, then a plot). `python FILE` and
   `grade FILE` run by turns, --runs times each, so that both meet the same load from whatever else
   the machine runs: the medians of their wall-clock times, and the ratio of the medians. With
   --fresh, `grade FILE --start fresh` (a fresh interpreter per child, no fork server) by turns too.
2. Watch: `grade FILE --watch --lang en` on a copy of the bp-torch file. Once it has shown its first
   verdict, --saves saves alternate between a buggy version (w2..w8's gradients never zeroed) and the
   correct one, every other one written in place and the others by writing a new file and renaming it
   over the old one, as many editors do; each is timed from the moment before the save to the moment
   the line that ends its report ("since the last grading: ...") arrives. Then Ctrl-C: its exit code.

Every command runs with Python's usual bytecode caching (the first, untimed run of each writes what it
caches), as on a student's machine; --no-bytecode-cache runs them all with PYTHONDONTWRITEBYTECODE=1.

Prints markdown tables and the machine (cores, load average before and after, Python, torch).
It asserts nothing: machines are noisy, this is a measurement.
"""

from __future__ import annotations

import argparse
import os
import platform
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TORCH_FILE = ROOT / "tests" / "submissions" / "bp-torch" / "correct_seed001_template.py"
NUMPY_FILE = ROOT / "tests" / "submissions" / "bp-numpy" / "correct_seed001_fixed.py"
REPORT_END = "since the last grading"
# the interpreter's SIGINT as in a terminal (a shell that starts us in the background leaves it ignored)
WATCH = "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); " \
        "from grader.entry import main; main()"


def files(folder: Path) -> dict[str, Path]:
    """The two submissions, written into `folder`: the bp-torch template trains 10 rounds, not its 11."""
    torch_text = TORCH_FILE.read_text(encoding="utf-8")
    assert "for i in range(11):" in torch_text
    out = {"bp-torch": folder / "hw3_torch.py", "bp-numpy": folder / "hw2_numpy.py"}
    out["bp-torch"].write_text(torch_text.replace("for i in range(11):", "for i in range(10):"), encoding="utf-8")
    shutil.copy(NUMPY_FILE, out["bp-numpy"])
    return out


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.monotonic()
    subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.monotonic() - started


def cold(path: Path, runs: int, grade: str, fresh: bool, env: dict[str, str]) -> dict[str, list[float]]:
    """Wall-clock seconds of each way of running the file, by turns, after one untimed run of each (which
    writes what Python caches: a new process is cold, a new machine is another matter)."""
    ways = {"python FILE": [sys.executable, str(path)], "grade FILE": [grade, str(path)]}
    if fresh:
        ways["grade FILE --start fresh"] = [grade, str(path), "--start", "fresh"]
    for command in ways.values():
        timed(command, path.parent, env)
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(runs):
        for name, command in ways.items():
            times[name].append(timed(command, path.parent, env))
    return times


class Lines:
    """A process's output lines as they arrive, each with the time it arrived."""

    def __init__(self, stream: object) -> None:
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put((time.monotonic(), line))

    def until(self, prefix: str, timeout: float) -> float:
        """When the next line starting with `prefix` arrived."""
        deadline = time.monotonic() + timeout
        while True:
            at, line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            if line.startswith(prefix):
                return at


def save(path: Path, text: str, by_rename: bool) -> float:
    """Save as an editor does; the moment the save began."""
    started = time.monotonic()
    if by_rename:
        fresh = path.with_name(f".{path.name}.swp")
        fresh.write_text(text, encoding="utf-8")
        os.replace(fresh, path)
    else:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return started


def watch(path: Path, saves: int, settle: float, env: dict[str, str]) -> tuple[list[float], int | None]:
    """Seconds from each save to its report, and the exit code after Ctrl-C."""
    correct = path.read_text(encoding="utf-8")
    buggy = correct.replace("    w2.grad.data.zero_()\n", "").replace("    w8.grad.data.zero_()\n", "")
    assert buggy != correct
    proc = subprocess.Popen([sys.executable, "-c", WATCH, str(path), "--watch", "--lang", "en"], cwd=path.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, encoding="utf-8", env=env)
    out = Lines(proc.stdout)
    latencies = []
    try:
        out.until("  score:", timeout=300)  # the first verdict, cold
        time.sleep(settle)
        for i in range(saves):
            began = save(path, buggy if i % 2 == 0 else correct, by_rename=i % 2 == 1)
            latencies.append(out.until(REPORT_END, timeout=60) - began)
            time.sleep(settle)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = None
    return latencies, code


def seconds(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="cold runs of each command per file")
    parser.add_argument("--saves", type=int, default=10, help="saves timed in the watch (0: no watch)")
    parser.add_argument("--settle", type=float, default=0.5, help="seconds between a report and the next save")
    parser.add_argument("--fresh", action="store_true", help="also time `grade FILE --start fresh`")
    parser.add_argument("--grade", default=str(ROOT / ".venv" / "bin" / "grade"), help="the grade command")
    parser.add_argument("--no-bytecode-cache", action="store_true",
                        help="run every command with PYTHONDONTWRITEBYTECODE=1, as this project's sessions do (where "
                             "grader/ has no __pycache__ yet, its modules are then compiled at every run)")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.no_bytecode_cache:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-student-") as tmp:
        subjects = files(Path(tmp))
        results = {name: cold(path, args.runs, args.grade, args.fresh, env) for name, path in subjects.items()}
        latencies, code = watch(subjects["bp-torch"], args.saves, args.settle, env) if args.saves else ([], None)
    load_after = os.getloadavg()

    caching = "no bytecode cache (PYTHONDONTWRITEBYTECODE=1)" if args.no_bytecode_cache else "bytecode cached"
    print(f"Cold: medians of {args.runs} runs each, by turns; {caching}\n")
    print("| command | " + " | ".join(results) + " |")
    print("| --- |" + " ---: |" * len(results))
    for way in next(iter(results.values())):
        print(f"| `{way}` | " + " | ".join(seconds(r[way]) for r in results.values()) + " |")
    for way in list(next(iter(results.values())))[1:]:
        print(f"| `{way}` / `python FILE` | " + " | ".join(
            f"{statistics.median(r[way]) / statistics.median(r['python FILE']):.2f}×" for r in results.values()) + " |")
    if latencies:
        print_watch(latencies, code)
    try:
        torch_version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        torch_version = "not installed"
    print(f"\nmachine: {os.cpu_count()} cores, Python {platform.python_version()}, torch {torch_version}; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")


def print_watch(latencies: list[float], code: int | None) -> None:
    print(f"\nWatch (bp-torch, 10 rounds in `__main__`): save -> its report, {len(latencies)} saves "
          f"(half in place, half renamed over)\n")
    print("| median | min | max | exit code after Ctrl-C |")
    print("| ---: | ---: | ---: | ---: |")
    print(f"| {statistics.median(latencies):.3f} s | {min(latencies):.3f} s | {max(latencies):.3f} s | {code} |")


if __name__ == "__main__":
    main()
