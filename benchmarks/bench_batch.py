"""Benchmark folder mode: how many bp-torch submissions per second `grade FOLDER` grades.

Run from the repository root with the project's venv:

    .venv/bin/python benchmarks/bench_batch.py [--n 100] [--jobs 2] [--hostile 0] [--skip-nbclient] [--keep DIR]

What it does, in one run on one machine:

1. Generates N bp-torch submissions of mixed quality in a temporary folder from the fixtures in
   tests/submissions/bp-torch/ (every correct style and every bug there, plus two bugs derived from
   the template the way the other assignments' fixtures have them: swapped weight indices and no
   gradient zeroing), varied deterministically with a seeded RNG: step size, variable names, the
   loss function's accepted spelling, comment lines, print statements, the number of training rounds
   in __main__. Half are `student_XXX.py` (or `.ipynb`), half sit in a per-student sub-folder.
   With --hostile K, K of the N are copies of the files in tests/hostile/ (skipped, with a note,
   when that folder does not exist).
2. Times, with wall clocks around the `grade` console script of the venv:
   a. `grade FOLDER --assignment bp-torch --out DIR --quiet --force --jobs J [--start fork]` on all N;
   b. the same with `--start fresh` (a fresh interpreter importing torch per child: the naive
      baseline) on an evenly spread subset of min(N, --subset) submissions, and fork mode on that
      same subset for a like-for-like comparison. Where `grade --help` shows no `--start`, both
      runs go without the flag, so both measure the grader's default, and the output says so;
   c. when `nbclient` and `ipykernel` can be imported (`pip install nbclient ipykernel`, or
      `pip install -e '.[bench]'`), what kernel-based graders do: one fresh Jupyter kernel per
      submission, a cell with its source (a notebook's own code cells), then a test cell that calls
      its forward and loss on the homework's given case (assignments/bp-torch.toml [given]) and
      prints them; on the honest part of the same subset (hostile code never runs unsandboxed).
3. Checks what came back, without failing: one verdict JSON and one gradebook row per submission;
   each fixture-derived submission's check statuses against tests/submissions/verdicts.toml;
   for a sample of --verify honest submissions, that the batch verdict (score, status, and each
   check's status, score and message) equals grading the file alone with
   `grade FILE --json - --assignment bp-torch`; and that fork and fresh agree on the subset.
4. Prints a markdown table (method | submissions | seconds | submissions/s | x naive) and the
   machine (cores, Python, torch). It asserts nothing: machines are noisy, this is a measurement.
   Subset rates are extrapolated to N linearly, and the output says so. It also warns when the
   files of grader/, reference/ or assignments/ changed while it ran.

Other options: --repeat R (default 3: (a) runs R times, the median is shown, every time listed),
--subset M (default 20), --verify K (default 10, 0 to skip), --seed S,
--hostile-dir DIR (default tests/hostile), --grade PATH (default .venv/bin/grade).
Exit status 0 whenever it got to the report.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import hashlib
import json
import multiprocessing
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "submissions" / "bp-torch"
VERDICTS = ROOT / "tests" / "submissions" / "verdicts.toml"
HOSTILE = ROOT / "tests" / "hostile"
ASSIGNMENT = ROOT / "assignments" / "bp-torch.toml"

# template file -> kind. "correct" ones must score full marks; the rest carry the bug in their name.
TEMPLATES = {
    "correct_seed001_template.py": "correct",
    "correct_list_style.py": "correct",
    "correct_sigmoid_builtin_step05.py": "correct",
    "relu_correct.py": "correct",
    "mse_builtin_correct.py": "correct",
    "cross_entropy_correct.py": "correct",
    "zero_init_correct.py": "correct",
    "random_init_correct.py": "correct",
    "notebook_with_magics.ipynb": "correct",
    "seed002_only_w1_zeroed.py": "bug: only w1's gradient zeroed",
    "update_sign_error.py": "bug: update sign error",
    "mse_per_output_summed.py": "bug: MSELoss per output, summed",
}
# bugs derived from the seed 001 template, mirroring bp-numpy/swapped_weight_indices.py and
# linear/forgot_zero_grad.py; verdicts.toml has no entry for them, so only their scores are shown
DERIVED = {
    "derived_swapped_weight_indices": "bug: weights taken row by row (derived)",
    "derived_no_zero_grad": "bug: gradients never zeroed (derived)",
}
STEPS = ["1", "1", "0.5", "0.8", "1.5", "2", "0.1", "0.3"]
ROUNDS = [3, 5, 10, 11, 20, 30, 50, 100]
INNER = ["in_", "net_", "z_", "sum_"]
PRED = ["y{}_pred", "pred{}", "yhat{}", "o{}_hat"]
LOSS_VAR = ["L", "loss_val", "cost", "err"]
LOSS_FN = ["loss_fuction", "loss_fuction", "loss_function"]
FILE_NAMES = ["hw3", "homework3", "bp_torch", "main", "assignment3"]
HEADERS_ZH = ["# 作业3: 用PyTorch实现反向传播", "# 学号: 2023{:04d}", "# 姓名: 学生{}", "# 人工智能导论 第3次作业"]
HEADERS_EN = ["# Homework 3: backpropagation with PyTorch", "# student id 2023{:04d}", "# author: student {}",
              "# Intro to AI, assignment 3"]
COMMENTS = ["# 前向传播", "# forward pass", "# TODO: clean up", "# 参考了课件上的例题", "# see lecture slides",
            "# 计算损失", "# helper"]


@dataclass
class Made:
    key: str  # the stem grade gives its JSON: the path inside the folder, without suffix, "/" -> "__"
    rel: str  # path inside the folder
    template: str  # fixture file name, a DERIVED name, or hostile/<file>
    kind: str  # "correct", "bug: ...", or "hostile"
    variations: list[str] = field(default_factory=list)

    @property
    def honest(self) -> bool:
        return self.kind != "hostile"


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- generating submissions

def _decode(data: bytes) -> str:
    """Round-trips any bytes (a GBK comment in a UTF-8 file, or the reverse, survives)."""
    return data.decode("utf-8", "surrogateescape")


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _has_coding_line(text: str) -> bool:
    return any(re.match(r"^[ \t\f]*#.*?coding[:=]", line) for line in text.splitlines()[:2])


def _sub(pattern: str, repl: str, text: str, what: str, notes: list[str], count: int = 0) -> str:
    new, n = re.subn(pattern, repl, text, count=count, flags=re.MULTILINE)
    if n:
        notes.append(what)
    return new


def choose(rng: random.Random) -> dict[str, str]:
    """One student's choices, the same in every cell of a notebook."""
    return {"step": rng.choice(STEPS), "rounds": str(rng.choice(ROUNDS)), "inner": rng.choice(INNER),
            "pred": rng.choice(PRED), "loss_var": rng.choice(LOSS_VAR), "loss_fn": rng.choice(LOSS_FN)}


