"""Grade a folder of submissions: one JSON per submission, a gradebook CSV and a summary.

Each submission is graded exactly as `grade FILE` would grade it (its own children, its own
limits); one that breaks the grader still gets an `error` verdict, and every file is written
atomically, so an interrupted batch leaves only whole files and a rerun resumes.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import os
import statistics
import tempfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path, PurePosixPath

from pydantic import ValidationError

import reference

from . import ASSIGNMENTS_DIR, report, sandbox, secret, spawn
from .beside import Beside
from .classfolder import SUFFIXES, Skipped, Submission, Survey, hidden, keyed, survey
from .detect import detect_assignment
from .feedback import Feedback, error_feedback
from .grade import grade_file
from .gradescope import results as gradescope
from .i18n import speaking, t
from .load import LoadError, Source, load
from .options import Options
from .plots import READABLE, draw_histogram, with_plot
from .report import failure_groups
from .spec import CHECK_IDS, load_all


class Interrupted(Exception):
    """Ctrl-C during a batch: `done` of `total` verdicts are written (whole files); a rerun grades the rest."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(done, total)
        self.done, self.total = done, total


def discover(folder: Path) -> list[Submission]:
    """Every .py/.ipynb in the folder and below (a Gradescope submission's files); clashing names made unique.
    A class folder is surveyed instead (grader/classfolder.py): one submission per student."""
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file()
                   and not any(hidden(part) for part in p.relative_to(folder).parts))
    names = [p.relative_to(folder).as_posix() for p in paths]
    return [Submission(key, p, name) for key, p, name in zip(keyed(names), paths, names)]


