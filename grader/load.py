"""Turn a submitted `.py` or `.ipynb` file into Python source text, without running it.

Students hand in GBK files from Windows machines and notebooks with IPython magics;
both are accepted as they are, and every liberty taken is reported as a note.
"""

from __future__ import annotations

import ast
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .i18n import t

MAX_BYTES = 2 * 1024 * 1024
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
# cell magics whose body is not Python: the whole cell goes
_FOREIGN_CELLS = ("%%bash", "%%sh", "%%script", "%%html", "%%javascript", "%%js", "%%latex",
                  "%%markdown", "%%writefile", "%%svg", "%%perl", "%%ruby", "%%system")


class LoadError(Exception):
    """The file cannot be turned into Python source; the message is the one-line reason."""


@dataclass
class Source:
    text: str
    filename: str
    notes: list[str] = field(default_factory=list)
    cells: list[tuple[int, int]] = field(default_factory=list)  # (first line, cell number)
    tree: ast.Module = field(default_factory=lambda: ast.Module(body=[], type_ignores=[]))  # set by load()

    def where(self, line: int) -> str:
        """`line 12`, or `cell 3, line 2` for a notebook."""
        for first, cell in reversed(self.cells):
            if line >= first:
                return t("load.cell_line", cell=cell, line=line - first + 1)
        return t("load.line", line=line)

    def place(self, line: int | None, function: str | None = None) -> str:
        """` at line 12 in f` (` at cell 3, line 2 in f`) for a line of the submission; '' if unknown."""
        if line is None:
            return ""
        return t("load.at_in", place=self.where(line), function=function) if function \
            else t("load.at", place=self.where(line))

    def line(self, number: int) -> str:
        """The text of one line of the source (as graded: a notebook's cells joined)."""
        lines = self.text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else ""

    def at(self, where: object) -> str:
        """A child's `line 12 in f` as ` at line 12 in f` (` at cell 3, line 2 in f`); '' if unknown."""
        words = str(where or "").split(maxsplit=2)
        if len(words) >= 2 and words[0] == "line" and words[1].isdigit():
            place = self.where(int(words[1]))
            if len(words) > 2 and words[2].startswith("in "):
                return t("load.at_in", place=place, function=words[2][3:])
            return t("load.at", place=place) + (f" {words[2]}" if len(words) > 2 else "")
        return t("load.at", place=where) if where else ""


def load(path: Path) -> Source:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise LoadError(t("load.cannot_read", name=path.name, reason=e.strerror or e)) from None
    if len(raw) > MAX_BYTES:
        raise LoadError(t("load.too_big", name=path.name, size=len(raw) // 1024, limit=MAX_BYTES // 1024))
    suffix = path.suffix.lower()
    if suffix == ".py":
        source = _python(raw, path.name)
    elif suffix == ".ipynb":
        source = _notebook(raw, path.name)
    else:
        raise LoadError(t("load.wrong_suffix", name=path.name))
    if not source.text.strip():
        raise LoadError(t("load.no_code_cells", name=path.name) if suffix == ".ipynb"
                        else t("load.no_code", name=path.name))
    source.tree = _parse(source)
    return source


def _python(raw: bytes, name: str) -> Source:
    notes: list[str] = []
    declared = next((m.group(1).decode("ascii", "replace") for line in raw.splitlines()[:2]
                     if (m := _CODING.match(line))), None)
    # valid UTF-8 is almost never GBK by accident, while UTF-8 bytes often decode as GBK
    # mojibake: so UTF-8 first, whatever a (stale) coding line says
    for encoding in dict.fromkeys(["utf-8-sig", *([declared] if declared else []), "gbk"]):
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if encoding == "gbk" and (declared or "").lower() not in ("gbk", "cp936", "gb2312", "gb18030"):
            notes.append(t("load.read_as_gbk"))
        return Source(text=text, filename=name, notes=notes)
    raise LoadError(t("load.not_text", name=name))


def _notebook(raw: bytes, name: str) -> Source:
    from nbformat import convert, reader  # only notebooks pay for it

    try:  # nbformat's reader, without its schema validation: it only logs, and compiling it costs ~80 ms
        nb = convert(reader.reads(raw.decode("utf-8-sig")), 4)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LoadError(t("load.notebook_not_json", name=name, error=e)) from None
    except Exception as e:  # nbformat raises its own zoo for broken structure
        raise LoadError(t("load.notebook_broken", name=name, type=type(e).__name__, error=e)) from None
    if not isinstance(nb.get("cells"), list):
        raise LoadError(t("load.notebook_no_cells", name=name))
    parts: list[str] = []
    cells: list[tuple[int, int]] = []
    dropped: list[str] = []
    line = 1
    code_number = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        code_number += 1
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        if text.lstrip().startswith(_FOREIGN_CELLS):
            dropped.append(t("load.dropped_line", cell=code_number, line=text.strip().splitlines()[0]))
            continue
        kept = []
        for src_line in text.splitlines():
            stripped = src_line.lstrip()
            if stripped.startswith(("%", "!")) or re.match(r"^\w+\s*=\s*[!%]", stripped):
                dropped.append(t("load.dropped_line", cell=code_number, line=stripped))
                kept.append("")  # keep line numbers aligned with the cell
            else:
                kept.append(src_line)
        cells.append((line, code_number))
        body = "\n".join(kept) + "\n\n"
        parts.append(body)
        line += body.count("\n")
    notes = []
    if dropped:
        shown = t("common.sep").join(dropped[:4]) + (" …" if len(dropped) > 4 else "")
        notes.append(t("load.dropped", count=len(dropped), shown=shown))
    return Source(text="".join(parts), filename=name, notes=notes, cells=cells)


_PARSING = threading.Lock()  # ast.parse is not thread-safe in CPython 3.11 (gh-106905); a batch loads in threads


def _parse(source: Source) -> ast.Module:
    """The syntax tree, or the one-line reason it has none."""
    try:
        with _PARSING:
            return ast.parse(source.text, filename=source.filename)
    except SyntaxError as e:
        where = source.where(e.lineno or 0) if e.lineno else t("load.unknown_line")
        raise LoadError(t("load.syntax_error", where=where, message=e.msg)) from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise LoadError(t("load.unparsable", type=type(e).__name__)) from None
