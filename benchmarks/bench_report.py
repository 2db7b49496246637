"""Benchmark the class report (OUT/report.html) of a big class: its size, how long the grader takes to write it,
and how fast headless Chromium loads it and reacts (sort, filter, open a panel).

Run from the repository root with the project's venv (the test extra: selenium; Debian's chromium and
chromium-driver for the browser part, skipped with a note without them):

    .venv/bin/python benchmarks/bench_report.py [--n 500] [--jobs 2] [--repeat 5] [--keep DIR]

It generates N bp-torch submissions of mixed quality with benchmarks/bench_batch.py's generator, grades them
once with the batch (real verdicts; that time is shown, not the subject), then times `report.render` on those
verdicts (median of --repeat), and in Chromium, each --repeat times on a fresh load: the navigation up to the
load event, a click on the score column (sort), typing into the filter, and opening the first row's panel, each
until the page has laid itself out again. It prints a markdown table and asserts nothing.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import bench_batch  # noqa: E402  (the generator of mixed-quality submissions)

from grader import batch, report  # noqa: E402
from grader.options import Options  # noqa: E402

# one interaction, then a forced layout: the time until the page is usable again
ACT = "const t0 = performance.now(); {action}; void document.body.offsetHeight; return performance.now() - t0;"
ACTIONS = {
    "sort by score (click)": "document.querySelector('#students th:nth-child(4) button').click()",
    "filter (type a name)": "const q = document.getElementById('q'); q.value = 'student_1';"
                            "q.dispatchEvent(new Event('input'))",
    "open a panel (click)": "document.querySelector('#students tbody tr a.open').click()",
}


def browser_times(page: Path, repeat: int) -> dict[str, list[float]] | str:
    sys.path.insert(0, str(ROOT))
    from tests.test_report import CHROMEDRIVER, CHROMIUM, chromium

    if not (CHROMIUM and CHROMEDRIVER):
        return "no chromium/chromedriver: apt-get install -y chromium chromium-driver"
    times: dict[str, list[float]] = {"load (navigation to load event)": [], **{k: [] for k in ACTIONS}}
    with tempfile.TemporaryDirectory() as profile:
        driver = chromium(Path(profile))
        try:
            for _ in range(repeat):
                driver.get(page.as_uri())
                nav = driver.execute_script("return performance.getEntriesByType('navigation')[0].toJSON()")
                times["load (navigation to load event)"].append(nav["loadEventEnd"] - nav["startTime"])
                for label, action in ACTIONS.items():
                    times[label].append(driver.execute_script(ACT.format(action=action)))
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            if errors:
                print(f"console errors: {errors}", file=sys.stderr)
        finally:
            driver.quit()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--keep", type=Path, help="grade into this folder and keep it (the report included)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder, out = Path(tmp) / "submissions", args.keep or Path(tmp) / "results"
        folder.mkdir()
        bench_batch.generate(folder, args.n, 0, args.seed)
        t0 = time.perf_counter()
        results = batch.grade_folder(folder, out, Options(assignment="bp-torch"), jobs=args.jobs, force=True)
        graded = time.perf_counter() - t0
        totals = batch.summary(results)
        renders = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            html = report.render(results, totals, "en")
            renders.append(time.perf_counter() - t0)
        page = out / "report.html"
        size = page.stat().st_size
        assert html == page.read_text(encoding="utf-8")  # what was timed is what the batch wrote
        shown = browser_times(page, args.repeat)
    print(f"\n{len(results)} verdicts ({totals['graded']} graded, {totals['errors']} errors), batch {graded:.1f} s; "
          f"{platform.python_version()}, {platform.machine()}\n")
    print("| what | median | all |\n| --- | ---: | --- |")
    print(f"| report.html size | {size / 1024:.0f} KiB | |")
    print(f"| report.render (Python) | {statistics.median(renders) * 1000:.0f} ms | "
          f"{', '.join(f'{x * 1000:.0f}' for x in renders)} |")
    if isinstance(shown, str):
        print(f"| Chromium | not run | {shown} |")
        return
    for label, values in shown.items():
        print(f"| Chromium: {label} | {statistics.median(values):.0f} ms | {', '.join(f'{v:.0f}' for v in values)} |")


if __name__ == "__main__":
    main()