def vary_code(text: str, rng: random.Random, n: int, c: dict[str, str], notes: list[str], *, first: bool,
              last: bool, ascii_only: bool) -> str:
    """One file's (or one notebook cell's) variations; behaviour-preserving except the step and rounds."""
    text = _sub(r"^(\s*step\s*=\s*)[0-9.]+", rf"\g<1>{c['step']}", text, f"step {c['step']}", notes)
    text = _sub(r"^(\s*for \w+ in range\()(10|11)(\):)", rf"\g<1>{c['rounds']}\g<3>", text,
                f"{c['rounds']} rounds", notes)
    if c["inner"] != "in_":
        text = _sub(r"\bin_(h1|h2|o1|o2)\b", rf"{c['inner']}\1", text, f"{c['inner']}h1 names", notes)
    if c["pred"] != PRED[0]:
        text = _sub(r"\by([12])_pred\b", c["pred"].format(r"\1"), text, c["pred"].format("1"), notes)
    if c["loss_var"] != "L":
        text = _sub(r"\bL\b", c["loss_var"], text, f"loss variable {c['loss_var']}", notes)
        text = _sub(r"\bl\b", c["loss_var"], text, f"loss variable {c['loss_var']}", notes)  # the list style's
    if c["loss_fn"] != "loss_fuction":
        text = _sub(r"\bloss_fuction\b", c["loss_fn"], text, c["loss_fn"], notes)
    if rng.random() < 0.3:  # a student who removed the debug output of forward
        text = _sub(r"^[ \t]+print\(\"正向计算[^\n]*\n(?:[ \t]+print\(out_o1\.data, out_o2\.data\)\n)?", "", text,
                    "no forward prints", notes)
    if rng.random() < 0.5:  # a comment above some functions
        lines = []
        for line in text.split("\n"):
            if line.startswith("def ") and rng.random() < 0.5:
                lines.append(rng.choice([c for c in COMMENTS if c.isascii()] if ascii_only else COMMENTS))
            lines.append(line)
        text = "\n".join(lines)
    if first:
        heads = HEADERS_EN if ascii_only or rng.random() < 0.5 else HEADERS_ZH
        header = [h.format(n) for h in rng.sample(heads, rng.randint(1, len(heads)))]
        lines = text.split("\n")
        at = 1 if lines and _has_coding_line(lines[0]) else 0  # keep `# coding=` on line 1
        lines[at:at] = header
        text = "\n".join(lines)
        if rng.random() < 0.5:
            text = _sub(r"^(import torch[^\n]*\n)", rf'\g<1>print("student {n:03d}, homework 3")\n', text,
                        "extra print", notes, count=1)
    if last and rng.random() < 0.5:
        body = "    " if re.search(r"^if __name__ == .__main__.:", text, re.MULTILINE) else ""
        text = text.rstrip() + f'\n{body}print("done")\n'
        notes.append("final print")
    return text


