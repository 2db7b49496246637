"""The feedback a student or instructor gets: pydantic models (the JSON contract) and a text report."""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .i18n import current, speaking, t

CheckStatus = Literal["pass", "fail", "error", "skipped"]


class HiddenTally(BaseModel):
    """How many hidden randomized cases passed; their values are never shown."""

    passed: int = Field(ge=0)
    total: int = Field(ge=0)


class CaseMismatch(BaseModel):
    name: str
    expected: float
    actual: float | None


class CaseDetail(BaseModel):
    """One case of a check, numbers included: the instructor's view only (hidden cases are secret)."""

    case: int  # 0: the homework's given case; 1..: hidden cases
    passed: bool
    inputs: dict[str, float]
    problem: str = ""
    mismatches: list[CaseMismatch] = []


class CheckResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    status: CheckStatus
    score: float = Field(ge=0)
    max_score: float = Field(ge=0)
    message: str
    hints: list[str] = []
    hidden: HiddenTally | None = None
    diagnosis: list[str] = []  # ids of known mistakes (reference/mistakes.py) the numbers match
    cases: list[CaseDetail] | None = None  # instructor view only


class Bound(BaseModel):
    """How one role was bound: the submission's function or global the grader used, and how it was called."""

    name: str
    call: str | None = None  # forward_propagate(x1, x2); none for the weights
    how: str  # why this one, in words: its name, a near spelling, what the loss calls, --bind


class Curve(BaseModel):
    """The given case's training loss per round: the submission's, and the reference's from the same start."""

    student: list[float]
    reference: list[float]
    step: float


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    view: Literal["student", "instructor"] = "student"
    lang: Literal["en", "zh"] = "en"  # the language of every message, hint and note
    submission: str
    assignment: str | None
    task: str | None
    status: Literal["graded", "error"]
    score: float = Field(ge=0)
    max_score: float = Field(ge=0)
    checks: list[CheckResult] = []
    error: str | None = None  # the one-line reason when status is "error"
    detected: str | None = None  # what was detected, and from what, when not given on the command line
    notes: list[str] = []
    protections: list[str] = []  # the sandbox layers that were active for this grading
    binding: dict[str, Bound] = {}  # role -> how it was bound (weights, forward, loss, backward, update, training)
    curve: Curve | None = None
    plot: str | None = None  # the PNG of `curve`, when one was drawn (--plots, and always in a batch)
    seed: int | None = None  # the hidden cases' seed (instructor view: reproduce with --seed)
    seconds: float = 0.0
    graded_with: str | None = None  # in a batch: digest of the options, assignment files and grader code used
    grader_fault: bool = Field(default=False, exclude=True)  # an error of the grader's: a rerun grades it again

    def for_view(self, view: str) -> Feedback:
        """The student's view drops every case's numbers: hidden ones must never reach a student."""
        if view == "instructor":
            return self.model_copy(update={"view": "instructor"})
        return self.model_copy(update={"view": "student", "seed": None,
                                       "checks": [c.model_copy(update={"cases": None}) for c in self.checks]})

    @property
    def all_passed(self) -> bool:
        return self.status == "graded" and all(c.status in ("pass", "skipped") for c in self.checks) \
            and self.score >= self.max_score


def error_feedback(submission: str, reason: str, assignment: str | None = None, task: str | None = None,
                   max_score: float = 0.0, notes: list[str] | None = None) -> Feedback:
    return Feedback(submission=submission, assignment=assignment, task=task, status="error", score=0,
                    max_score=max_score, error=reason, notes=notes or [], lang=current())


def _marks() -> dict[str, str]:
    return {"pass": t("feedback.mark.pass"), "fail": t("feedback.mark.fail"), "error": t("feedback.mark.error"),
            "skipped": t("feedback.mark.skipped")}


def _points(v: float) -> str:
    return f"{v:g}"


def _width(text: str) -> int:
    """Terminal columns: a CJK character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _left(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _right(text: str, width: int) -> str:
    return " " * (width - _width(text)) + text


def render_text(fb: Feedback, verbose: bool = False) -> str:
    """The terminal report in the feedback's language: a heading, a table (check, status, points, message),
    hints, notes, and the sandbox in a word (every protection with `verbose`)."""
    with speaking(fb.lang):
        return _render_text(fb, verbose)


def sandbox_line(protections: list[str], verbose: bool) -> str:
    """`sandbox: full`, or `partial` naming what was missing; every layer with `verbose`."""
    from .sandbox import LAYERS

    if verbose:
        return t("feedback.sandbox", layers=t("feedback.sandbox_sep").join(protections))
    missing = [p for p in protections if p in {t(gone) for _, gone in LAYERS.values()}]
    if not missing:
        return t("feedback.sandbox", layers=t("feedback.sandbox_full"))
    return t("feedback.sandbox", layers=t("feedback.sandbox_partial", missing=t("feedback.sandbox_sep").join(missing)))


def _render_text(fb: Feedback, verbose: bool) -> str:
    heading = t("feedback.heading", submission=fb.submission, assignment=fb.assignment or "?")
    lines = [heading + (t("feedback.heading_task", task=fb.task) if fb.task else "")]
    if fb.detected:
        lines.append("  " + t("feedback.detected", detected=fb.detected))
    if fb.binding:
        lines.append("  " + t("feedback.bound", roles=t("common.sep").join(
            t("feedback.bound_role", role=role, call=b.call or b.name, how=b.how) for role, b in fb.binding.items())))
    if fb.status == "error":
        lines.append("  " + t("feedback.not_graded", error=fb.error))
    if fb.checks:
        marks = _marks()
        width = max(len(c.id) for c in fb.checks)
        status_width = max(_width(s) for s in [t("feedback.column_status"), *marks.values()])
        lines.append("")
        lines.append(f"  {_left(t('feedback.column_check'), width)}  {_left(t('feedback.column_status'), status_width)}"
                     f"  {_right(t('feedback.column_points'), 9)}  {t('feedback.column_message')}")
        pad = " " * (width + status_width + 17)
        for c in fb.checks:
            points = f"{_points(c.score)}/{_points(c.max_score)}"
            msg = c.message.splitlines() or [""]
            lines.append(f"  {c.id:<{width}}  {_left(marks[c.status], status_width)}  {points:>9}  {msg[0]}")
            lines.extend(f"{pad}{m}" for m in msg[1:])
            if c.status in ("fail", "error"):
                lines.extend(pad + t("feedback.hint", hint=h) for h in c.hints)
    for note in fb.notes:
        lines.append("  " + t("feedback.note", note=note))
    if fb.protections:
        lines.append("  " + sandbox_line(fb.protections, verbose))
    lines.append("")
    lines.append("  " + t("feedback.score", score=_points(fb.score), max_score=_points(fb.max_score)))
    return "\n".join(lines)

