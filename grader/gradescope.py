"""Gradescope's autograder results.json, modelled on its documented format and built from our feedback.

The format (gradescope-autograders.readthedocs.io, "Autograder Specifications"): a top-level
`score`, `execution_time`, `output` and formats, `visibility`, `stdout_visibility`, `extra_data`
and `tests`, each test with `name`, `score`, `max_score`, `status`, `output`, `visibility`...
Every field we write is declared here and nothing else passes (`extra="forbid"`), so a typo or
an undocumented key fails before Gradescope silently ignores it.

Formats are pinned to "text": the top-level output defaults to "simple_format", which renders
HTML, and our messages quote what a submission raised or is called.
"""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .feedback import Feedback
from .i18n import speaking, t

Visibility = Literal["hidden", "after_due_date", "after_published", "visible"]
Format = Literal["text", "html", "simple_format", "md", "ansi"]


class GradescopeTest(BaseModel):
    """One test case: we write one per check."""

    model_config = ConfigDict(extra="forbid")

    name: str
    score: float = Field(ge=0)
    max_score: float = Field(ge=0)
    status: Literal["passed", "failed"]
    output: str = ""
    output_format: Format = "text"
    name_format: Format = "text"
    number: str | None = None
    tags: list[str] | None = None
    visibility: Visibility = "visible"
    extra_data: dict[str, Any] | None = None


class GradescopeResults(BaseModel):
    """The whole results.json (the leaderboard is not modelled: we never write one)."""

    model_config = ConfigDict(extra="forbid")

    score: float = Field(ge=0)
    execution_time: float | None = Field(default=None, ge=0)
    output: str = ""
    output_format: Format = "text"
    test_output_format: Format = "text"
    test_name_format: Format = "text"
    visibility: Visibility | None = None
    stdout_visibility: Visibility = "hidden"  # stdout carries the instructor's view: never for students
    extra_data: dict[str, Any] | None = None
    tests: list[GradescopeTest] = []

    @model_validator(mode="after")
    def _score_is_the_tests_total(self) -> GradescopeResults:
        """A top-level score overrides the tests' total on Gradescope: ours must never disagree with it."""
        if self.tests and not math.isclose(self.score, sum(x.score for x in self.tests), abs_tol=1e-6):
            raise ValueError(f"score {self.score} is not the tests' total {sum(x.score for x in self.tests)}")
        return self

    def to_json(self) -> str:
        return self.model_dump_json(indent=2, exclude_none=True) + "\n"


def results(fb: Feedback) -> GradescopeResults:
    """Gradescope's results for one verdict, in its language; the student view only (hidden cases counted,
    never shown): a verdict with case details is refused."""
    if any(c.cases is not None for c in fb.checks):
        raise ValueError("a Gradescope result is the student view: pass fb.for_view('student')")
    with speaking(fb.lang):
        tests = [GradescopeTest(
            name=c.id, score=c.score, max_score=c.max_score,
            status="passed" if c.status in ("pass", "skipped") and c.score >= c.max_score else "failed",
            output="\n".join([c.message, *(t("feedback.hint", hint=h) for h in c.hints
                                           if c.status in ("fail", "error"))]))
            for c in fb.checks]
        lines = [t("feedback.heading", submission=fb.submission, assignment=fb.assignment or "?")
                 + (t("feedback.heading_task", task=fb.task) if fb.task else "")] if fb.submission else []
        if fb.detected:
            lines.append(t("feedback.detected", detected=fb.detected))
        if fb.status == "error":
            lines.append(t("feedback.not_graded", error=fb.error))
        lines.extend(t("feedback.note", note=n) for n in fb.notes)
    return GradescopeResults(score=fb.score, execution_time=fb.seconds, output="\n".join(lines), tests=tests,
                             extra_data={"assignment": fb.assignment, "task": fb.task, "status": fb.status})
