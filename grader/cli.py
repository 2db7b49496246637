"""`grade`: the command line (SPEC §3). Thin: parsing, exit codes and output only."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from .feedback import Feedback, render_text
from .grade import UsageError, grade_file

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
    assignment: Optional[str] = typer.Option(
        None, "--assignment", "-a",
        help="Assignment id (linear, quadratic, bp-numpy, bp-torch); detected from the file's functions if omitted."),
    task: Optional[str] = typer.Option(
        None, "--task", "-t", help="Task of the assignment (e.g. relu for bp-torch); detected from the code if omitted."),
    json_out: Optional[str] = typer.Option(
        None, "--json", help="Also write the feedback JSON to this file; '-' prints only the JSON on stdout."),
    seed: Optional[int] = typer.Option(
        None, "--seed", help="Seed for the hidden randomized cases (instructors: keep yours private)."),
) -> None:
    """Grade PATH and print a report; exit 0 if every check passed, 1 if any failed, 2 if it could not be graded."""
    if not path.exists():
        typer.echo(f"grade: {path} does not exist", err=True)
        raise typer.Exit(2)
    if path.is_dir():
        typer.echo(f"grade: {path} is a folder; batch grading needs --assignment and --out", err=True)
        raise typer.Exit(2)
    try:
        fb = grade_file(path, assignment, task, seed)
    except UsageError as e:
        typer.echo(f"grade: {e}", err=True)
        raise typer.Exit(2) from None
    if json_out is not None:
        _write_json(fb, json_out)
    if json_out != "-":
        typer.echo(render_text(fb))
    raise typer.Exit(0 if fb.all_passed else 2 if fb.status == "error" else 1)


def main() -> None:
    app()
