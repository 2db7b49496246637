"""`grade`: the command line (SPEC §3). Thin: parsing, exit codes and output only."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from . import spawn
from .console import encodable
from .i18n import LANGS, default_language, speaking, t
from .options import STARTS, VIEWS, Options
from .spec import load_all

if TYPE_CHECKING:
    from .feedback import Feedback

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  help="Grade backpropagation homework (.py or .ipynb) in a sandbox.")
LONG_MAIN_SECONDS = 3.0  # a single grading on a terminal says what it waits for after this long


def _write_json(fb: Feedback, target: str) -> None:
    text = fb.model_dump_json(indent=2)
    if target == "-":
        if not encodable(text, sys.stdout):  # a GBK console: the same JSON, its other characters escaped
            text = json.dumps(json.loads(text), indent=2, ensure_ascii=True)
        sys.stdout.write(text + "\n")
    else:
        Path(target).write_text(text + "\n", encoding="utf-8")


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"grade (backprop-grader) {_installed_version()}")
        raise typer.Exit(0)


def _installed_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("backprop-grader")
    except PackageNotFoundError:
        return "unknown (not installed)"


@app.command()
def grade(
    path: Path = typer.Argument(..., help="The submission to grade: a .py script or .ipynb notebook (with --out: "
                                          "a class folder, or the .zip an LMS downloads)."),
    assignment: str | None = typer.Option(
        None, "--assignment", "-a",
        help="Assignment id (linear, quadratic, bp-numpy, bp-torch); detected from the file's functions if omitted."),
    task: str | None = typer.Option(
        None, "--task", "-t",
        help="Task of the assignment (e.g. relu for bp-torch); detected from the code if omitted."),
    json_out: str | None = typer.Option(
        None, "--json", help="Also write the feedback JSON to this file; '-' prints only the JSON on stdout."),
    seed: int | None = typer.Option(
        None, "--seed", help="Seed for the hidden randomized cases (instructors: keep yours private)."),
    out: Path | None = typer.Option(
        None, "--out", "-o",
        help="Folder mode: where to write <stem>.json per submission, grades.csv and summary.json."),
    jobs: int = typer.Option(
        os.cpu_count() or 1, "--jobs", "-j", min=1, help="Folder mode: submissions graded at the same time."),
    force: bool = typer.Option(
        False, "--force", help="Folder mode: regrade even submissions whose JSON is newer than the file."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Folder mode: no progress line, only the summary."),
    gradescope: bool = typer.Option(
        False, "--gradescope", help="Folder mode: also write gradescope/<stem>/results.json in Gradescope's format."),
    plots: Path | None = typer.Option(
        None, "--plots", help="Draw the training loss against the reference's as DIR/<stem>.png (a folder: always, "
                              "in OUT/plots)."),
    view: str = typer.Option(
        "student", "--view", help="student: hidden cases only counted; instructor: the JSON also holds every "
                                  "case's numbers (a folder's JSONs always do; its Gradescope files never)."),
    start: str = typer.Option(
        "fork", "--start", help="How each sandboxed child starts: fork (from a pre-imported server; Linux) "
                                "or fresh (a new Python per child, slower)."),
    lang: str | None = typer.Option(
        None, "--lang", help="Language of the report, the JSON messages, hints and diagnoses: en or zh "
                             "(default: from the locale, LC_ALL / LC_MESSAGES / LANG; zh_* gives zh)."),
    bind: list[str] = typer.Option(
        [], "--bind", help="ROLE=NAME: use the file's function NAME as ROLE (forward, loss, backward, update); "
                           "repeatable. The report says how every role was bound."),
    time_limit: float | None = typer.Option(
        None, "--time-limit", min=1.0, help="Seconds the program's own __main__ may run (default: the "
                                            "assignment file's limits.main_seconds, 20)."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="List every sandbox protection in the report."),
    pick: str = typer.Option(
        "newest", "--pick", help="Folder mode, a student folder with several candidate files: grade the newest "
                                 "(default), the last by name (name), or the first matching a pattern ('*final*')."),
    csv_bom: bool | None = typer.Option(
        None, "--csv-bom/--no-csv-bom", help="Folder mode: grades.csv with a UTF-8 byte order mark, so that Excel "
                                             "(a Chinese Windows's too) opens it as UTF-8 (default: with --lang zh)."),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the grader's version and exit."),
    watch: bool = typer.Option(
        False, "--watch", help="Grade the file again each time it is saved (a notebook too), showing what changed, "
                               "until Ctrl-C; torch stays imported, so a re-grade takes a fraction of a second. "
                               "--json FILE is rewritten after each grading."),
) -> None:
    """Grade PATH (a file, or a folder or class .zip with --out) and print a report.

    Exit 0 if every check passed, 1 if any failed, 2 if it could not be graded (or a usage error).
    A folder exits 0 once every submission has its verdict written.
    """
    if lang is None:
        lang = default_language()
    elif lang not in LANGS:
        with speaking(default_language()):
            typer.echo(t("cli.bad_lang", langs=t("common.names").join(LANGS)), err=True)
        raise typer.Exit(2)
    with speaking(lang):
        if start not in STARTS:
            _usage(t("cli.bad_start", starts=t("common.names").join(STARTS)))
        if view not in VIEWS:
            _usage(t("cli.bad_view"))
        roles = dict(b.split("=", 1) for b in bind if "=" in b)
        if len(roles) != len(bind):
            _usage(t("cli.bad_bind", bind=next(b for b in bind if "=" not in b)))
        options = Options(assignment=assignment, task=task, seed=seed, view=view, lang=lang,  # type: ignore[arg-type]
                          bind=roles, start=start, time_limit=time_limit)
        if watch:
            _watch(path, options, json_out, plots, verbose)  # until Ctrl-C
            return
        if path.is_dir() or path.suffix.lower() == ".zip":
            if json_out is not None:
                _usage(t("cli.json_with_folder", path=path, out=out or "DIR"))
            _grade_folder(path, out, options, Batch(jobs, force, quiet, gradescope, pick, csv_bom))
            return
        _grade(path, options, json_out, plots, verbose)


@dataclass(frozen=True)
class Batch:
    """The options only a folder has."""

    jobs: int
    force: bool
    quiet: bool
    gradescope: bool
    pick: str
    csv_bom: bool | None


def _usage(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _prestart(path: Path, options: Options) -> None:
    if not path.exists():
        _usage(t("cli.no_path", path=path))
    if options.assignment in load_all():  # its fork server imports torch while the grader imports the rest
        spawn.prestart(load_all()[options.assignment].framework, options.start)


def _grade(path: Path, options: Options, json_out: str | None, plots: Path | None, verbose: bool) -> None:
    _prestart(path, options)
    from .feedback import render_text
    from .grade import UsageError, grade_file
    from .plots import with_plot

    waiting = _MainNote(options) if sys.stderr.isatty() and json_out != "-" else None
    try:
        fb = grade_file(path, options, on_main=waiting.started if waiting else None)
        if plots is not None:
            fb = with_plot(fb, plots / f"{path.stem}.png")
    except UsageError as e:
        typer.echo(t("cli.usage_error", error=e), err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:  # its child is already killed (sandbox.run's finally)
        typer.echo(t("cli.interrupted_one", path=path), err=True)
        raise typer.Exit(130) from None
    finally:
        if waiting is not None:
            waiting.done()
    if json_out is not None:
        _write_json(fb, json_out)
    if json_out != "-":
        typer.echo(render_text(fb, verbose=verbose))
    raise typer.Exit(0 if fb.all_passed else 2 if fb.status == "error" else 1)


class _MainNote:
    """On a terminal, a line on stderr while the program's own `__main__` runs for long (a training loop of
    many epochs), erased when the grading ends."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.timer: threading.Timer | None = None
        self.shown = False
        self.lock = threading.Lock()

    def started(self, limit: float) -> None:
        with self.lock:
            self.timer = threading.Timer(LONG_MAIN_SECONDS, self._show, args=(limit,))
            self.timer.daemon = True
            self.timer.start()

    def _show(self, limit: float) -> None:
        with self.lock, speaking(self.options.lang):
            self.shown = True
            sys.stderr.write(t("cli.main_running", seconds=LONG_MAIN_SECONDS, limit=limit))
            sys.stderr.flush()

    def done(self) -> None:
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
            if self.shown:
                sys.stderr.write("\r\033[K")
                sys.stderr.flush()


