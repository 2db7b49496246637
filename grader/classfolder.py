"""What a class folder holds, as an LMS download really arrives: what to grade, and what not and why.

A folder holds one file per student, or one sub-folder per student (Moodle's and Gradescope's
downloads), and in either a student may hand in a .zip (unpacked, bounded: size, count, no path
outside). In a student's folder the file that holds the contract's functions is graded and the
others are its helpers (copied into its sandbox when it names them); of several such files the
newest is graded, or the one `--pick` names, and the feedback says so. Nothing is skipped
silently: a student folder with nothing to grade gets an `error` row, and every other entry
left out is listed with why (the batch's summary and report show them).
"""

from __future__ import annotations

import fnmatch
import itertools
import os
import re
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .detect import assignment_score, detect_assignment
from .facts import read
from .i18n import t
from .load import LoadError, load
from .spec import load_all

SUFFIXES = (".py", ".ipynb")
RESERVED = ("summary",)  # summary.json is the batch's own: a student's summary.py gets another name
TOOL_FOLDERS = ("__pycache__", ".ipynb_checkpoints", "__MACOSX")
ZIP_MEMBERS = 500  # files unpacked from one zip
ZIP_BYTES = 64 * 1024 * 1024  # bytes unpacked from one zip, all members together
PICKS = ("newest", "name")  # --pick: the newest file, the last by name; anything else is a file name pattern


@dataclass(frozen=True)
class Submission:
    key: str  # the stem of its JSON file: unique within the batch
    path: Path
    name: str  # its path inside the folder, as the feedback names it
    student: str = ""  # the student's folder (a flat folder: the file's stem)
    own_folder: bool = False  # in a student's own folder: the files beside it are its own (helpers, data)
    notes: tuple[str, ...] = ()  # how it was chosen among the student's files
    problem: str = ""  # nothing to grade: why (an empty student folder, only a .txt)


@dataclass(frozen=True)
class Skipped:
    name: str
    why: str


@dataclass
class Survey:
    submissions: list[Submission] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


MOODLE = re.compile(r"_\d+_assignsubmission_\w+?_?$")  # "Zhang San_12345_assignsubmission_file_"


def hidden(part: str) -> bool:
    return part.startswith(".") or part in TOOL_FOLDERS


def student_of(folder: str) -> str:
    """The student a folder is named for: Moodle's download adds its own id and suffix."""
    return MOODLE.sub("", folder) or folder


def keyed(names: list[str]) -> list[str]:
    """A unique JSON stem per name (`alice/hw3.py` -> alice__hw3), clashes (even only in case, as on macOS and
    Windows) made unique with the suffix and a number."""
    taken = set(RESERVED)
    out = []
    for name in names:
        p = PurePosixPath(name)
        base = "__".join(p.with_suffix("").parts)
        other = f"{base}-{p.suffix.lstrip('.').lower()}"
        candidates = itertools.chain((base, other), (f"{other}-{n}" for n in itertools.count(2)))
        key = next(k for k in candidates if k.casefold() not in taken)
        taken.add(key.casefold())
        out.append(key)
    return out


def survey(folder: Path, unpacked: Path, assignment: str | None = None, pick: str = "newest") -> Survey:
    """The submissions of a class folder (or of a class .zip) and the entries left out; zips are unpacked
    below `unpacked`."""
    found = Survey()
    if folder.is_file():  # the whole class as one zip
        folder = _unzip(folder, unpacked / folder.stem, folder.name, found.skipped)
    entries = sorted(p for p in folder.iterdir() if not hidden(p.name))
    chosen: list[tuple[str, Path, str, bool, tuple[str, ...], str]] = []  # name, path, student, own, notes, problem
    for entry in entries:
        if entry.is_dir() or entry.suffix.lower() == ".zip" and entry.is_file():
            root = entry if entry.is_dir() else _unzip(entry, unpacked / entry.stem, entry.name, found.skipped)
            student = student_of(entry.stem if entry.is_file() else entry.name)
            chosen.append(_student(root, entry.name, student, assignment, pick, unpacked, found.skipped))
        elif entry.suffix.lower() in SUFFIXES and entry.is_file():
            chosen.append((entry.name, entry, entry.stem, False, (), ""))
        elif entry.is_file():
            found.skipped.append(Skipped(entry.name, _not_code(entry)))
    for key, (name, path, student, own, notes, problem) in zip(keyed([c[0] for c in chosen]), chosen):
        found.submissions.append(Submission(key, path, name, student, own, notes, problem))
    return found


def _not_code(path: Path) -> str:
    return t("folder.not_code", suffix=path.suffix.lower() or t("folder.no_suffix"))


