"""Turn a submitted `.py` or `.ipynb` file into Python source text, without running it.

Students hand in GBK files from Windows machines and notebooks with IPython magics;
both are accepted as they are, and every liberty taken is reported as a note.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

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

    def where(self, line: int) -> str:
        """`line 12`, or `cell 3, line 2` for a notebook."""
        for first, cell in reversed(self.cells):
            if line >= first:
                return f"cell {cell}, line {line - first + 1}"
        return f"line {line}"

    def at(self, where: object) -> str:
        """A child's `line 12 in f` as ` at line 12 in f` (` at cell 3, line 2 in f`); '' if unknown."""
        words = str(where or "").split(maxsplit=2)
        if len(words) >= 2 and words[0] == "line" and words[1].isdigit():
            return " at " + self.where(int(words[1])) + (f" {words[2]}" if len(words) > 2 else "")
        return f" at {where}" if where else ""


def load(path: Path) -> Source:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise LoadError(f"cannot read {path.name}: {e.strerror or e}") from None
    if len(raw) > MAX_BYTES:
        raise LoadError(f"{path.name} is {len(raw) // 1024} KiB; a submission may be at most {MAX_BYTES // 1024} KiB")
    suffix = path.suffix.lower()
    if suffix == ".py":
        source = _python(raw, path.name)
    elif suffix == ".ipynb":
        source = _notebook(raw, path.name)
    else:
        raise LoadError(f"{path.name} is not a .py or .ipynb file")
    if not source.text.strip():
        raise LoadError(f"{path.name} has no code" + (" cells" if suffix == ".ipynb" else ""))
    _syntax_check(source)
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
            notes.append("the file is not UTF-8; read it as GBK (save it as UTF-8 to be safe)")
        return Source(text=text, filename=name, notes=notes)
    raise LoadError(f"{name} is neither UTF-8 nor GBK text")


def _notebook(raw: bytes, name: str) -> Source:
    import nbformat  # only notebooks pay for it

    try:
        nb = nbformat.reads(raw.decode("utf-8-sig"), as_version=4)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise LoadError(f"{name} is a corrupted notebook (not valid JSON: {e})") from None
    except Exception as e:  # nbformat raises its own zoo for broken structure
        raise LoadError(f"{name} is a corrupted notebook ({type(e).__name__}: {e})") from None
    if not isinstance(nb.get("cells"), list):
        raise LoadError(f"{name} is a corrupted notebook (no cell list)")
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
            dropped.append(f"cell {code_number}: {text.strip().splitlines()[0]}")
            continue
        kept = []
        for src_line in text.splitlines():
            stripped = src_line.lstrip()
            if stripped.startswith(("%", "!")) or re.match(r"^\w+\s*=\s*[!%]", stripped):
                dropped.append(f"cell {code_number}: {stripped}")
                kept.append("")  # keep line numbers aligned with the cell
            else:
                kept.append(src_line)
        cells.append((line, code_number))
        body = "\n".join(kept) + "\n\n"
        parts.append(body)
        line += body.count("\n")
    notes = []
    if dropped:
        shown = "; ".join(dropped[:4]) + (" …" if len(dropped) > 4 else "")
        notes.append(f"dropped {len(dropped)} IPython magic/shell line(s) a script cannot run ({shown})")
    return Source(text="".join(parts), filename=name, notes=notes, cells=cells)


def _syntax_check(source: Source) -> None:
    try:
        ast.parse(source.text, filename=source.filename)
    except SyntaxError as e:
        where = source.where(e.lineno or 0) if e.lineno else "an unknown line"
        raise LoadError(f"syntax error at {where}: {e.msg}") from None
    except (RecursionError, MemoryError, ValueError) as e:
        raise LoadError(f"the file cannot be parsed ({type(e).__name__})") from None