def _watch(path: Path, options: Options, json_out: str | None, plots: Path | None, verbose: bool) -> None:
    """`grade FILE --watch`: until Ctrl-C (exit 130), or a usage error in the first grading (exit 2)."""
    if path.is_dir() or path.suffix.lower() == ".zip":
        _usage(t("cli.watch_folder", path=path))
    from .grade import UsageError, choose_ids
    from .watch import Unwatchable, watch

    try:
        choose_ids(options.assignment, options.task)
        _prestart(path, options)
        watch(path, options, json_out, plots, verbose)
    except UsageError as e:
        _usage(t("cli.usage_error", error=e))
    except Unwatchable as e:
        _usage(t("cli.unwatchable", path=path, error=e))
    except KeyboardInterrupt:  # a running child is already killed (sandbox.run's finally)
        typer.echo(t("cli.watch_stopped", path=path), err=True)
        raise typer.Exit(130) from None


def _grade_folder(folder: Path, out: Path | None, options: Options, b: Batch) -> None:
    _prestart(folder, options)
    if out is None:
        _usage(t("cli.needs_out", folder=folder))
    from . import batch
    from .grade import UsageError, choose_ids

    try:
        choose_ids(options.assignment, options.task)
    except UsageError as e:
        typer.echo(t("cli.usage_error", error=e), err=True)
        raise typer.Exit(2) from None
    show = not b.quiet and sys.stderr.isatty()
    try:
        batch.grade_folder(folder, out, options, b.jobs, b.force, _progress_bar() if show else None, b.gradescope,
                           pick=b.pick, csv_bom=b.csv_bom)
    except batch.Interrupted as e:
        if show:
            sys.stderr.write("\n")
        typer.echo(t("cli.interrupted", done=e.done, total=e.total, out=out), err=True)
        raise typer.Exit(130) from None
    if show:
        sys.stderr.write("\n")
    # the summary as the batch wrote it: with what it skipped and why
    typer.echo(batch.render_summary(json.loads((out / "summary.json").read_text(encoding="utf-8"))))
    typer.echo(t("cli.results", out=out))


def _progress_bar(width: int = 24) -> Callable[[int, int], None]:
    """A bar with the rate and ETA on stderr, redrawn in place; its first call sets where counting starts
    (the verdicts a rerun kept), so the rate and ETA are those of this run's grading."""
    base: list[float] = []

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if not base:
            base.extend((done, now))
        rate = (done - base[0]) / max(now - base[1], 1e-6)
        eta = t("cli.eta", seconds=(total - done) / rate) if rate else t("cli.eta_unknown")
        filled = width * done // max(total, 1)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write("\r" + t("cli.progress", bar=bar, done=done, total=total, rate=rate, eta=eta))
        sys.stderr.flush()

    return progress
