"""`grade FILE --watch` (SPEC §3): a save grades the file again, a broken save is reported and the watch goes on,
Ctrl-C ends it (exit 130, no traceback). The real command, in a subprocess, saving as editors save."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

from grader.feedback import Feedback
from grader.grade import grade_file
from grader.watch import changes

from .conftest import SUBMISSIONS, seed000_score, total

CORRECT = SUBMISSIONS / "bp-numpy" / "correct_seed001_fixed.py"
SEED000 = SUBMISSIONS / "bp-numpy" / "seed000_hidden_delta.py"  # its hidden-layer gradients are wrong
# SIGINT as a terminal's Ctrl-C delivers it: a pytest started from a non-interactive shell leaves it ignored
COMMAND = "import signal; signal.signal(signal.SIGINT, signal.default_int_handler); " \
          "from grader.entry import main; main()"
SECONDS = 240  # for one grading, the first one starting its fork server, on a loaded machine


class Watch:
    """`grade PATH --watch ARGS` running, its output read line by line as it comes."""

    def __init__(self, path: Path, *args: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", COMMAND, str(path), "--watch", "--lang", "en", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8",
                                     cwd=path.parent, env={**os.environ, "COLUMNS": "200"})
        self.stdout: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()  # type: ignore

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.stdout.put(line.rstrip("\n"))

    def report(self, first: bool = False) -> list[str]:
        """The next grading's report: up to its score line, and the line of what changed after a re-grade."""
        lines: list[str] = []
        deadline = time.monotonic() + SECONDS
        while not (lines and lines[-1].startswith("since the last grading" if not first else "  score:")):
            try:
                lines.append(self.stdout.get(timeout=max(0.0, deadline - time.monotonic())))
            except queue.Empty:
                raise AssertionError(f"no report within {SECONDS} s: {lines}, stderr {self.stderr}") from None
        return lines

    def interrupt(self) -> int:
        self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(60)

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *_: object) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def alone(source: Path, tmp_path: Path, name: str) -> Feedback:
    """The verdict of one grading of `source` saved as `name` (a watch's verdict must be the same)."""
    (tmp_path / "alone").mkdir(exist_ok=True)
    copy = tmp_path / "alone" / name
    shutil.copy(source, copy)
    return grade_file(copy)


def same(a: Feedback, b: Feedback) -> bool:
    return a.model_dump(exclude={"seconds"}) == b.model_dump(exclude={"seconds"})


