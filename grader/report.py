"""The class report of a batch: one self-contained HTML file (inline CSS, JS and SVG; nothing fetched).

A sortable, filterable table of the submissions (score, status, each check), the score histogram,
the pass rate per check, the most common failures and diagnosed mistakes with who has them, and
a panel (a <dialog>) per submission with every check's message, hints and the loss curve, all in
the batch's language. Everything that comes from a submission (its name, messages quoting what it
raised, notes) is escaped; the page's Content-Security-Policy also lets only its own script run
(by hash) and nothing load, so a missed escape still could not run code or reach the network.
The page skeleton, style and script are data in grader/templates/.
"""

from __future__ import annotations

import base64
import hashlib
import math
import re
import string
from collections import defaultdict
from collections.abc import Iterable
from html import escape
from pathlib import Path, PurePosixPath

from reference.mistakes import MISTAKES

from .feedback import CheckResult, Curve, Feedback, _marks, _points
from .i18n import current, speaking, t
from .plots import _ticks
from .spec import CHECK_IDS

TEMPLATES = Path(__file__).resolve().with_name("templates")
SHOWN_GROUPS = 12  # failures listed before "and N more"
STATUS_RANK = {"error": 0, "fail": 1, "pass": 2}  # the status column sorts worst first


def render(results: dict[str, Feedback], summary: dict[str, object], lang: str) -> str:
    """The report of a batch's verdicts (key -> feedback, in the batch's order) and its summary (batch.summary)."""
    with speaking(lang):
        fbs = list(results.values())
        checks = [c for c in CHECK_IDS if any(x.id == c for fb in fbs for x in fb.checks)]
        assignments = sorted({fb.assignment for fb in fbs if fb.assignment})
        script = (TEMPLATES / "report.js").read_text(encoding="utf-8")
        page = string.Template((TEMPLATES / "report.html").read_text(encoding="utf-8"))
        return page.substitute(
            lang="zh-Hans" if lang == "zh" else "en",
            title=escape(t("report.title", what=t("common.names").join(assignments) or "-")),
            script_hash=base64.b64encode(hashlib.sha256(script.encode()).digest()).decode(),
            style=(TEMPLATES / "report.css").read_text(encoding="utf-8"),
            script=script,
            noscript=escape(t("report.noscript")),
            overview=_overview(summary),
            histogram=_histogram(fbs),
            pass_rates=_pass_rates(fbs, checks, summary),
            failures=_failures(fbs),
            diagnoses=_diagnoses(fbs),
            students=_students(fbs, checks),
            panels="\n".join(_panel(i, fb) for i, fb in enumerate(fbs)),
        )


def _status(fb: Feedback) -> str:
    return "error" if fb.status == "error" else "pass" if fb.all_passed else "fail"


def _status_labels() -> dict[str, str]:
    return {"pass": t("report.status_pass"), "fail": t("report.status_fail"), "error": t("report.status_error")}


def _link(i: int, fb: Feedback) -> str:
    """A link that opens submission i's panel; panel ids are indices, never derived from a submission."""
    return f'<a class="open" href="#s{i}">{escape(fb.submission or "-")}</a>'


def _who(indices: list[int], fbs: list[Feedback]) -> str:
    links = ", ".join(_link(i, fbs[i]) for i in indices)
    return f'<details class="who"><summary>{escape(t("report.who", count=len(indices)))}</summary>{links}</details>'


def _overview(summary: dict[str, object]) -> str:
    lines = [t("batch.counts", count=summary["count"], graded=summary["graded"], errors=summary["errors"])]
    if summary["mean_fraction"] is not None:
        lines.append(t("batch.scores", mean=summary["mean_fraction"], median=summary["median_fraction"]))
    html = "".join(f"<p>{escape(line)}</p>" for line in lines)
    skipped = summary.get("skipped") or []
    assert isinstance(skipped, list)
    if skipped:
        items = "".join(f"<li><code>{escape(x['name'])}</code>: {escape(x['why'])}</li>" for x in skipped)
        html += (f'<details class="skipped"><summary>{escape(t("batch.skipped", count=len(skipped)))}</summary>'
                 f"<ul>{items}</ul></details>")
    return html