def derive(name: str, text: str) -> str:
    if name == "derived_swapped_weight_indices":
        text = text.replace("in_h1 = w1 * x1 + w3 * x2", "in_h1 = w1 * x1 + w2 * x2")
        return text.replace("in_h2 = w2 * x1 + w4 * x2", "in_h2 = w3 * x1 + w4 * x2")
    if name == "derived_no_zero_grad":
        return re.sub(r"^[ \t]+w\d\.grad\.data\.zero_\(\)[^\n]*\n", "", text, flags=re.MULTILINE)
    raise ValueError(name)


def make_honest(template: str, rng: random.Random, n: int) -> tuple[bytes, str, list[str]]:
    """The bytes of one varied submission, its suffix and what was varied."""
    notes: list[str] = []
    if template.endswith(".ipynb"):
        nb = json.loads((FIXTURES / template).read_text(encoding="utf-8"))
        code = [c for c in nb["cells"] if c.get("cell_type") == "code"]
        c = choose(rng)
        for i, cell in enumerate(code):
            src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            src = vary_code(src, rng, n, c, notes, first=i == 0, last=i == len(code) - 1, ascii_only=False)
            cell["source"] = src.splitlines(keepends=True)
        return (json.dumps(nb, ensure_ascii=False, indent=1) + "\n").encode("utf-8"), ".ipynb", notes
    source = "correct_seed001_template.py" if template in DERIVED else template
    text = _decode((FIXTURES / source).read_bytes())
    if template in DERIVED:
        text = derive(template, text)
    text = vary_code(text, rng, n, choose(rng), notes, first=True, last=True, ascii_only=_has_coding_line(text))
    return _encode(text), ".py", notes


def hostile_files(where: Path) -> list[Path]:
    if not where.is_dir():
        return []
    return sorted(p for p in where.rglob("*") if p.is_file() and p.suffix in (".py", ".ipynb")
                  and not p.name.startswith(("test_", "conftest", "__init__"))
                  and "__pycache__" not in p.parts)