def notebook(source: Path, target: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# homework 2"), nbformat.v4.new_code_cell(source.read_text("utf-8"))]
    nbformat.write(nb, str(target))


def save_in_place(source: Path, target: Path) -> None:
    target.write_bytes(source.read_bytes())


def save_by_rename(source: Path, target: Path) -> None:
    """What vim, gedit or an IDE's safe write do: a new file, renamed over the old one."""
    fresh = target.with_name(f".{target.name}.tmp")
    fresh.write_bytes(source.read_bytes())
    os.replace(fresh, target)


@pytest.mark.parametrize("suffix, save", [(".py", save_in_place), (".py", save_by_rename), (".ipynb", save_by_rename)])
def test_a_save_grades_the_file_again_and_says_what_changed(suffix: str, save, tmp_path: Path):
    def version(source: Path, name: str) -> Path:
        out = tmp_path / name
        if suffix == ".ipynb":
            notebook(source, out)
        else:
            shutil.copy(source, out)
        return out

    correct, buggy = version(CORRECT, f"correct{suffix}"), version(SEED000, f"buggy{suffix}")
    hw = tmp_path / "work" / f"hw2{suffix}"
    hw.parent.mkdir()
    shutil.copy(correct, hw)
    out = tmp_path / "feedback.json"
    with Watch(hw, "--json", str(out)) as watch:
        first = watch.report(first=True)
        assert f"  score: {total('bp-numpy'):g}/{total('bp-numpy'):g}" in first
        assert same(Feedback.model_validate_json(out.read_text()), alone(correct, tmp_path, hw.name))
        save(buggy, hw)
        again = watch.report()
        expected = alone(buggy, tmp_path, hw.name)
        assert expected.score == seed000_score()
        assert any(line.startswith("  gradients  FAIL") for line in again)
        assert f"  score: {seed000_score():g}/{total('bp-numpy'):g}" in again
        assert again[-1].startswith("since the last grading: ") and "gradients PASS -> FAIL" in again[-1]
        assert again[-1].endswith(f"score {total('bp-numpy'):g} -> {seed000_score():g}")
        assert same(Feedback.model_validate_json(out.read_text()), expected)  # rewritten, whole
        save(correct, hw)
        assert "gradients FAIL -> PASS" in watch.report()[-1]
        assert watch.interrupt() == 130


def test_a_half_written_save_is_reported_and_the_watch_goes_on(tmp_path: Path):
    text = CORRECT.read_text(encoding="utf-8")
    half = tmp_path / "half.py"
    half.write_text(text[:text.index("def back_propagate")] + "def back_propagate(out_o1, out_o2\n", encoding="utf-8")
    broken = alone(half, tmp_path, "hw2.py")
    assert broken.status == "error" and broken.error.startswith("syntax error at line ")
    hw = tmp_path / "hw2.py"
    shutil.copy(CORRECT, hw)
    with Watch(hw) as watch:
        watch.report(first=True)
        save_in_place(half, hw)
        report = watch.report()
        assert f"  could not be graded: {broken.error}" in report
        # the score too where the broken file still counts as the assignment's (its 0 of the total)
        score = f"; score {total('bp-numpy'):g} -> 0" if broken.max_score else ""
        assert report[-1] == "since the last grading: graded -> not graded" + score
        save_in_place(CORRECT, hw)
        report = watch.report()
        assert f"  score: {total('bp-numpy'):g}/{total('bp-numpy'):g}" in report
        score = f"; score 0 -> {total('bp-numpy'):g}" if broken.max_score else ""
        assert report[-1] == "since the last grading: not graded -> graded" + score
        assert watch.interrupt() == 130
        assert "Traceback" not in "".join(watch.stderr)


def test_ctrl_c_ends_the_watch_cleanly_even_during_a_grading(tmp_path: Path):
    """Idle, waiting for a save; and while a child runs a `__main__` that sleeps: exit 130 at once, one line,
    no traceback, and no child left running."""
    hw = tmp_path / "hw2.py"
    shutil.copy(CORRECT, hw)
    with Watch(hw) as watch:
        watch.report(first=True)
        code = watch.interrupt()
    assert code == 130
    assert "".join(watch.stderr).strip().endswith(f"grade: stopped watching {hw}")
    assert "Traceback" not in "".join(watch.stderr)
    slow = tmp_path / "slow.py"
    slow.write_text(CORRECT.read_text(encoding="utf-8").replace(
        'if __name__ == "__main__":\n', 'if __name__ == "__main__":\n    import time\n    time.sleep(60)\n'),
        encoding="utf-8")
    with Watch(slow) as watch:
        deadline = time.monotonic() + SECONDS
        while len(running := _descendants(watch.proc.pid)) < 2:  # the fork server and the child it forked
            assert time.monotonic() < deadline, watch.stderr
            time.sleep(0.1)
        time.sleep(1)  # the child is in the program's own sleep
        began = time.monotonic()
        code = watch.interrupt()
        assert time.monotonic() - began < 20  # not the 60 s of its sleep, nor its time limit
    assert code == 130 and "Traceback" not in "".join(watch.stderr)
    deadline = time.monotonic() + 10
    while left := [pid for pid in running if Path(f"/proc/{pid}").exists()]:
        assert time.monotonic() < deadline, f"still running after the watch ended: {left}"
        time.sleep(0.1)


def _descendants(pid: int) -> set[int]:
    """The processes below `pid`, by their parents (a child that became its own session's leader included)."""
    parents = {}
    for proc in Path("/proc").iterdir():
        try:
            parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {p for p, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def test_the_line_of_changes_names_each_check_that_changed_and_the_score():
    good, bad = grade_file(CORRECT), grade_file(SEED000)
    marks = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skipped": "SKIP"}
    was = {c.id: c.status for c in good.checks}
    flipped = [f"{c.id} {marks[was[c.id]]} -> {marks[c.status]}" for c in bad.checks if c.status != was[c.id]]
    assert "gradients PASS -> FAIL" in flipped
    assert changes(good, bad) == "since the last grading: " + "; ".join(
        [*flipped, f"score {total('bp-numpy'):g} -> {seed000_score():g}"])
    assert changes(good, good) == "since the last grading: no change"
