"""`grade bundle`: the zip Gradescope's autograder upload takes, and (`--run`) what its run_autograder runs.

The zip holds `setup.sh` (Python, the pinned CPU torch, then the grader from the wheel beside it),
`run_autograder` (calls `grade bundle --run` with the assignment, task and language fixed at bundle
time) and that wheel, built from the grader that made the bundle (grader/wheel.py). The scripts are
templates in grader/templates/, filled here.
"""

from __future__ import annotations

import re
import shlex
import zipfile
from pathlib import Path

import typer

from .gradescope import GradescopeResults
from .i18n import LANGS, default_language, speaking, t

TORCH = "torch==2.13.0"  # the pin the README installs: pip then takes the CPU build
TEMPLATES = Path(__file__).resolve().with_name("templates")
EXECUTABLE, READABLE = 0o100755 << 16, 0o100644 << 16  # zip entries' modes: Gradescope runs the scripts as they are

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Write a Gradescope autograder zip: setup.sh, run_autograder and the grader's wheel.")


def main(args: list[str]) -> None:
    """`grade bundle ARGS`: a file or folder named `bundle` is graded as `grade ./bundle`; say so."""
    if Path("bundle").exists():
        with speaking(default_language()):
            typer.echo(t("bundle.path_named_bundle"), err=True)
    app(args=args, prog_name="grade bundle")


@app.command()
def bundle(
    assignment: str = typer.Option(..., "--assignment", "-a", help="Assignment id the autograder grades."),
    task: str | None = typer.Option(
        None, "--task", "-t", help="Task of the assignment; detected from each submission if omitted."),
    lang: str | None = typer.Option(
        None, "--lang", help="Language of what students read on Gradescope: en or zh (default: from the locale)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="The zip to write, e.g. autograder.zip."),
    run: bool = typer.Option(
        False, "--run", help="What run_autograder calls: grade the one .py/.ipynb under $AUTOGRADER_ROOT/submission/ "
                             "(default /autograder) and write $AUTOGRADER_ROOT/results/results.json."),
) -> None:
    """Write the autograder zip (exit 0), or with --run grade a Gradescope submission; 2 on a usage error."""
    lang = lang or default_language()
    with speaking(lang if lang in LANGS else default_language()):
        problem = _usage_problem(assignment, task, lang, out, run)
        if problem:
            typer.echo(problem, err=True)
            raise typer.Exit(2)
        if run:
            from .autograder import autograde, root

            autograde(root(), assignment, task, lang)
            return
        assert out is not None
        size = write_bundle(out, assignment, task, lang)
        typer.echo(t("bundle.written", out=out, what=_what(assignment, task, lang), size=size / 1024))


def _usage_problem(assignment: str, task: str | None, lang: str, out: Path | None, run: bool) -> str | None:
    """The one line a wrong command line gets, or None."""
    from .grade import UsageError, choose_ids

    if lang not in LANGS:
        return t("cli.bad_lang", langs=t("common.names").join(LANGS))
    try:
        choose_ids(assignment, task)
    except UsageError as e:
        return t("cli.usage_error", error=e)
    if run == (out is not None):
        return t("cli.usage_error", error=t("bundle.out_or_run"))
    if out is not None and out.suffix.lower() != ".zip":
        return t("cli.usage_error", error=t("bundle.not_zip", out=out))
    return None


def _what(assignment: str, task: str | None, lang: str) -> str:
    return t("bundle.what", assignment=assignment, task=task or t("bundle.task_detected"), lang=lang)


def fill(template: str, values: dict[str, str]) -> str:
    """Replace each @name@ of a template; a placeholder left over is a bug here, not in the template."""
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    left = re.findall(r"@[a-z_]+@", template)
    if left:
        raise KeyError(f"unfilled placeholders: {left}")
    return template


def scripts(assignment: str, task: str | None, lang: str, wheel: str) -> dict[str, str]:
    """setup.sh and run_autograder for this assignment, task and language."""
    args = ["--assignment", assignment, *(["--task", task] if task else []), "--lang", lang]
    with speaking(lang):
        fallback = GradescopeResults(score=0, output=t("bundle.not_started")).to_json().rstrip("\n")
        what = _what(assignment, task, lang)
    return {
        "setup.sh": fill((TEMPLATES / "setup.sh").read_text(encoding="utf-8"), {"torch": TORCH, "wheel": wheel}),
        "run_autograder": fill((TEMPLATES / "run_autograder").read_text(encoding="utf-8"),
                               {"args": shlex.join(args), "what": what, "fallback": fallback}),
    }


def write_bundle(out: Path, assignment: str, task: str | None, lang: str) -> int:
    """Write the zip (its files at the root, as Gradescope wants them); its size in bytes."""
    from . import wheel

    wheel_name, wheel_bytes = wheel.build()
    files = {name: (text.encode("utf-8"), EXECUTABLE)
             for name, text in scripts(assignment, task, lang, wheel_name).items()}
    files[wheel_name] = (wheel_bytes, READABLE)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            for name, (data, mode) in files.items():
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = mode
                z.writestr(info, data, zipfile.ZIP_DEFLATED)
        tmp.replace(out)  # a zip half written is never left under the name the instructor uploads
    finally:
        tmp.unlink(missing_ok=True)
    return out.stat().st_size