def generate(folder: Path, n: int, hostile: int, seed: int, where: Path = HOSTILE) -> list[Made]:
    rng = random.Random(seed)
    hostiles = hostile_files(where)
    if hostile and not hostiles:
        log(f"--hostile {hostile}: {where}/ is missing or has no .py/.ipynb; all {n} submissions are honest")
        hostile = 0
    hostile = min(hostile, n)
    hostile_at = set(rng.sample(range(n), hostile))
    in_folder = set(rng.sample(range(n), n // 2))
    deck: list[str] = []
    made: list[Made] = []
    h = 0
    for i in range(n):
        sub = i in in_folder
        if i in hostile_at:
            src = hostiles[h % len(hostiles)]
            h += 1
            rel = (f"student_{i:03d}/{src.name}" if sub else f"student_{i:03d}{src.suffix}")
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, folder / rel)
            made.append(Made(_key(rel), rel, f"hostile/{src.relative_to(where).as_posix()}", "hostile"))
            continue
        if not deck:  # every template once per round, in a fresh order: small N still gets a mix
            deck = list(TEMPLATES) + list(DERIVED)
            rng.shuffle(deck)
        template = deck.pop()
        data, suffix, notes = make_honest(template, rng, i)
        rel = f"student_{i:03d}/{rng.choice(FILE_NAMES)}{suffix}" if sub else f"student_{i:03d}{suffix}"
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
        made.append(Made(_key(rel), rel, template, TEMPLATES.get(template) or DERIVED[template],
                         list(dict.fromkeys(notes))))
    return made


def _key(rel: str) -> str:
    return "__".join(Path(rel).with_suffix("").parts)


def spread(items: list[Made], k: int) -> list[Made]:
    """k items evenly spread over the list, honest and hostile in proportion."""
    if k >= len(items):
        return list(items)
    hostile = [m for m in items if not m.honest]
    honest = [m for m in items if m.honest]
    kh = round(k * len(hostile) / len(items))
    pick = lambda xs, j: [xs[int(i * len(xs) / j)] for i in range(j)] if j else []  # noqa: E731
    chosen = {m.key for m in pick(honest, k - kh) + pick(hostile, kh)}
    return [m for m in items if m.key in chosen]


def copy_subset(src: Path, dst: Path, subset: list[Made]) -> None:
    for m in subset:
        (dst / m.rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / m.rel, dst / m.rel)


# ---------------------------------------------------------------- running the grader

@dataclass
class Run:
    label: str
    count: int
    seconds: float | None  # None: not run
    note: str = ""
    extrapolated_to: int | None = None
    out: Path | None = None
    per_submission: float | None = None  # median of the verdicts' own `seconds`

    @property
    def rate(self) -> float | None:
        return self.count / self.seconds if self.seconds else None


def grade_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(COLUMNS="200", TERM="dumb", NO_COLOR="1")
    return env


def supports_start(grade: Path) -> bool:
    p = subprocess.run([str(grade), "--help"], capture_output=True, text=True, env=grade_env(), timeout=120)
    return "--start" in p.stdout + p.stderr


def run_batch(grade: Path, label: str, folder: Path, out: Path, count: int, jobs: int,
              start: str | None) -> tuple[Run, str]:
    cmd = [str(grade), str(folder), "--assignment", "bp-torch", "--out", str(out), "--quiet", "--force",
           "--jobs", str(jobs)]
    if start:
        cmd += ["--start", start]
    limit = 300 + count * 90 / jobs  # a hung grader shows up as a row, not as a hung benchmark
    log(f"{label}: {count} submissions, {' '.join(cmd[1:])}")
    t0 = time.perf_counter()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=grade_env(), timeout=limit)
    except subprocess.TimeoutExpired:
        return Run(label, count, None, f"TIMED OUT after {limit:.0f} s"), ""
    seconds = time.perf_counter() - t0
    note = "" if p.returncode == 0 else f"exit code {p.returncode}: {p.stderr.strip()[-300:]}"
    verdicts = [json.loads(f.read_text(encoding="utf-8")) for f in out.glob("*.json") if f.name != "summary.json"]
    per = statistics.median(v.get("seconds", 0.0) for v in verdicts) if verdicts else None
    log(f"{label}: {seconds:.1f} s")
    return Run(label, count, seconds, note, out=out, per_submission=per), p.stdout


def grade_single(grade: Path, path: Path) -> dict | str:
    try:
        p = subprocess.run([str(grade), str(path), "--json", "-", "--assignment", "bp-torch"],
                           capture_output=True, text=True, env=grade_env(), timeout=300)
    except subprocess.TimeoutExpired:
        return "timed out"
    try:
        return json.loads(p.stdout)
    except json.JSONDecodeError:
        return f"exit {p.returncode}, no JSON: {(p.stderr or p.stdout).strip()[-300:]}"


# ---------------------------------------------------------------- comparing verdicts

def essence(v: dict) -> dict:
    """What must not depend on how or with whom a submission was graded."""
    return {
        "status": v.get("status"), "score": v.get("score"), "max_score": v.get("max_score"),
        "assignment": v.get("assignment"), "task": v.get("task"), "error": v.get("error"),
        "checks": {c["id"]: {"status": c["status"], "score": c["score"], "message": c["message"],
                             "hidden": c.get("hidden")} for c in v.get("checks", [])},
        "notes": v.get("notes", []),
    }


def differences(a: dict, b: dict) -> list[str]:
    ea, eb = essence(a), essence(b)
    out = [f"{k}: {ea[k]!r} vs {eb[k]!r}" for k in ea if k != "checks" and ea[k] != eb[k]]
    for cid in sorted(set(ea["checks"]) | set(eb["checks"])):
        ca, cb = ea["checks"].get(cid), eb["checks"].get(cid)
        if ca != cb:
            if ca is None or cb is None:
                out.append(f"check {cid}: only in one")
                continue
            for f in ca:
                if ca[f] != cb[f]:
                    out.append(f"check {cid} {f}: {_short(ca[f])} vs {_short(cb[f])}")
    return out


def _short(x: object) -> str:
    s = repr(x)
    return s if len(s) <= 160 else s[:157] + "..."


