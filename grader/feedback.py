"""The feedback a student or instructor gets: pydantic models (the JSON contract) and a text report."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

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


class Curve(BaseModel):
    """The given case's training loss per round: the submission's, and the reference's from the same start."""

    student: list[float]
    reference: list[float]
    step: float


class Feedback(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = 1
    view: Literal["student", "instructor"] = "student"
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
    curve: Curve | None = None
    plot: str | None = None  # the PNG of `curve`, when one was drawn (--plots, and always in a batch)
    seconds: float = 0.0

    def for_view(self, view: str) -> Feedback:
        """The student's view drops every case's numbers: hidden ones must never reach a student."""
        if view == "instructor":
            return self.model_copy(update={"view": "instructor"})
        return self.model_copy(update={"view": "student",
                                       "checks": [c.model_copy(update={"cases": None}) for c in self.checks]})

    @property
    def all_passed(self) -> bool:
        return self.status == "graded" and all(c.status in ("pass", "skipped") for c in self.checks) \
            and self.score >= self.max_score


def error_feedback(submission: str, reason: str, assignment: str | None = None, task: str | None = None,
                   max_score: float = 0.0, notes: list[str] | None = None) -> Feedback:
    return Feedback(submission=submission, assignment=assignment, task=task, status="error", score=0,
                    max_score=max_score, error=reason, notes=notes or [])


_MARK = {"pass": "PASS", "fail": "FAIL", "error": "ERROR", "skipped": "SKIP"}


def _points(v: float) -> str:
    return f"{v:g}"


def render_text(fb: Feedback) -> str:
    """The terminal report: a heading, a table (check, status, points, message), hints, notes."""
    lines = [f"{fb.submission}: {fb.assignment or '?'}" + (f" / task {fb.task}" if fb.task else "")]
    if fb.detected:
        lines.append(f"  detected: {fb.detected}")
    if fb.status == "error":
        lines.append(f"  could not be graded: {fb.error}")
    if fb.checks:
        width = max(len(c.id) for c in fb.checks)
        lines.append("")
        lines.append(f"  {'check':<{width}}  {'status':<6}  {'points':>9}  message")
        for c in fb.checks:
            points = f"{_points(c.score)}/{_points(c.max_score)}"
            msg = c.message.splitlines() or [""]
            lines.append(f"  {c.id:<{width}}  {_MARK[c.status]:<6}  {points:>9}  {msg[0]}")
            pad = " " * (width + 23)
            lines.extend(f"{pad}{m}" for m in msg[1:])
            if c.status in ("fail", "error"):
                lines.extend(f"{pad}hint: {h}" for h in c.hints)
    for note in fb.notes:
        lines.append(f"  note: {note}")
    if fb.protections:
        lines.append(f"  sandbox: {', '.join(fb.protections)}")
    lines.append("")
    lines.append(f"  score: {_points(fb.score)}/{_points(fb.max_score)}")
    return "\n".join(lines)


def gradescope(fb: Feedback) -> dict[str, object]:
    """Gradescope's autograder results.json for one submission, so courses there can upload our verdicts."""
    tests: list[dict[str, object]] = [
        {"name": c.id, "score": c.score, "max_score": c.max_score,
         "status": "passed" if c.status in ("pass", "skipped") and c.score >= c.max_score else "failed",
         "output": "\n".join([c.message, *(f"hint: {h}" for h in c.hints if c.status in ("fail", "error"))]),
         "visibility": "visible"}
        for c in fb.checks
    ]
    output = f"could not be graded: {fb.error}" if fb.status == "error" else "\n".join(fb.notes)
    return {"score": fb.score, "max_score": fb.max_score, "execution_time": fb.seconds, "output": output,
            "tests": tests}
