"""Run fixture programs as `python prog.py < /dev/null` runs them and report what each computed.

Used by tests/test_fixture_programs.py, never by the grader (and it imports nothing of the grader):
it shows what a fixture really does, so the fixtures' claims are proved apart from the code they judge.

    python tests/program_runner.py JOBS.json RESULTS.json SCRATCH_DIR

Each job runs in a child forked from this process (numpy, torch and matplotlib are imported once),
with `__name__ == "__main__"`, stdin empty, stdout/stderr to a log, in a scratch folder. After the
program ends (or raises), the job's expressions are evaluated in its namespace: `trained` (the
weights its own loop left, in the reference's order), `start` (its random start, re-drawn from the
same seed), and an `adapter` that defines `evaluate(x, y, params)` calling the program's own
functions on chosen cases. matplotlib runs headless (Agg): `matplotlib.use('TkAgg')` is ignored,
as the window a student's machine opens is not part of what the program computes.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import matplotlib
import nbformat
import numpy as np
import torch

matplotlib.use("Agg")
matplotlib.use = lambda *args, **kwargs: None  # a program's GUI backend cannot open here
torch.set_num_threads(1)  # forked children must never inherit a parallel pool (SANDBOX-FACTS.md)

DEADLINE = 120.0  # seconds per program, generous for a loaded machine


def source(path: str) -> str:
    """A script's text, or a notebook's code cells with IPython magics and shell lines dropped."""
    if not path.endswith(".ipynb"):
        return Path(path).read_text(encoding="utf-8")
    cells = [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    return "\n".join(line for cell in cells for line in cell.splitlines()
                     if not line.lstrip().startswith(("%", "!")))


def floats(value: Any) -> list[float]:
    """Any tensor, array, number or nesting of them as one flat list of floats."""
    if isinstance(value, torch.Tensor):
        return value.detach().double().flatten().tolist()
    if isinstance(value, (list, tuple)):
        return [f for v in value for f in floats(v)]
    return np.asarray(value, dtype=float).ravel().tolist()


def run(job: dict[str, Any]) -> dict[str, Any]:
    if job.get("seed"):
        torch.manual_seed(0)
        np.random.seed(0)
    path = job["path"]
    ns: dict[str, Any] = {"__name__": "__main__", "__file__": path, "__builtins__": builtins}
    result: dict[str, Any] = {"error": None}
    try:
        exec(compile(source(path), path, "exec"), ns)
    except BaseException as e:  # noqa: BLE001 - SystemExit too: we report how the program ended
        lines = [f.lineno for f in traceback.extract_tb(e.__traceback__) if f.filename == path]
        result["error"] = [type(e).__name__, lines[-1] if lines else None]
    for key in ("trained", "start"):
        if job.get(key):
            result[key] = floats(eval(job[key], ns))
    if job.get("adapter"):
        exec(job["adapter"], ns)
        result["cases"] = [{k: floats(v) for k, v in ns["evaluate"](*case).items()} for case in job["cases"]]
    return result


def child(job: dict[str, Any], scratch: Path) -> None:
    """In the forked child: run one job, write its result next to its log, never return."""
    code = 1
    try:
        folder = scratch / job["name"].replace("/", "__")
        folder.mkdir(parents=True, exist_ok=True)
        os.chdir(folder)
        log = os.open(folder / "output.log", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(log, 1)
        os.dup2(log, 2)
        result = run(job)
        (folder / "result.json").write_text(json.dumps(result))
        code = 0
    except BaseException:  # noqa: BLE001 - the parent reports the missing result with the log
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main(jobs_file: str, results_file: str, scratch_dir: str) -> None:
    jobs = json.loads(Path(jobs_file).read_text(encoding="utf-8"))
    scratch = Path(scratch_dir).resolve()
    results = {}
    for job in jobs:
        job["path"] = str(Path(job["path"]).resolve())
        pid = os.fork()
        if pid == 0:
            child(job, scratch)
        deadline = time.monotonic() + DEADLINE
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                break
            time.sleep(0.01)
        folder = scratch / job["name"].replace("/", "__")
        out = folder / "result.json"
        log = (folder / "output.log").read_text(encoding="utf-8", errors="replace") if folder.exists() else ""
        results[job["name"]] = json.loads(out.read_text()) if out.exists() else {"lost": log[-3000:]}
    Path(results_file).write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:4])
