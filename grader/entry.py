"""The `grade` command: `grade bundle ...` goes to grader/bundle.py (`grade ./bundle` grades a path named
bundle); everything else to the command line (cli.py).

Before cli.py imports typer, pydantic and the rest of the grader (~0.3 s), `grade FILE` starts the fork
server that FILE needs, so that its imports (numpy, torch, matplotlib) overlap the grader's own: what it
needs is read off the command line and the file's import lines here, cheaply. A wrong guess costs only
time: the command line is parsed again by cli.py, the file by the grader, and the child imports itself
what its server lacks.
"""

from __future__ import annotations

import atexit
import os
import re
import sys
import threading
from pathlib import Path
from typing import NoReturn

from .console import tolerant_console

# the options of `grade` that take a value, by every name (tests/test_cli.py checks them against cli.py's)
VALUED = {"--assignment": "--assignment", "-a": "--assignment", "--task": "--task", "-t": "--task",
          "--json": "--json", "--seed": "--seed", "--out": "--out", "-o": "--out", "--jobs": "--jobs", "-j": "--jobs",
          "--plots": "--plots", "--view": "--view", "--start": "--start", "--lang": "--lang", "--bind": "--bind",
          "--time-limit": "--time-limit", "--pick": "--pick"}
# `import torch`, `from matplotlib import pyplot`, `import numpy as np, torch`: the libraries a server preloads
_IMPORTS = re.compile(rb"\b(?:import|from)\s+(?:[\w.]+(?:\s+as\s+\w+)?\s*,\s*)*(torch|matplotlib)\b")
_SUFFIXES = (".py", ".ipynb")


def main() -> None:
    tolerant_console()  # a GBK console gets a report with - for −, never a UnicodeEncodeError
    if sys.argv[1:2] == ["bundle"]:  # `grade bundle ...` before `grade PATH`: ./bundle grades a path so named
        from .bundle import main as bundle

        bundle(sys.argv[2:])
        return
    _prestart(sys.argv[1:])
    from .cli import app

    try:
        app()
    except SystemExit as e:
        _exit(e.code)


def _exit(code: object) -> NoReturn:
    """End as `sys.exit(code)` would, but without tearing the interpreter down: the output flushed and the
    atexit handlers run (they stop the fork servers) is all this process needs, while freeing the modules
    of the grader one by one takes ~0.1 s, a fifth of grading a numpy file. Where another thread that
    Python would wait for still runs, the usual exit."""
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        sys.exit(code)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`grade FILE | head`), a closed stream
            pass
    atexit._run_exitfuncs()
    os._exit(code or 0)


def _prestart(argv: list[str]) -> None:
    """Start the fork server of `grade FILE [options]`: the assignment's framework if given, else the file's
    (torch if it imports torch); with only what the file imports for one grading, everything for a watch."""
    paths, values, flags = scan(argv)
    if len(paths) != 1 or flags & {"--help", "-h", "--version"} or not paths[0].lower().endswith(_SUFFIXES):
        return
    try:
        imports = {m.decode() for m in _IMPORTS.findall(Path(paths[0]).read_bytes())}
    except OSError:
        return  # cli.py says why
    framework = _framework(values["--assignment"]) if "--assignment" in values else \
        "torch" if "torch" in imports else "numpy"
    if framework is None:
        return
    from . import spawn

    spawn.prestart(framework, values.get("--start", "fork"), None if "--watch" in flags else imports)


def scan(argv: list[str]) -> tuple[list[str], dict[str, str], set[str]]:
    """The positional arguments, the options with values (by long name, the last one given) and the flags of
    a `grade` command line, as click reads them."""
    paths: list[str] = []
    values: dict[str, str] = {}
    flags: set[str] = set()
    args = iter(argv)
    for arg in args:
        name, eq, inline = arg.partition("=")
        if arg == "--":
            paths.extend(args)
        elif arg.startswith("--") and name in VALUED and eq:
            values[VALUED[name]] = inline
        elif arg in VALUED:
            values[VALUED[arg]] = next(args, "")
        elif arg[:2] in VALUED and not arg.startswith("--"):  # -abp-torch
            values[VALUED[arg[:2]]] = arg[2:]
        elif arg.startswith("-") and arg != "-":
            flags.add(arg)
        else:
            paths.append(arg)
    return paths, values, flags


def _framework(assignment: str) -> str | None:
    """An assignment's framework, read from its file without the grader's models (None: no such assignment)."""
    import tomllib

    from . import ASSIGNMENTS_DIR

    if not re.fullmatch(r"[\w-]+", assignment):
        return None
    try:
        framework = tomllib.loads((ASSIGNMENTS_DIR / f"{assignment}.toml").read_text(encoding="utf-8"))["framework"]
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError):
        return None
    return framework if isinstance(framework, str) else None
