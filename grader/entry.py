"""The `grade` command: `grade bundle ...` goes to grader/bundle.py (`grade ./bundle` grades a path named
bundle); everything else to the command line (cli.py), which starts the assignment's fork server as soon
as it has parsed the options, before it imports the rest of the grader."""

from __future__ import annotations

import sys

from .console import tolerant_console


def main() -> None:
    tolerant_console()  # a GBK console gets a report with - for −, never a UnicodeEncodeError
    if sys.argv[1:2] == ["bundle"]:  # `grade bundle ...` before `grade PATH`: ./bundle grades a path so named
        from .bundle import main as bundle

        bundle(sys.argv[2:])
        return
    from .cli import app

    app()
