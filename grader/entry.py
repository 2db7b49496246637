"""The `grade` command: the command line (cli.py), which starts the assignment's fork server as soon as it
has parsed the options, before it imports the rest of the grader."""

from __future__ import annotations


def main() -> None:
    from .cli import app

    app()