def _histogram(fbs: list[Feedback]) -> str:
    """Scores as a fraction of the maximum, one bar per tenth (full marks in the last), as inline SVG."""
    fractions = [fb.score / fb.max_score for fb in fbs if fb.status == "graded" and fb.max_score]
    counts = [0] * 10
    for f in fractions:
        counts[min(9, max(0, int(f * 10)))] += 1
    w, h, left, right, top, bottom = 560, 240, 44, 12, 12, 40
    ticks = _ticks(0, max(counts + [1]))
    ticks = [v for v in ticks if v == int(v)]
    hi = ticks[-1] or 1

    def y(v: float) -> float:
        return top + (hi - v) / hi * (h - top - bottom)

    def x(fraction: float) -> float:
        return left + fraction * (w - left - right)

    parts = [f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" '
             f'aria-label="{escape(t("report.histogram", count=len(fractions)))}">']
    for v in ticks:
        parts.append(f'<line class="grid" x1="{left}" x2="{w - right}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                     f'<text class="r" x="{left - 6}" y="{y(v) + 4:.1f}">{v:g}</text>')
    for i, n in enumerate(counts):
        if n:
            parts.append(f'<rect class="bar" x="{x(i / 10) + 2:.1f}" y="{y(n):.1f}" width="{x(0.1) - left - 4:.1f}" '
                         f'height="{y(0) - y(n):.1f}"><title>{i * 10}-{(i + 1) * 10}%: {n}</title></rect>'
                         f'<text class="m" x="{x((i + 0.5) / 10):.1f}" y="{y(n) - 3:.1f}">{n}</text>')
    for i in range(0, 11, 2):
        parts.append(f'<text class="m" x="{x(i / 10):.1f}" y="{h - bottom + 16}">{i / 10:g}</text>')
    parts.append(f'<text class="m" x="{(left + w - right) / 2}" y="{h - 6}">'
                 f'{escape(t("report.axis_fraction"))}</text>'
                 f'<line class="axis" x1="{left}" x2="{w - right}" y1="{y(0):.1f}" y2="{y(0):.1f}"/></svg>')
    return f'<h2>{escape(t("report.histogram", count=len(fractions)))}</h2>' + "".join(parts)


def _pass_rates(fbs: list[Feedback], checks: list[str], summary: dict[str, object]) -> str:
    rates = summary["pass_rate"]
    assert isinstance(rates, dict)
    rows = []
    for check in checks:
        if check not in rates:
            continue
        judged = [c for fb in fbs if fb.status == "graded" for c in fb.checks if c.id == check and c.max_score > 0]
        passed = sum(c.status == "pass" for c in judged)
        rate = rates[check]
        rows.append(f'<tr><th scope="row">{check}</th><td class="rate"><span class="meter">'
                    f'<span style="width:{rate:.1%}"></span></span> {rate:.0%}</td>'
                    f'<td>{escape(t("report.judged", passed=passed, judged=len(judged)))}</td></tr>')
    body = "".join(rows) or f'<tr><td>{escape(t("report.none"))}</td></tr>'
    return f'<h2>{escape(t("report.pass_rates"))}</h2><table class="rates">{body}</table>'


def _grouped(title: str, groups: dict[tuple[str, str], list[int]], fbs: list[Feedback]) -> str:
    """A list of (label, text) groups, most frequent first, each with its count and who."""
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    items = [f'<li><span class="count">{len(who)}</span> <code>{escape(label)}</code> {escape(text)}'
             f'{_who(who, fbs)}</li>' for (label, text), who in ranked[:SHOWN_GROUPS]]
    if len(ranked) > SHOWN_GROUPS:
        items.append(f'<li class="more">{escape(t("report.more", count=len(ranked) - SHOWN_GROUPS))}</li>')
    body = f'<ol class="groups">{"".join(items)}</ol>' if items else f'<p>{escape(t("report.none"))}</p>'
    return f"<h2>{escape(title)}</h2>{body}"


NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?(?![\w.])", re.IGNORECASE)


def failure_groups(fbs: list[Feedback]) -> dict[tuple[str, str], list[int]]:
    """Failing checks grouped by check and known mistake (its name), else by the first line of the message with
    its numbers and the file's own name left out ("d_w1: expected #, got #"), so that two students with one
    mistake are one group; and why the ungradable were not graded. -> the indices of who is in each."""
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for i, fb in enumerate(fbs):
        if fb.status == "error":
            groups[("-", _general(t("batch.not_graded", error=fb.error), fb))].append(i)
        for c in fb.checks:
            if c.status not in ("fail", "error"):
                continue
            text = t("common.names").join(_mistake(d) for d in c.diagnosis) if c.diagnosis \
                else _general((c.message.splitlines() or [""])[0], fb)
            groups[(c.id, text)].append(i)
    return groups


def _failures(fbs: list[Feedback]) -> str:
    return _grouped(t("report.failures"), failure_groups(fbs), fbs)


def _general(text: str, fb: Feedback) -> str:
    """A message as a group's label: the file's own name ("hw3.ipynb is a corrupted notebook") and the numbers
    ("expected -0.008421, got 0.01458") left out, so the same mistake of two files is one group."""
    name = PurePosixPath(fb.submission).name
    text = text.replace(name, "…") if name else text
    return NUMBER.sub("#", text)


def _diagnoses(fbs: list[Feedback]) -> str:
    """Each diagnosed mistake once, labelled with the checks that showed it, and who made it."""
    who: dict[str, list[int]] = defaultdict(list)
    seen_in: dict[str, list[str]] = defaultdict(list)
    for i, fb in enumerate(fbs):
        for c in fb.checks:
            for d in c.diagnosis:
                if not who[d] or who[d][-1] != i:
                    who[d].append(i)
                if c.id not in seen_in[d]:
                    seen_in[d].append(c.id)
    groups = {(t("common.names").join(sorted(seen_in[d], key=CHECK_IDS.index)), _mistake(d)): ids
              for d, ids in who.items()}
    return _grouped(t("report.diagnoses"), groups, fbs)


def _mistake(mistake_id: str) -> str:
    m = MISTAKES.get(mistake_id)
    return m.text[current()].name if m is not None else mistake_id


def _students(fbs: list[Feedback], checks: list[str]) -> str:
    labels = _status_labels()
    options = "".join(f'<option value="{k}">{escape(v)}</option>' for k, v in labels.items())
    check_options = "".join(f'<option value="{c}">{escape(t("report.failing", check=c))}</option>' for c in checks)
    controls = (
        f'<div class="controls"><input id="q" type="search" placeholder="{escape(t("report.filter"))}" '
        f'aria-label="{escape(t("report.filter"))}">'
        f'<select id="status" aria-label="{escape(t("report.col_status"))}">'
        f'<option value="">{escape(t("report.any_status"))}</option>{options}</select>'
        f'<select id="check" aria-label="{escape(t("report.any_check"))}">'
        f'<option value="">{escape(t("report.any_check"))}</option>{check_options}</select>'
        f'<output id="shown" data-template="{escape(t("report.shown", shown="{shown}", total="{total}"))}">'
        f'{escape(t("report.shown", shown=len(fbs), total=len(fbs)))}</output></div>')
    heads = [("text", t("report.col_submission")), ("text", t("report.col_task")), ("num", t("report.col_status")),
             ("num", t("report.col_score"))] + [("num", c) for c in checks]
    head = "".join(f'<th data-type="{kind}" aria-sort="none"><button type="button" title="{escape(t("report.sort"))}">'
                   f'{escape(label)}</button></th>' for kind, label in heads)
    rows = "\n".join(_row(i, fb, checks, labels) for i, fb in enumerate(fbs))
    return (f'<h2>{escape(t("report.students"))}</h2>{controls}<div class="scroll"><table id="students">'
            f'<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>')


def _row(i: int, fb: Feedback, checks: list[str], labels: dict[str, str]) -> str:
    status = _status(fb)
    by_id = {c.id: c for c in fb.checks}
    failing = " ".join(c.id for c in fb.checks if c.status in ("fail", "error"))
    text = f"{fb.submission} {fb.task or ''}".lower()
    cells = [f'<td data-v="{escape(fb.submission)}">{_link(i, fb)}</td>',
             f'<td data-v="{escape(fb.task or "")}">{escape(fb.task or "")}</td>',
             f'<td data-v="{STATUS_RANK[status]}"><span class="st {status}">{escape(labels[status])}</span></td>',
             f'<td class="num" data-v="{fb.score:g}">{_points(fb.score)}/{_points(fb.max_score)}</td>']
    for check in checks:
        c = by_id.get(check)
        if c is None:
            cells.append('<td class="c" data-v="-1"></td>')
        else:
            points = f"{_points(c.score)}/{_points(c.max_score)}"
            cells.append(f'<td class="c {c.status}" data-v="{c.score:g}">{points}</td>')
    return (f'<tr data-status="{status}" data-fails="{failing}" data-text="{escape(text)}">'
            f'{"".join(cells)}</tr>')


def _panel(i: int, fb: Feedback) -> str:
    """One submission's dialog: its heading, every check with message and hints, notes, the loss curve."""
    heading = t("feedback.heading", submission=fb.submission, assignment=fb.assignment or "?") \
        + (t("feedback.heading_task", task=fb.task) if fb.task else "")
    meta = [t("feedback.score", score=_points(fb.score), max_score=_points(fb.max_score)),
            _status_labels()[_status(fb)], t("report.seconds", seconds=fb.seconds)]
    parts = [f'<dialog id="s{i}" aria-labelledby="s{i}-h"><div class="panel">',
             f'<form method="dialog"><button class="close">{escape(t("report.close"))}</button></form>',
             f'<h2 id="s{i}-h">{escape(heading)}</h2><p class="meta">{escape(" · ".join(meta))}</p>']
    if fb.detected:
        parts.append(f'<p>{escape(t("feedback.detected", detected=fb.detected))}</p>')
    if fb.error:
        parts.append(f'<p class="error">{escape(t("feedback.not_graded", error=fb.error))}</p>')
    if fb.checks:
        parts.append(_checks(fb.checks))
    if fb.notes:
        parts.append(f'<ul class="notes">{_items(t("feedback.note", note=n) for n in fb.notes)}</ul>')
    if fb.curve is not None:
        parts.append(_curve(fb.curve))
    elif fb.status == "graded":
        parts.append(f'<p class="muted">{escape(t("report.curve_none"))}</p>')
    parts.append("</div></dialog>")
    return "".join(parts)


def _items(texts: Iterable[str]) -> str:
    return "".join(f"<li>{escape(x)}</li>" for x in texts)


def _checks(checks: list[CheckResult]) -> str:
    """Every check: its mark, points, message (a diagnosis is in it, named and explained) and, failed, its hints."""
    marks = _marks()
    head = "".join(f"<th>{escape(x)}</th>" for x in (t("feedback.column_check"), t("feedback.column_status"),
                                                      t("feedback.column_points"), t("feedback.column_message")))
    rows = []
    for c in checks:
        hints = c.hints if c.status in ("fail", "error") else []
        extra = f'<ul class="hints">{_items(t("feedback.hint", hint=h) for h in hints)}</ul>' if hints else ""
        rows.append(f'<tr class="{c.status}"><th scope="row">{c.id}</th><td><span class="st {c.status}">'
                    f'{escape(marks[c.status])}</span></td><td class="num">{_points(c.score)}/{_points(c.max_score)}'
                    f'</td><td><div class="msg">{escape(c.message)}</div>{extra}</td></tr>')
    return f'<table class="checks"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _curve(curve: Curve) -> str:
    """The given case's loss round by round, the reference's drawn thick beneath the submission's, as SVG.
    Whole-unit coordinates and the dots as CSS markers (the page's MARKERS): ~1 KiB a submission."""
    w, h, left, right, top, bottom = 560, 260, 64, 12, 34, 40
    values = [v for v in curve.student + curve.reference if math.isfinite(v)] or [0.0]
    ticks = _ticks(min(values), max(values), count=4)
    lo, hi = ticks[0], ticks[-1]
    n = max(len(curve.student), len(curve.reference), 2)

    def x(k: int) -> int:
        return round(left + k / (n - 1) * (w - left - right))

    def y(v: float) -> int:
        return round(top + (hi - v) / (hi - lo) * (h - top - bottom))

    title = t("report.curve", step=curve.step)
    parts = [f'<figure><figcaption>{escape(title)}</figcaption>'
             f'<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{escape(title)}">']
    for v in ticks:
        parts.append(f'<line class="grid" x1="{left}" x2="{w - right}" y1="{y(v)}" y2="{y(v)}"/>'
                     f'<text class="r" x="{left - 6}" y="{y(v) + 4}">{v:.4g}</text>')
    parts.extend(f'<text class="m" x="{x(k)}" y="{h - bottom + 16}">{k + 1}</text>'
                 for k in range(0, n, max(1, n // 10)))
    for series, cls in ((curve.reference, "reference"), (curve.student, "student")):
        points = " ".join(f"{x(k)},{y(v)}" for k, v in enumerate(series) if math.isfinite(v))
        parts.append(f'<polyline class="{cls}" points="{points}"/>')
    for row, (cls, label) in enumerate((("reference", t("report.reference")), ("student", t("report.submission")))):
        ly = 12 + 14 * row
        parts.append(f'<line class="{cls}" x1="{w - right - 170}" x2="{w - right - 146}" y1="{ly}" y2="{ly}"/>'
                     f'<text x="{w - right - 140}" y="{ly + 4}">{escape(label)}</text>')
    parts.append(f'<text class="m" x="{(left + w - right) // 2}" y="{h - 6}">{escape(t("report.round"))}</text>'
                 f'<text x="6" y="{top - 10}">{escape(t("report.loss"))}</text></svg></figure>')
    return "".join(parts)
