"""`grade FILE --watch`: grade the file, then again each time it is saved, until Ctrl-C.

What stays warm between gradings is the grader's own process (its imports, the assignments) and the
fork server (torch imported once); each grading is still `grade_file`, with its own fresh child,
limits and scratch folder. Saves are seen by watchfiles (the kernel's inotify on Linux, FSEvents on
macOS, polling elsewhere) on the file's folder, not on the file: an editor that saves by writing a
new file and renaming it over the old one replaces the file a watch on it would follow.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from .feedback import Feedback, _marks, render_text
from .grade import UsageError, grade_file
from .i18n import t
from .options import Options

STEP_MS = 50  # a save is graded once its folder has been quiet this long (an editor writes in steps)
CLEAR = "\033[H\033[2J"  # cursor home, clear the screen


class Unwatchable(Exception):
    """The file's folder cannot be watched (e.g. the system's limit of watches is reached)."""


def watch(path: Path, options: Options, json_out: str | None, plots: Path | None, verbose: bool = False) -> None:
    """Grade at once, then at every save that changes the file, until KeyboardInterrupt (which propagates).

    A UsageError of the first grading propagates (the command line is wrong); a later one is shown and
    the watch goes on, as it does after a file that cannot be graded (a save half-written)."""
    previous: Feedback | None = None
    for _ in _versions(path):
        try:
            fb = _graded(path, options, plots)
        except UsageError as e:
            if previous is None:
                raise
            _say(t("cli.usage_error", error=e))
            continue
        _show(fb, previous, json_out, path, verbose)
        previous = fb


def _graded(path: Path, options: Options, plots: Path | None) -> Feedback:
    fb = grade_file(path, options)
    if plots is not None:
        from .plots import with_plot

        fb = with_plot(fb, plots / f"{path.stem}.png")
    return fb


def _show(fb: Feedback, previous: Feedback | None, json_out: str | None, path: Path, verbose: bool) -> None:
    """The report (after clearing a terminal), what changed since the previous grading, and the JSON."""
    if json_out == "-":  # JSON Lines: one verdict per grading, nothing else on stdout
        sys.stdout.write(fb.model_dump_json() + "\n")
        sys.stdout.flush()
    else:
        if json_out is not None:
            from .batch import write_atomic

            write_atomic(Path(json_out), fb.model_dump_json(indent=2) + "\n")
        report = render_text(fb, verbose=verbose)
        if previous is not None:
            report += "\n" + changes(previous, fb)
        sys.stdout.write((CLEAR if sys.stdout.isatty() else "") + report + "\n")
        sys.stdout.flush()
    _say(t("watch.waiting", path=path))


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def changes(before: Feedback, after: Feedback) -> str:
    """One line: what differs between two verdicts on the same file (`gradients FAIL -> PASS, score 7 -> 10`)."""
    parts = []
    if before.status != after.status:
        statuses = {"graded": t("watch.status_graded"), "error": t("watch.status_error")}
        parts.append(t("watch.status_change", before=statuses[before.status], after=statuses[after.status]))
    graded_as = (f"{before.assignment}/{before.task}", f"{after.assignment}/{after.task}")
    if before.status == after.status == "graded" and graded_as[0] != graded_as[1]:
        parts.append(_change(t("watch.graded_as"), *graded_as))
    marks = _marks()
    was = {c.id: c.status for c in before.checks}
    parts += [_change(c.id, marks[was[c.id]], marks[c.status]) for c in after.checks
              if c.id in was and was[c.id] != c.status]
    if (before.score, before.max_score) != (after.score, after.max_score) and before.max_score and after.max_score:
        same_max = before.max_score == after.max_score
        parts.append(_change(t("watch.score"), *(f"{fb.score:g}" if same_max else f"{fb.score:g}/{fb.max_score:g}"
                                                 for fb in (before, after))))
    return t("watch.changed", changes=t("common.sep").join(parts)) if parts else t("watch.unchanged")


def _change(what: str, before: str, after: str) -> str:
    return t("watch.change", what=what, before=before, after=after)


def _versions(path: Path) -> Iterator[bytes]:
    """The file's content now, then each new content a save gives it (a save that changes nothing, or a
    moment the file is missing while an editor replaces it, gives none)."""
    saves = _Saves(path)
    try:
        seen = None
        while True:
            content = _read(path)
            if content is not None and content != seen:
                seen = content
                yield content
            saves.wait()
    finally:
        saves.stop.set()


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


class _Saves:
    """Changes to the file, seen from a thread of its own that watches its folder from now on (a save made
    while the first grading runs counts too)."""

    def __init__(self, path: Path) -> None:
        self.events: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()
        self.stop = threading.Event()
        folder, name = path.resolve().parent, path.name
        threading.Thread(target=self._watch, args=(folder, name), daemon=True).start()

    def _watch(self, folder: Path, name: str) -> None:
        try:
            import watchfiles

            for _ in watchfiles.watch(folder, watch_filter=lambda _, changed: os.path.basename(changed) == name,
                                      recursive=False, step=STEP_MS, stop_event=self.stop, raise_interrupt=False):
                self.events.put(None)
        except Exception as e:  # noqa: BLE001 - told to the main thread, which says it
            self.events.put(e)

    def wait(self) -> None:
        """Until the next change (a burst of them counts once)."""
        events = [self.events.get()]
        while not self.events.empty():
            events.append(self.events.get())
        failed = next((e for e in events if e is not None), None)
        if failed is not None:
            raise Unwatchable(str(failed)) from failed
