"""The options of one grading, from the command line to `grade_file` and `grade_folder` in one object."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

STARTS = ("fork", "fresh")
VIEWS = ("student", "instructor")


@dataclass(frozen=True)
class Options:
    assignment: str | None = None  # None: detected per file
    task: str | None = None
    seed: int | None = None  # the hidden cases' seed; None: drawn per file from the grader's secret
    view: Literal["student", "instructor"] = "student"
    lang: str = "en"
    bind: dict[str, str] = field(default_factory=dict)  # role -> the submission's name for it (--bind ROLE=NAME)
    start: str = "fork"  # how children start: fork (pre-imported server, Linux) or fresh
    time_limit: float | None = None  # seconds for the program's own `__main__` (--time-limit); None: the assignment's

    def key(self) -> tuple[object, ...]:
        """What a verdict depends on besides the file (a batch's rerun keeps only verdicts graded with the same)."""
        return (self.assignment, self.task, self.seed, self.lang, sorted(self.bind.items()), self.time_limit)
