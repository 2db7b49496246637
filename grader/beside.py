"""The files beside a submission that it names: its helper modules and data, copied into its sandbox with it.

`from utils import sigmoid` with utils.py beside hw2.py, or a program that reads data.csv, runs as
it does on the student's machine only if those files are there too. Only the files the code names
are taken (a module it imports, a path written in a string), so a file graded in a folder of other
students' files never gets theirs; a batch takes none from a flat class folder at all. They are read
here, in the parent, bounded (size, count, depth), and the child writes them into its scratch folder,
read-only, before the submission runs (grader/child/quota.py `stage`). Their bytes join the hidden
cases' seed (grader/secret.py): a lookup table in a data file beside the code meets new cases when it changes,
as the code itself does.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from .i18n import t

MAX_FILES = 64  # copied per submission
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_TOTAL_BYTES = 32 * 1024 * 1024
MAX_SEEN = 400  # directory entries looked at before giving up (a submission graded in a big folder)
DEPTH = 2  # the folder's own files and one level of sub-folders (data/train.csv)
IGNORED = ("__pycache__", ".ipynb_checkpoints", "__MACOSX", ".git", ".venv", "venv", "node_modules")
SHOWN = 6  # names listed in a note


@dataclass
class Beside:
    """The files copied with a submission (relative path -> bytes) and those left out, with why."""

    files: dict[str, bytes] = field(default_factory=dict)
    left_out: list[tuple[str, str]] = field(default_factory=list)  # (relative path, why)

    def notes(self, submission: str) -> list[str]:
        """What the report says of them: which were copied, and which were not."""
        out = []
        if self.files:
            out.append(t("beside.copied", submission=submission, count=len(self.files),
                         names=_listed(sorted(self.files))))
        if self.left_out:
            out.append(t("beside.left_out", names=_listed([f"{n} ({why})" for n, why in self.left_out])))
        return out


def _listed(names: list[str]) -> str:
    return t("common.names").join(names[:SHOWN]) + (" …" if len(names) > SHOWN else "")


@dataclass(frozen=True)
class Named:
    """What a program names that may be a file beside it: the modules it imports, the paths in its strings."""

    modules: frozenset[str]
    paths: frozenset[str]

    def wants(self, rel: str) -> bool:
        parts = rel.split("/")
        if parts[0].removesuffix(".py") in self.modules and (len(parts) > 1 or rel.endswith(".py")):
            return True  # utils.py, or a file of the package utils/
        return rel in self.paths or parts[-1] in self.paths


def named(tree: ast.Module) -> Named:
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module
                and not n.level}
    paths = {v.strip().removeprefix("./") for n in ast.walk(tree) if isinstance(n, ast.Constant)
             and isinstance(v := n.value, str) and 0 < len(v) < 260 and "\n" not in v}
    return Named(frozenset(modules), frozenset(p for p in paths if p))


def gather(folder: Path, tree: ast.Module, exclude: Path | None = None) -> Beside:
    """The files in `folder` (and its sub-folders, one level deep) that the program's code names, within the
    bounds; never `exclude` (the submission itself)."""
    out = Beside()
    wanted = named(tree)
    skip = exclude.resolve() if exclude is not None else None
    total = 0
    for path in _walk(folder):
        rel = path.relative_to(folder).as_posix()
        if path.resolve() == skip or not wanted.wants(rel):
            continue
        try:
            size = path.stat().st_size
        except OSError:
            continue
        if size > MAX_FILE_BYTES:
            out.left_out.append((rel, t("beside.too_big", size=size // 1024, limit=MAX_FILE_BYTES // 1024)))
        elif len(out.files) >= MAX_FILES:
            out.left_out.append((rel, t("beside.too_many", limit=MAX_FILES)))
        elif total + size > MAX_TOTAL_BYTES:
            out.left_out.append((rel, t("beside.too_much", limit=MAX_TOTAL_BYTES // (1024 * 1024))))
        else:
            try:
                out.files[rel] = path.read_bytes()
            except OSError:
                continue
            total += size
    return out


def _walk(folder: Path) -> list[Path]:
    """Regular files, hidden and tool folders left out, at most DEPTH levels and MAX_SEEN entries looked at."""
    found: list[Path] = []
    seen = 0
    level = [folder]
    for _ in range(DEPTH):
        deeper = []
        for here in level:
            try:
                entries = sorted(here.iterdir())
            except OSError:
                continue
            for entry in entries:
                seen += 1
                if seen > MAX_SEEN:
                    return found
                if entry.name.startswith(".") or entry.name in IGNORED or entry.is_symlink():
                    continue
                if entry.is_dir():
                    deeper.append(entry)
                elif entry.is_file():
                    found.append(entry)
        level = deeper
    return found
