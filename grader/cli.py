"""`grade`: the command line (SPEC §3). Thin: parsing, exit codes and output only."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

from . import sandbox
from .i18n import LANGS, default_language, speaking, t
from .options import STARTS, VIEWS, Options
from .spec import load_all

if TYPE_CHECKING:
    from .feedback import Feedback

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Grade backpropagation homework (.py or .ipynb) in a sandbox.")


def _write_json(fb: Feedback, target: str) -> None:
    text = fb.model_dump_json(indent=2)
    if target == "-":
        sys.stdout.write(text + "\n")
    else:
        Path(target).write_text(text + "\n", encoding="utf-8")


@app.command()
def grade(
    path: Path = typer.Argument(..., help="The submission to grade: a .py script or .ipynb notebook."),
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
    watch: bool = typer.Option(
        False, "--watch", help="Grade the file again each time it is saved (a notebook too), showing what changed, "
                               "until Ctrl-C; torch stays imported, so a re-grade takes a fraction of a second. "
                               "--json FILE is rewritten after each grading."),
) -> None:
    """Grade PATH (a file, or a folder with --out) and print a report.

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
                          bind=roles, start=start)
        if watch:
            _watch(path, options, json_out, plots)  # until Ctrl-C
            return
        _grade(path, options, json_out, out, jobs, force, quiet, gradescope, plots)


def _usage(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _grade(path: Path, options: Options, json_out: str | None, out: Path | None, jobs: int, force: bool,
           quiet: bool, gradescope: bool, plots: Path | None) -> None:
    if not path.exists():
        _usage(t("cli.no_path", path=path))
    if options.assignment in load_all():  # its fork server imports torch while the grader imports the rest
        sandbox.prestart(load_all()[options.assignment].framework, options.start)
    if path.is_dir():
        _grade_folder(path, out, options, jobs, force, quiet, gradescope)
        return
    from .feedback import render_text
    from .grade import UsageError, grade_file
    from .plots import with_plot

    try:
        fb = grade_file(path, options)
        if plots is not None:
            fb = with_plot(fb, plots / f"{path.stem}.png")
    except UsageError as e:
        typer.echo(t("cli.usage_error", error=e), err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:  # its child is already killed (sandbox.run's finally)
        typer.echo(t("cli.interrupted_one", path=path), err=True)
        raise typer.Exit(130) from None
    if json_out is not None:
        _write_json(fb, json_out)
    if json_out != "-":
        typer.echo(render_text(fb))
    raise typer.Exit(0 if fb.all_passed else 2 if fb.status == "error" else 1)


def _watch(path: Path, options: Options, json_out: str | None, plots: Path | None) -> None:
    """`grade FILE --watch`: until Ctrl-C (exit 130), or a usage error in the first grading (exit 2)."""
    if not path.exists():
        _usage(t("cli.no_path", path=path))
    if path.is_dir():
        _usage(t("cli.watch_folder", path=path))
    from .grade import UsageError, choose_ids
    from .watch import Unwatchable, watch

    try:
        choose_ids(options.assignment, options.task)
        if options.assignment in load_all():
            sandbox.prestart(load_all()[options.assignment].framework, options.start)
        watch(path, options, json_out, plots)
    except UsageError as e:
        _usage(t("cli.usage_error", error=e))
    except Unwatchable as e:
        _usage(t("cli.unwatchable", path=path, error=e))
    except KeyboardInterrupt:  # a running child is already killed (sandbox.run's finally)
        typer.echo(t("cli.watch_stopped", path=path), err=True)
        raise typer.Exit(130) from None


def _grade_folder(folder: Path, out: Path | None, options: Options, jobs: int, force: bool, quiet: bool,
                  gradescope: bool) -> None:
    if out is None:
        _usage(t("cli.needs_out", folder=folder))
    from . import batch
    from .grade import UsageError, choose_ids

    try:
        choose_ids(options.assignment, options.task)
    except UsageError as e:
        typer.echo(t("cli.usage_error", error=e), err=True)
        raise typer.Exit(2) from None
    show = not quiet and sys.stderr.isatty()
    try:
        results = batch.grade_folder(folder, out, options, jobs, force, _progress_bar() if show else None, gradescope)
    except batch.Interrupted as e:
        if show:
            sys.stderr.write("\n")
        typer.echo(t("cli.interrupted", done=e.done, total=e.total, out=out), err=True)
        raise typer.Exit(130) from None
    if show:
        sys.stderr.write("\n")
    typer.echo(batch.render_summary(batch.summary(results)))
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