def write_atomic(path: Path, text: str) -> None:
    """Write beside the target and rename over it: a crash leaves the old file or the new one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, READABLE)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _cached(sub: Submission, target: Path, graded_with: str) -> Feedback | None:
    """The earlier verdict, when its JSON is newer than the submission, still valid and graded with the same
    settings (see `settings`)."""
    try:
        if target.stat().st_mtime <= sub.path.stat().st_mtime:
            return None
        fb = Feedback.model_validate_json(target.read_text(encoding="utf-8"))
    except (OSError, ValidationError):
        return None
    return fb if fb.graded_with == graded_with else None


def settings(options: Options) -> str:
    """A digest of what a verdict depends on besides the file: the options, the assignment files and the
    grader's own code and messages. A rerun keeps only verdicts graded with the same: an instructor who
    picks another task or fixes a tolerance gets every verdict anew, never a stale one."""
    h = hashlib.sha256(json.dumps(options.key()).encode())
    if options.seed is None:  # the hidden cases come from the grader's secret: another secret, other cases
        h.update(hashlib.sha256(secret.key()).digest())
    for path in _grading_files():
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


@functools.cache
def _grading_files() -> tuple[Path, ...]:
    roots = (ASSIGNMENTS_DIR, Path(__file__).parent, Path(reference.__file__).parent)
    return tuple(sorted(p for root in roots for p in root.rglob("*") if p.suffix in (".py", ".toml")))


def _grade_one(sub: Submission, options: Options, plots: Path, graded_with: str,
               source: Source | None = None) -> Feedback:
    try:
        if sub.problem:  # a student with nothing to grade: a row that says why, out of the total
            with speaking(options.lang):
                fb = error_feedback(sub.name, sub.problem, options.assignment, options.task)
            return fb.model_copy(update={"view": "instructor"})
        beside = None if sub.own_folder else Beside()  # a flat folder's other files are other students'
        fb = grade_file(sub.path, replace(options, view="instructor"), source=source, beside=beside)
        fb = fb.model_copy(update={"submission": sub.name, "graded_with": None if fb.grader_fault else graded_with,
                                   "notes": [*sub.notes, *fb.notes]})
        return with_plot(fb, plots / f"{sub.key}.png")
    except Exception as e:  # a grader bug must cost one verdict, not the batch (and is retried by a rerun)
        with speaking(options.lang):  # a worker thread: the language is set here, not inherited
            fb = error_feedback(sub.name, t("batch.internal_error", type=type(e).__name__, error=e),
                                options.assignment, options.task)
            return fb.model_copy(update={"grader_fault": True})


def grade_folder(folder: Path, out: Path, options: Options = Options(), jobs: int = 1, force: bool = False,
                 progress: Callable[[int, int], None] | None = None, gradescope_too: bool = False,
                 pick: str = "newest", csv_bom: bool | None = None) -> dict[str, Feedback]:
    """Grade every submission in `folder` (or in a class .zip; messages in the options' language), write the
    results to `out`, return the verdicts. `pick` chooses among a student's several files; `csv_bom` marks
    grades.csv as UTF-8 for Excel (default: for a Chinese batch)."""
    with speaking(options.lang), tempfile.TemporaryDirectory(prefix="bpgrade-unzipped-") as unpacked:
        found = survey(folder, Path(unpacked), options.assignment, pick)
        bom = options.lang == "zh" if csv_bom is None else csv_bom
        return _grade_folder(found, out, options, jobs, force, progress, gradescope_too, bom)


def _grade_folder(found: Survey, out: Path, options: Options, jobs: int, force: bool,
                  progress: Callable[[int, int], None] | None, gradescope_too: bool,
                  csv_bom: bool) -> dict[str, Feedback]:
    out.mkdir(parents=True, exist_ok=True)
    subs = found.submissions
    results: dict[str, Feedback] = {}
    todo = []
    graded_with = settings(options)
    for sub in subs:
        cached = None if force or sub.problem else _cached(sub, out / f"{sub.key}.json", graded_with)
        if cached is not None:
            results[sub.key] = cached
        else:
            todo.append(sub)
    if progress:
        progress(len(results), len(subs))  # the verdicts kept from an earlier run: the rate starts from here
    try:
        framework = _prestart(todo[0], options) if todo else None
        sources = _read_ahead(todo, framework) if framework else {}
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {pool.submit(_grade_one, sub, options, out / "plots", graded_with,
                                   sources.pop(sub.path, None)): sub for sub in todo}
            try:
                for future in as_completed(futures):
                    sub = futures[future]
                    fb = future.result()
                    write_atomic(out / f"{sub.key}.json", fb.model_dump_json(indent=2) + "\n")
                    results[sub.key] = fb
                    if progress:
                        progress(len(results), len(subs))
            except BaseException:  # Ctrl-C: what is running is killed now, not after its time limit
                with sandbox.aborting():
                    _wait_out(pool)  # the interrupted verdicts are dropped: a rerun grades them
                raise
    except KeyboardInterrupt:
        raise Interrupted(len(results), len(subs)) from None
    ordered = one_total({s.key: results[s.key] for s in subs}, options.assignment)
    if gradescope_too:
        for key, fb in ordered.items():
            (out / "gradescope" / key).mkdir(parents=True, exist_ok=True)
            write_atomic(out / "gradescope" / key / "results.json", gradescope(fb.for_view("student")).to_json())
    write_atomic(out / "grades.csv", ("\ufeff" if csv_bom else "") + gradebook(ordered, {s.key: s for s in subs}))
    totals = summary(ordered, found.skipped)
    write_atomic(out / "summary.json", json.dumps(totals, indent=2, ensure_ascii=False) + "\n")
    write_atomic(out / "report.html", report.render(ordered, totals, options.lang))
    histogram(ordered, out / "histogram.png")
    return ordered


def _wait_out(pool: ThreadPoolExecutor) -> None:
    """Drop the queued submissions and wait for the running ones (under a second: their children are being
    killed), even through another Ctrl-C: a worker left running would keep the process alive for its
    child's time limit."""
    while True:
        try:
            pool.shutdown(wait=True, cancel_futures=True)
            return
        except KeyboardInterrupt:
            continue


def one_total(results: dict[str, Feedback], assignment: str | None) -> dict[str, Feedback]:
    """Every verdict out of the same total: an ungradable file whose assignment could not be told (a corrupted
    notebook) is 0 of the batch's assignment's total (given, or the one most files were graded as)."""
    graded = Counter(fb.assignment for fb in results.values() if fb.assignment in load_all())
    batch_assignment = assignment or (graded.most_common(1)[0][0] if graded else None)
    if batch_assignment is None:
        return results
    total = load_all()[batch_assignment].max_score
    return {k: fb.model_copy(update={"max_score": total}) if fb.status == "error" and not fb.max_score else fb
            for k, fb in results.items()}


def _prestart(first: Submission, options: Options) -> str | None:
    """Start the fork server of the batch's framework (the assignment's, or the first file's): it imports
    torch for seconds while the grader goes on. The framework, where known."""
    assignment = options.assignment
    if assignment is None:
        try:
            assignment = detect_assignment(load_all(), load(first.path).tree) if not first.problem else None
        except LoadError:
            return None
    if assignment not in load_all():
        return None
    framework = load_all()[assignment].framework
    spawn.prestart(framework, options.start)
    return framework if spawn.forking(options.start) else None


def _read_ahead(todo: list[Submission], framework: str) -> dict[Path, Source]:
    """Read and parse submissions while the fork server imports: the parent's core is idle meanwhile."""
    out: dict[Path, Source] = {}
    for sub in todo:
        if not spawn.starting(framework):
            break
        if sub.problem:
            continue
        try:
            out[sub.path] = load(sub.path)
        except LoadError:
            pass  # graded (as an error) like any other file
    return out


def histogram(results: dict[str, Feedback], target: Path) -> None:
    draw_histogram([fb.score / fb.max_score for fb in results.values() if fb.status == "graded" and fb.max_score],
                   target)


GRADEBOOK_EXTRA = ("student", "assignment", "percent", "error")  # after the contract's columns, in this order


def gradebook(results: dict[str, Feedback], subs: dict[str, Submission] | None = None) -> str:
    """The columns other tools read (README, Use): submission, score, max_score, status, task (as graded:
    detection can differ per file), then one column per check id the batch's assignments have (no empty
    `policy` column in a bp-torch class), then the student (their folder, or the file's stem), assignment,
    percent of the total and the error, if any."""
    assignments = load_all()
    declared = {c for fb in results.values() if fb.assignment in assignments for c in assignments[fb.assignment].checks}
    checks = [c for c in CHECK_IDS if c in declared or any(x.id == c for fb in results.values() for x in fb.checks)]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["submission", "score", "max_score", "status", "task", *checks, *GRADEBOOK_EXTRA])
    for key, fb in results.items():
        scores = {c.id: c.score for c in fb.checks}
        sub = (subs or {}).get(key)
        student = sub.student if sub is not None and sub.student else PurePosixPath(fb.submission).parts[0] \
            if "/" in fb.submission else PurePosixPath(fb.submission).stem
        percent = f"{100 * fb.score / fb.max_score:.1f}" if fb.max_score else ""
        w.writerow([key, f"{fb.score:g}", f"{fb.max_score:g}", fb.status, fb.task or "",
                    *(f"{scores[c]:g}" if c in scores else "" for c in checks),
                    student, fb.assignment or "", percent, fb.error or ""])
    return buf.getvalue()