def load_verdict(out: Path, key: str) -> dict | None:
    try:
        return json.loads((out / f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def expected_statuses() -> dict[str, dict[str, str]]:
    table = tomllib.loads(VERDICTS.read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    for path, v in table.items():
        if path.startswith("bp-torch/"):
            statuses = {}
            for word, status in (("passed", "pass"), ("failed", "fail"), ("skipped", "skipped"), ("errored", "error")):
                statuses.update({c: status for c in v.get(word, [])})
            out[path.removeprefix("bp-torch/")] = statuses
    return out


# ---------------------------------------------------------------- the kernel-based way

def nb_available() -> str | None:
    try:
        import ipykernel  # noqa: F401
        import nbclient  # noqa: F401
    except ImportError as e:
        return str(e)
    return None


def test_cell() -> str:
    a = tomllib.loads(ASSIGNMENT.read_text(encoding="utf-8"))
    g = a["given"]
    return textwrap.dedent(f"""\
        import inspect as _inspect
        import torch as _torch
        _g = globals()
        _fwd = next(_g[n] for n in {a["roles"]["forward"]["names"]!r} if callable(_g.get(n)))
        _loss = next(_g[n] for n in {a["roles"]["loss"]["names"]!r} if callable(_g.get(n)))
        _ws = [_torch.tensor([v], requires_grad=True) for v in {g["weights"]!r}]
        if isinstance(_g.get("w"), list):
            _g["w"][:] = _ws
        else:
            _g.update({{f"w{{i + 1}}": t for i, t in enumerate(_ws)}})
        _x = [_torch.tensor([v]) for v in {g["inputs"]!r}]
        _y = [_torch.tensor([v]) for v in {g["targets"]!r}]
        _o = _fwd(_x) if len(_inspect.signature(_fwd).parameters) == 1 else _fwd(*_x)
        _e = _loss(_x, _y) if len(_inspect.signature(_loss).parameters) == 2 else _loss(*_x, *_y)
        print("GIVEN-CASE", [float(o) for o in _o[:2]], float(_e))
        """)


def run_notebook(path: str, workdir: str, cell: str) -> tuple[bool, str]:
    """One fresh kernel: the submission's code, then the test cell. Runs in a worker process."""
    import nbformat
    from nbclient import NotebookClient

    devnull = os.open(os.devnull, os.O_WRONLY)  # the kernels' start-up warnings: noise here
    os.dup2(devnull, 2)
    p = Path(path)
    if p.suffix == ".ipynb":
        nb = nbformat.read(p, as_version=4)
        nb.cells = [c for c in nb.cells if c.cell_type == "code"]
    else:
        data = p.read_bytes()
        try:
            src = data.decode("utf-8")
        except UnicodeDecodeError:
            src = data.decode("gbk", "replace")
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(src)])
    nb.cells.append(nbformat.v4.new_code_cell(cell))
    os.makedirs(workdir, exist_ok=True)
    client = NotebookClient(nb, timeout=120, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": workdir}})
    try:
        client.execute()
    except Exception as e:  # a dead kernel, a timeout: counted, not fatal
        return False, f"{type(e).__name__}: {e}"[:200]
    outs = nb.cells[-1].get("outputs", [])
    text = "".join(o.get("text", "") for o in outs if o.get("output_type") == "stream")
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    if errors:
        return False, f"{errors[0].get('ename')}: {errors[0].get('evalue')}"[:200]
    return "GIVEN-CASE" in text, text.strip()[:200]


def run_nbclient(folder: Path, work: Path, subset: list[Made], jobs: int) -> tuple[Run, list[str]]:
    cell = test_cell()
    label = "nbclient: fresh kernel per submission + test cell"
    log(f"{label}: {len(subset)} submissions, {jobs} at a time")
    problems = []
    t0 = time.perf_counter()
    ctx = multiprocessing.get_context("spawn")  # no fork of a process that holds zmq/asyncio state
    with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures = {pool.submit(run_notebook, str(folder / m.rel), str(work / m.key), cell): m for m in subset}
        for f in cf.as_completed(futures):
            try:
                ok, text = f.result()
            except Exception as e:
                ok, text = False, f"{type(e).__name__}: {e}"
            if not ok:
                problems.append(f"{futures[f].rel}: {text}")
    seconds = time.perf_counter() - t0
    log(f"{label}: {seconds:.1f} s")
    note = f"{len(subset) - len(problems)}/{len(subset)} test cells printed the given case"
    return Run(label, len(subset), seconds, note), problems


# ---------------------------------------------------------------- machine and report

def machine(grade: Path) -> str:
    python = grade.parent / "python"
    probe = ("import sys, platform, importlib.metadata as m; "
             "print(platform.python_version(), m.version('torch'), sep='\\t')")
    try:
        py, torch = subprocess.run([str(python), "-c", probe], capture_output=True, text=True,
                                   timeout=60).stdout.strip().split("\t")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        py, torch = platform.python_version(), "?"
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=30).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "grader"],
                               capture_output=True, text=True, timeout=30).stdout.strip()
        commit = head + (" + uncommitted changes in grader/" if dirty else "")
    except (OSError, subprocess.TimeoutExpired):
        commit = "?"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"machine: {cores} cores ({usable} usable), {platform.system()} {platform.release()}, "
            f"Python {py}, torch {torch}; grader at {commit}; load average before the runs {load}")


