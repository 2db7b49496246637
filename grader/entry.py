"""The `grade` command's first step: `grade bundle ...` goes to grader/bundle.py (`grade ./bundle` grades
a path named bundle); otherwise, with `--assignment`, its fork server starts importing torch (~3 s)
before the rest of the grader is imported (~0.3 s); then the command line (cli.py) runs.

Only a head start: whatever this guesses wrong, the command line decides and starts what it needs.
"""

from __future__ import annotations

import re
import sys
import tomllib

from . import ASSIGNMENTS_DIR


def main() -> None:
    if sys.argv[1:2] == ["bundle"]:  # `grade bundle ...` before `grade PATH`: ./bundle grades a path so named
        from .bundle import main as bundle

        bundle(sys.argv[2:])
        return
    framework = _framework(sys.argv[1:])
    if framework is not None:
        from . import sandbox

        sandbox.prestart(framework)
    from .cli import app

    app()


def _framework(args: list[str]) -> str | None:
    """The framework of `--assignment ID` (or `-a ID`, `--assignment=ID`) unless `--start fresh`; else None."""
    if "fresh" in _values(args, "--start", "--start"):
        return None
    ids = _values(args, "--assignment", "-a")
    if len(ids) != 1 or not re.fullmatch(r"[a-z0-9][a-z0-9-]*", ids[0]):
        return None
    try:
        with (ASSIGNMENTS_DIR / f"{ids[0]}.toml").open("rb") as f:
            framework = tomllib.load(f).get("framework")
    except (OSError, tomllib.TOMLDecodeError):
        return None
    return framework if isinstance(framework, str) else None


def _values(args: list[str], long: str, short: str) -> list[str]:
    out = []
    for i, arg in enumerate(args):
        if arg in (long, short) and i + 1 < len(args):
            out.append(args[i + 1])
        elif arg.startswith(long + "="):
            out.append(arg.split("=", 1)[1])
    return out
