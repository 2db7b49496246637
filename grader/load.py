"""Turn a submitted `.py` or `.ipynb` file into Python source text, without running it.

Students hand in GBK files from Windows machines, UTF-16 from Notepad's "Unicode", notebooks with
IPython magics, Colab's `drive.mount(...)` and cells run out of order; all are accepted as they are,
and every liberty taken is reported as a note. Where `python file.py` itself would refuse the file
(UTF-16, or a `# coding=gbk` line over UTF-8 bytes), it is graded all the same and `refused` says why,
for the `runs` check to tell the student.
"""

from __future__ import annotations

import ast
import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .i18n import t

MAX_BYTES = 2 * 1024 * 1024
_CODING = re.compile(rb"^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)")
# cell magics whose body is not Python: the whole cell goes
_COLAB = re.compile(r"^\s*(from\s+google\.colab(\.\w+)*\s+import\s+(?P<names>[\w\s,()]+?)\s*$"
                    r"|import\s+google\.colab(\.\w+)*(\s+as\s+(?P<alias>\w+))?\s*$)")
_FOREIGN_CELLS = ("%%bash", "%%sh", "%%script", "%%html", "%%javascript", "%%js", "%%latex",
                  "%%markdown", "%%writefile", "%%svg", "%%perl", "%%ruby", "%%system")


class LoadError(Exception):
    """The file cannot be turned into Python source; the message is the one-line reason. A file with a syntax
    error carries `salvaged`, its tree with the offending lines left out: enough to tell its assignment."""

    def __init__(self, message: str, salvaged: ast.Module | None = None) -> None:
        super().__init__(message)
        self.salvaged = salvaged


@dataclass
class Source:
    text: str
    filename: str
    notes: list[str] = field(default_factory=list)
    cells: list[tuple[int, int]] = field(default_factory=list)  # (first line, cell number)
    tree: ast.Module = field(default_factory=lambda: ast.Module(body=[], type_ignores=[]))  # set by load()
    refused: str | None = None  # why `python file.py` itself would refuse the file, though it is graded

    def where(self, line: int) -> str:
        """`line 12`, or `cell 3, line 2` for a notebook."""
        for first, cell in sorted(self.cells, reverse=True):
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
        source.text = _colab(source.text.splitlines(keepends=True), source.notes, None)
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
    if (utf16 := _utf16(raw)) is not None:
        return Source(text=utf16, filename=name, notes=[t("load.read_as_utf16")], refused=t("load.refused_utf16"))
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
        return Source(text=text, filename=name, notes=notes, refused=_refused(raw, declared, encoding))
    raise LoadError(t("load.not_text", name=name))


def _utf16(raw: bytes) -> str | None:
    """The text of a UTF-16 file (Notepad's "Unicode"): by its byte order mark, or by the zero byte beside
    every ASCII character that UTF-16 without one shows."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    elif len(raw) >= 4 and raw[1::2].count(0) > 0.4 * (len(raw) // 2) and raw[0::2].count(0) < len(raw) // 20:
        encoding = "utf-16-le"
    elif len(raw) >= 4 and raw[0::2].count(0) > 0.4 * (len(raw) // 2) and raw[1::2].count(0) < len(raw) // 20:
        encoding = "utf-16-be"
    else:
        return None
    try:
        return raw.decode(encoding).lstrip("\ufeff")
    except UnicodeDecodeError:
        return None


def _refused(raw: bytes, declared: str | None, used: str) -> str | None:
    """Why python would not run the file although it was read: it decodes by the coding line alone."""
    if declared is None or used.replace("-sig", "") == declared.lower().replace("_", "-"):
        return None
    try:
        raw.decode(declared)
    except LookupError:
        return t("load.refused_unknown_coding", coding=declared)
    except UnicodeDecodeError as e:
        return t("load.refused_coding", coding=declared, read=used.replace("-sig", "").upper(), at=e.start)
    return None


def _colab(lines: list[str], notes: list[str], cell: int | None) -> str:
    """The source without Colab's own lines (`from google.colab import drive`, `drive.mount(...)`), which need
    Google's servers: each becomes `pass` at its indentation, so the line numbers and blocks stay, with a note."""
    names: set[str] = set()
    out = []
    dropped = []
    for line in lines:
        stripped = line.strip()
        m = _COLAB.match(line)
        if m:
            names.update(n.split(" as ")[-1].strip() for n in (m.group("names") or "").strip("() ").split(",") if n)
            names.add(m.group("alias") or "google")
        uses = re.match(r"^\s*(\w+\s*=\s*)?(\w+)\.", line)
        if m or (uses and uses.group(2) in names):
            dropped.append(t("load.dropped_line", cell=cell, line=stripped) if cell else stripped)
            indent = line[:len(line) - len(line.lstrip())]
            out.append(f"{indent}pass\n" if line.endswith("\n") else f"{indent}pass")
        else:
            out.append(line)
    if dropped:
        notes.append(t("load.colab", count=len(dropped), shown=t("common.sep").join(dropped[:3])
                       + (" …" if len(dropped) > 3 else "")))
    return "".join(out)


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
    notes: list[str] = []
    colab: list[str] = []
    line = 1
    code = [(number, cell) for number, cell in enumerate(nb.cells, start=1) if cell.get("cell_type") == "code"]
    ordered = _execution_order(code)
    if ordered != code:
        notes.append(t("load.execution_order", cells=t("common.names").join(
            t("load.cell_run", cell=n, count=c.get("execution_count")) for n, c in ordered)))
    for number, cell in ordered:  # numbered as the student sees them: markdown cells count too
        text = cell.get("source", "")
        text = "".join(text) if isinstance(text, list) else str(text)
        if text.lstrip().startswith(_FOREIGN_CELLS):
            dropped.append(t("load.dropped_line", cell=number, line=text.strip().splitlines()[0]))
            continue
        kept = _without_magics(text.splitlines(), number, dropped)
        cells.append((line, number))
        body = _colab([k + "\n" for k in kept], colab, number) + "\n"
        parts.append(body)
        line += body.count("\n")
    if dropped:
        shown = t("common.sep").join(dropped[:4]) + (" …" if len(dropped) > 4 else "")
        notes.append(t("load.dropped", count=len(dropped), shown=shown))
    return Source(text="".join(parts), filename=name, notes=notes + colab, cells=cells)