def summary(results: dict[str, Feedback], skipped: list[Skipped] | tuple[Skipped, ...] = ()) -> dict[str, object]:
    """Count, mean and median score over the graded files (an ungradable one is 0 of the total in the gradebook,
    but not a score to average), pass rate per check, the most common failures (grouped by check and known
    mistake, or by the message with its numbers left out), and every entry of the folder left out, with why."""
    fbs = list(results.values())
    graded = [fb for fb in fbs if fb.status == "graded"]
    fractions = [fb.score / fb.max_score for fb in graded if fb.max_score]
    scores = [fb.score for fb in graded]
    rates = {}
    for check in CHECK_IDS:
        judged = [c for fb in graded for c in fb.checks if c.id == check and c.max_score > 0]
        if judged:
            rates[check] = round(sum(c.status == "pass" for c in judged) / len(judged), 4)
    groups = failure_groups(fbs)
    ranked = sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))[:5]
    return {
        "count": len(fbs),
        "graded": len(graded),
        "errors": len(fbs) - len(graded),
        "mean_score": round(statistics.fmean(scores), 4) if scores else None,
        "median_score": round(statistics.median(scores), 4) if scores else None,
        "mean_fraction": round(statistics.fmean(fractions), 4) if fractions else None,
        "median_fraction": round(statistics.median(fractions), 4) if fractions else None,
        "pass_rate": rates,
        "common_failures": [{"message": f"{label}: {text}" if label != "-" else text, "count": len(who)}
                            for (label, text), who in ranked],
        "skipped": [{"name": s.name, "why": s.why} for s in skipped],
    }


def render_summary(s: dict[str, object]) -> str:
    lines = [t("batch.counts", count=s["count"], graded=s["graded"], errors=s["errors"])]
    if s["mean_fraction"] is not None:
        lines.append(t("batch.scores", mean=s["mean_fraction"], median=s["median_fraction"]))
    rates = s["pass_rate"]
    assert isinstance(rates, dict)
    if rates:
        lines.append(t("batch.pass_rate", rates=t("common.names").join(f"{k} {v:.0%}" for k, v in rates.items())))
    failures = s["common_failures"]
    assert isinstance(failures, list)
    if failures:
        lines.append(t("batch.failures"))
        lines.extend(f"  {f['count']:>4} x {f['message'][:150]}" for f in failures)
    skipped = s.get("skipped") or []
    assert isinstance(skipped, list)
    if skipped:
        lines.append(t("batch.skipped", count=len(skipped)))
        lines.extend(f"  {x['name']}: {x['why']}" for x in skipped)
    return "\n".join(lines)