def _student(root: Path, shown: str, student: str, assignment: str | None, pick: str, unpacked: Path,
             skipped: list[Skipped]) -> tuple[str, Path, str, bool, tuple[str, ...], str]:
    """The one file of a student's folder to grade, and what the feedback says of the others."""
    files = _files(root, shown, unpacked, skipped)
    code = [(name, path) for name, path in files if path.suffix.lower() in SUFFIXES]
    others = [name for name, path in files if path.suffix.lower() not in SUFFIXES]
    if not code:
        why = t("folder.nothing", folder=shown, files=t("common.names").join(others[:6])) if others \
            else t("folder.empty", folder=shown)
        return f"{shown}/", root, student, True, (), why
    holding = [(n, p) for n, p in code if holds_contract(p, assignment)] or code
    name, path, rule = _pick(holding, pick)
    notes = []
    rest = [n for n, _ in code if n != name]
    if len(holding) > 1:
        notes.append(t("folder.picked", folder=shown, count=len(holding), graded=PurePosixPath(name).name,
                       rule=rule, others=t("common.names").join(PurePosixPath(n).name for n, _ in holding
                                                                if n != name)))
    helpers = [PurePosixPath(n).name for n in rest if n not in {h for h, _ in holding}]
    if helpers:
        notes.append(t("folder.helpers", names=t("common.names").join(helpers), graded=PurePosixPath(name).name))
    if others:
        notes.append(t("folder.others", names=t("common.names").join(PurePosixPath(n).name for n in others[:8])
                       + (" …" if len(others) > 8 else "")))
    return name, path, student, True, tuple(notes), ""


def _files(root: Path, shown: str, unpacked: Path, skipped: list[Skipped]) -> list[tuple[str, Path]]:
    """Every file of a student's folder (zips in it unpacked), by its name as the report shows it."""
    out: list[tuple[str, Path]] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not hidden(d))
        for n in sorted(names):
            if hidden(n):
                continue
            path = Path(folder) / n
            rel = f"{shown}/{path.relative_to(root).as_posix()}"
            if path.suffix.lower() == ".zip" and path.is_file():
                inner = _unzip(path, unpacked / rel.replace("/", "__"), rel, skipped)
                out.extend((f"{rel}/{p.relative_to(inner).as_posix()}", p) for p in sorted(inner.rglob("*"))
                           if p.is_file() and not any(hidden(x) for x in p.relative_to(inner).parts))
            elif path.is_file() and not path.is_symlink():
                out.append((rel, path))
    return out


def holds_contract(path: Path, assignment: str | None) -> bool:
    """Whether the file defines functions of the contract (its assignment's, or any's): a submission, not a
    helper."""
    try:
        tree = load(path).tree
    except LoadError as e:
        if e.salvaged is None:
            return path.suffix.lower() in SUFFIXES  # unreadable: graded, so that it says why
        tree = e.salvaged
    assignments = load_all()
    if assignment in assignments:
        return assignment_score(assignments[assignment], read(tree)) > 0
    return detect_assignment(assignments, tree) is not None


def _pick(candidates: list[tuple[str, Path]], pick: str) -> tuple[str, Path, str]:
    """One of several candidate files, by the --pick rule, and the rule in words."""
    if pick == "name":
        name, path = max(candidates, key=lambda c: c[0])
        return name, path, t("folder.rule_name")
    if pick != "newest":
        matching = [c for c in candidates if fnmatch.fnmatch(PurePosixPath(c[0]).name.lower(), pick.lower())]
        if matching:
            name, path = max(matching, key=lambda c: (c[1].stat().st_mtime, c[0]))
            return name, path, t("folder.rule_pattern", pattern=pick)
    name, path = max(candidates, key=lambda c: (c[1].stat().st_mtime, c[0]))
    return name, path, t("folder.rule_newest")


def _unzip(archive: Path, target: Path, shown: str, skipped: list[Skipped]) -> Path:
    """Unpack a zip below `target`, bounded: members that would land outside it, links, nested archives past the
    count or size limits are left out (and listed). Each file keeps the zip's time, so `newest` and a rerun's
    up-to-date check work on it."""
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as e:
        skipped.append(Skipped(shown, t("folder.bad_zip", error=str(e)[:120])))
        return target
    total = 0
    with zf:
        for count, info in enumerate(zf.infolist()):
            name = _member_name(info)
            where = f"{shown}/{name}"
            dest = (root / name).resolve()
            if not dest.is_relative_to(root) or PurePosixPath(name).is_absolute() or ".." in PurePosixPath(name).parts:
                skipped.append(Skipped(where, t("folder.zip_outside")))
                continue
            if any(hidden(p) for p in PurePosixPath(name).parts):
                continue
            if info.is_dir():  # kept: an empty student folder is a student with nothing handed in
                dest.mkdir(parents=True, exist_ok=True)
                continue
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                skipped.append(Skipped(where, t("folder.zip_link")))
                continue
            if count >= ZIP_MEMBERS or total + info.file_size > ZIP_BYTES:
                skipped.append(Skipped(where, t("folder.zip_too_much", members=ZIP_MEMBERS,
                                                mib=ZIP_BYTES // (1024 * 1024))))
                continue
            total += info.file_size
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src:
                    data = src.read(info.file_size + 1)  # no more than its header owns up to
            except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as e:  # encrypted, corrupt
                skipped.append(Skipped(where, t("folder.bad_zip", error=str(e)[:120])))
                continue
            if len(data) > info.file_size:
                skipped.append(Skipped(where, t("folder.bad_zip", error="a member larger than its header says")))
                continue
            dest.write_bytes(data)
            stamp = time.mktime((*info.date_time, 0, 0, -1))
            os.utime(dest, (stamp, stamp))
    return target


def _member_name(info: zipfile.ZipInfo) -> str:
    """A member's name as its author wrote it: a zip made on a Chinese Windows stores GBK bytes without saying so
    (zipfile then reads them as cp437)."""
    name = info.filename
    if not info.flag_bits & 0x800:
        try:
            name = name.encode("cp437").decode("gbk")
        except (UnicodeEncodeError, UnicodeDecodeError):
            pass
    return name