_MAGIC = re.compile(r"[!%]|\w+\s*=\s*[!%]")  # `%time f()`, `!pip install x`, `files = !ls`, at a line's start


def _without_magics(lines: list[str], cell: int, dropped: list[str]) -> list[str]:
    """A cell's lines with its IPython magics and shell lines each replaced by `pass` at their indentation (the
    line numbers and blocks stay), and named in `dropped`. As in IPython, only a line that starts a statement
    can be one: `!= b` or `% n` continuing a bracket is Python. A magic's own backslash continuations go with it."""
    kept = []
    state = _Scan()
    magic = False
    for src_line in lines:
        stripped = src_line.lstrip()
        if magic:  # the magic's own continuation line
            kept.append("")
            magic = src_line.rstrip().endswith("\\")
        elif state.starts_statement() and _MAGIC.match(stripped):
            dropped.append(t("load.dropped_line", cell=cell, line=stripped))
            kept.append(src_line[:len(src_line) - len(stripped)] + "pass")
            magic = src_line.rstrip().endswith("\\")
        else:
            state.feed(src_line)
            kept.append(src_line)
    return kept


class _Scan:
    """Where a line of Python leaves the next one: inside brackets, a triple-quoted string or after a
    backslash (a continuation), or at the start of a new statement. Enough of the tokenizer to tell."""

    def __init__(self) -> None:
        self.depth = 0
        self.quote: str | None = None  # the open triple quote
        self.backslash = False

    def starts_statement(self) -> bool:
        return self.depth == 0 and self.quote is None and not self.backslash

    def feed(self, line: str) -> None:
        i, quote, comment = 0, self.quote, False
        while i < len(line):
            c = line[i]
            if quote is not None:
                if c == "\\":
                    i += 2
                    continue
                if line.startswith(quote, i):
                    i, quote = i + len(quote), None
                    continue
            elif c == "#":
                comment = True
                break
            elif c in "([{":
                self.depth += 1
            elif c in ")]}":
                self.depth = max(0, self.depth - 1)
            elif c in "'\"":
                quote = line[i:i + 3] if line[i:i + 3] in ('"""', "'''") else c
                i += len(quote)
                continue
            i += 1
        self.backslash = not comment and line.rstrip().endswith("\\") and (quote is None or len(quote) == 1)
        self.quote = quote if quote is not None and (len(quote) == 3 or self.backslash) else None


def _execution_order(code: list[tuple[int, Any]]) -> list[tuple[int, Any]]:
    """The code cells in the order the kernel ran them, where their execution counts say so: every cell with
    code has a count and the counts differ (a notebook restarted and cleared has none: its own order)."""
    counted = [(n, c) for n, c in code if str(c.get("source", "")).strip() or c.get("source")]
    counts = [c.get("execution_count") for _, c in counted]
    if not counted or any(not isinstance(k, int) for k in counts) or len(set(counts)) != len(counts):
        return code
    ran = sorted(counted, key=lambda nc: nc[1].get("execution_count"))
    empty = [nc for nc in code if nc not in counted]
    return ran + empty if ran != counted else code


_PARSING = threading.Lock()  # ast.parse is not thread-safe in CPython 3.11 (gh-106905); a batch loads in threads


def _parse(source: Source) -> ast.Module:
    """The syntax tree, or the one-line reason it has none."""
    try:
        with _PARSING:
            return ast.parse(source.text, filename=source.filename)
    except SyntaxError as e:
        where = source.where(e.lineno or 0) if e.lineno else t("load.unknown_line")
        raise LoadError(t("load.syntax_error", where=where, message=e.msg), _salvage(source.text, e)) from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise LoadError(t("load.unparsable", type=type(e).__name__)) from None


SALVAGE_TRIES = 20  # lines left out, one per syntax error, before giving up


def _salvage(text: str, error: SyntaxError) -> ast.Module | None:
    """The tree of the file with each line that has a syntax error mended (the colon a `def` line lacks) or
    replaced by `pass` (at its indentation): what the rest of the file defines tells its assignment, so a
    broken file is still 0 of the right total."""
    lines = text.splitlines()
    for _ in range(SALVAGE_TRIES):
        number = error.lineno or 0
        if not 0 < number <= len(lines):
            return None
        bad = lines[number - 1]
        code = bad.split("#", 1)[0].rstrip()
        compound = re.match(r"\s*(def|class|if|elif|else|for|while|with|try|except|finally)\b", code)
        if compound and not code.endswith(":"):
            lines[number - 1] = code + ":"
        else:
            lines[number - 1] = bad[:len(bad) - len(bad.lstrip())] + "pass"
        try:
            with _PARSING:
                return ast.parse("\n".join(lines))
        except SyntaxError as e:
            if e.lineno == number and lines[number - 1].strip() == "pass":
                lines[number - 1] = ""  # its indentation was the problem
            elif e.lineno == number:
                lines[number - 1] = bad[:len(bad) - len(bad.lstrip())] + "pass"  # the mended colon was not it
            error = e
        except (RecursionError, MemoryError, ValueError):
            return None
    return None