def fingerprint() -> str:
    """A hash of the grader's own files: a tree edited mid-run makes the comparisons meaningless."""
    h = hashlib.sha256()
    for part in ("grader", "reference", "assignments"):
        for f in sorted((ROOT / part).rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                h.update(f.relative_to(ROOT).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:12]


def table(runs: list[Run], naive: Run | None) -> str:
    rows = ["| method | submissions | seconds | submissions/s | × naive |", "| --- | ---: | ---: | ---: | ---: |"]
    base = naive.rate if naive else None
    for r in runs:
        if r.seconds is None:
            rows.append(f"| {r.label} | {r.count} | {r.note or 'not run'} | | |")
            continue
        times = f"{r.rate / base:.1f}×" if base and r.rate else ""
        rows.append(f"| {r.label} | {r.count} | {r.seconds:.1f} | {r.rate:.2f} | {times} |")
    return "\n".join(rows)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100, help="submissions to generate (default 100)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="grade --jobs, and kernels at a time")
    ap.add_argument("--hostile", type=int, default=0, help="how many of the N are copies of tests/hostile/ files")
    ap.add_argument("--hostile-dir", type=Path, default=HOSTILE, help="where hostile submissions are copied from")
    ap.add_argument("--subset", type=int, default=20, help="submissions for the fresh and nbclient runs (default 20)")
    ap.add_argument("--verify", type=int, default=10, help="honest submissions also graded alone and compared")
    ap.add_argument("--repeat", type=int, default=3,
                    help="times `grade FOLDER` runs on all N; the median is shown (default 3: machines are noisy)")
    ap.add_argument("--skip-nbclient", action="store_true", help="leave out the Jupyter-kernel measurement")
    ap.add_argument("--keep", type=Path, help="keep submissions and results in this (new or empty) folder")
    ap.add_argument("--seed", type=int, default=2026, help="seed of the generator (default 2026)")
    ap.add_argument("--grade", type=Path, default=ROOT / ".venv" / "bin" / "grade", help="the grade console script")
    args = ap.parse_args()
    if args.n < 1 or args.jobs < 1 or args.subset < 1 or args.repeat < 1:
        ap.error("--n, --jobs, --subset and --repeat must be at least 1")
    if not args.grade.exists():
        ap.error(f"{args.grade} not found: install the project first (see README.md)")
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            ap.error(f"--keep {args.keep}: the folder must be new or empty")
        args.keep.mkdir(parents=True, exist_ok=True)
        return bench(args, args.keep.resolve())
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        return bench(args, Path(tmp))


def bench(args: argparse.Namespace, work: Path) -> int:
    grade = args.grade.resolve()
    info = machine(grade)
    before = fingerprint()
    has_start = supports_start(grade)
    folder = work / "submissions"
    folder.mkdir()
    made = generate(folder, args.n, args.hostile, args.seed, args.hostile_dir.resolve())
    n_hostile = sum(not m.honest for m in made)
    log(f"generated {len(made)} submissions ({n_hostile} hostile) in {folder}")
    subset = spread(made, min(args.n, args.subset))
    sub_folder = work / "subset"
    copy_subset(folder, sub_folder, subset)

    runs: list[Run] = []
    notes: list[str] = []
    if has_start:
        tries = [run_batch(grade, "grade --start fork (default)", folder, work / f"out-fork-{i + 1}", len(made),
                           args.jobs, "fork") for i in range(args.repeat)]
        timed = sorted((t for t in tries if t[0].seconds is not None), key=lambda t: t[0].seconds or 0.0)
        full, summary_text = timed[len(timed) // 2] if timed else tries[0]
        if args.repeat > 1:
            notes.append(f"grade FOLDER ran {args.repeat} times: "
                         + ", ".join(f"{t[0].seconds:.2f}" if t[0].seconds else "-" for t in tries)
                         + " s; the table shows the median run.")
    else:
        notes.append("`grade --help` has no --start option yet, so no run can choose how children start: "
                     "every grade row is the grader's default, and the subset row stands in for the naive "
                     "baseline (today's fresh interpreter per child) only where that default is still fresh; "
                     "the verdicts' median seconds below tell which it was (fresh: ~3 s, fork: well under 1 s).")
        full, summary_text = run_batch(grade, "grade (default start; no --start option)", folder,
                                       work / "out-fork", len(made), args.jobs, None)
    runs.append(full)
    fork_sub = None
    if has_start and len(subset) < len(made):
        fork_sub, _ = run_batch(grade, "grade --start fork, the subset", sub_folder, work / "out-fork-subset",
                                len(subset), args.jobs, "fork")
        runs.append(fork_sub)
    if len(subset) < len(made) or has_start:
        naive, _ = run_batch(grade, "grade --start fresh (naive)" if has_start else "grade, the subset (default start)",
                             sub_folder, work / "out-fresh", len(subset), args.jobs, "fresh" if has_start else None)
        runs.append(naive)
    else:
        naive = full  # no --start and no subset: the one run is the baseline
    nb_problems: list[str] = []
    if args.skip_nbclient:
        notes.append("nbclient: skipped (--skip-nbclient).")
    elif (missing := nb_available()) is not None:
        notes.append(f"nbclient: skipped ({missing}); to measure it: "
                     f"`{grade.parent / 'pip'} install nbclient ipykernel` (or `pip install -e '.[bench]'`).")
    else:
        honest_sub = [m for m in subset if m.honest]
        if len(honest_sub) < len(subset):
            notes.append(f"nbclient ran only the {len(honest_sub)} honest submissions of the subset: "
                         "a bare kernel has no sandbox, so hostile code is never run that way.")
        if honest_sub:
            nb_run, nb_problems = run_nbclient(folder, work / "nb", honest_sub, args.jobs)
            runs.append(nb_run)

    # ---- what came back
    findings: list[str] = []
    out = full.out
    if out is not None:
        jsons = {f.stem for f in out.glob("*.json") if f.name != "summary.json"}
        want = {m.key for m in made}
        if jsons != want:
            findings.append(f"verdict JSONs: {len(jsons & want)}/{len(want)} came back"
                            + (f"; missing {sorted(want - jsons)[:5]}" if want - jsons else "")
                            + (f"; unexpected {sorted(jsons - want)[:5]}" if jsons - want else ""))
        try:
            with open(out / "grades.csv", newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
            if len(rows) != len(made):
                findings.append(f"grades.csv has {len(rows)} rows for {len(made)} submissions")
        except OSError as e:
            findings.append(f"grades.csv unreadable: {e}")
        checked = f"{len(jsons & want)}/{len(want)} verdict JSONs and a gradebook row each"
        if not any(x.startswith(("verdict", "grades")) for x in findings):
            notes.append(f"batch output: {checked}.")

        # the fixtures' own verdicts, for every fixture-derived submission
        expect = expected_statuses()
        scores: dict[str, list[str]] = {}
        for m in made:
            v = load_verdict(out, m.key)
            if v is None:
                continue
            if not m.honest:
                scores.setdefault(f"hostile ({m.template})", []).append(
                    v["status"] if v["status"] == "error" else f"{v['score']:g}/{v['max_score']:g}")
                continue
            scores.setdefault(f"{m.kind} [{m.template}]", []).append(f"{v['score']:g}/{v['max_score']:g}"
                                                                   if v["status"] == "graded" else "error")
            if m.kind == "correct" and not (v["status"] == "graded" and v["score"] >= v["max_score"]):
                bad = [f"{c['id']} {c['status']}: {c['message'].splitlines()[0][:120]}" for c in v.get("checks", [])
                       if c["status"] in ("fail", "error")]
                findings.append(f"{m.rel} ({m.template}; {', '.join(m.variations)}) is correct but scored "
                                f"{v['score']:g}/{v['max_score']:g}{': ' + '; '.join(bad) if bad else ''}"
                                + (f" [{v.get('error')}]" if v["status"] == "error" else ""))
            want_status = expect.get(m.template)
            if want_status:
                got = {c["id"]: c["status"] for c in v.get("checks", [])}
                off = [f"{cid} {got.get(cid)} (fixture: {s})" for cid, s in want_status.items() if got.get(cid) != s]
                if off and m.kind != "correct":
                    findings.append(f"{m.rel} ({m.template}; {', '.join(m.variations)}): {', '.join(off)}")
        notes.append("scores by kind (template):\n" + "\n".join(f"  - {k}: {', '.join(sorted(v))}"
                                                            for k, v in sorted(scores.items())))

        # batch vs alone, for a sample of honest ones
        honest = [m for m in made if m.honest]
        sample = random.Random(args.seed + 1).sample(honest, min(args.verify, len(honest)))
        if sample:
            log(f"grading {len(sample)} honest submissions alone to compare with the batch verdicts")
            with cf.ThreadPoolExecutor(max_workers=args.jobs) as pool:
                alone = dict(zip([m.key for m in sample], pool.map(lambda m: grade_single(grade, folder / m.rel),
                                                                   sample)))
            same = 0
            for m in sample:
                single, batch_v = alone[m.key], load_verdict(out, m.key)
                if isinstance(single, str) or batch_v is None:
                    findings.append(f"alone vs batch, {m.rel}: {single if isinstance(single, str) else 'no batch JSON'}")
                    continue
                diff = differences(batch_v, single)
                if diff:
                    findings.append(f"alone vs batch, {m.rel} ({m.template}): " + "; ".join(diff))
                else:
                    same += 1
            notes.append(f"alone vs batch: {same}/{len(sample)} sampled honest verdicts identical "
                         "(status, score, task, notes, each check's status, score, message and hidden tally).")

        # fork vs fresh on the subset
        if has_start:
            fresh_out = work / "out-fresh"
            same = 0
            compared = 0
            for m in subset:
                a, b = load_verdict(out, m.key), load_verdict(fresh_out, m.key)
                if a is None or b is None:
                    findings.append(f"fork vs fresh, {m.rel}: a verdict is missing")
                    continue
                compared += 1
                diff = differences(a, b)
                if diff:
                    findings.append(f"fork vs fresh, {m.rel} ({m.template}): " + "; ".join(diff))
                else:
                    same += 1
            notes.append(f"fork vs fresh: {same}/{compared} subset verdicts identical.")
    findings.extend(f"nbclient, {p}" for p in nb_problems)
    if fingerprint() != before:
        findings.insert(0, "the files of grader/, reference/ or assignments/ changed during this run (someone is "
                           "editing the tree): differences between runs may come from that, rerun to be sure")

    # ---- report
    print("## grade folder mode: bp-torch throughput\n")
    print(info + "\n")
    print(f"{len(made)} generated submissions ({n_hostile} hostile), --jobs {args.jobs}, seed {args.seed}; "
          f"subset for the slower methods: {len(subset)} spread evenly over them.\n")
    print(table(runs, naive))
    print()
    print("load average after the runs: " + ", ".join(f"{x:.2f}" for x in os.getloadavg())
          + f" (on {os.cpu_count()} cores; anything else running makes every row slower)\n")
    if naive.rate and len(subset) < len(made):
        est = len(made) / naive.rate
        print(f"The naive baseline ran on {naive.count} of the {len(made)} submissions only: at its measured "
              f"{naive.rate:.2f} submissions/s, all {len(made)} would take about {est:.0f} s "
              f"({est / 60:.1f} min) — a linear extrapolation, not a measurement.")
        if full.seconds:
            print(f"Measured for all {len(made)} in the first row: {full.seconds:.0f} s.")
        if has_start and fork_sub is not None and fork_sub.seconds:
            print("Fork mode starts its pre-imported server once per batch (a torch import, a few seconds), so its "
                  "rate grows with the batch: the subset rows compare fork and fresh like for like.")
        print()
    for r in runs:
        if r.per_submission is not None:
            print(f"- {r.label}: median time per submission as the verdicts record it: {r.per_submission:.2f} s"
                  + (f" ({r.note})" if r.note else ""))
        elif r.note:
            print(f"- {r.label}: {r.note}")
    print()
    for note in notes:
        print(f"- {note}")
    print()
    if findings:
        print(f"### Looked wrong ({len(findings)})\n")
        for f in findings:
            print(f"- {f}")
    else:
        print("### Looked wrong: nothing")
    print()
    print("### grade's own summary of the first run\n")
    print(textwrap.indent(summary_text.strip(), "    "))
    if args.keep:
        print(f"\nsubmissions and results kept in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
