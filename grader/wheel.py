"""A wheel of the grader that is running, so an autograder bundle installs exactly the code that built it.

Made from the imported packages and the installed distribution's metadata, not by a build backend:
it needs no source tree, network or setuptools, and works the same from an editable install (the
assignments then come from the checkout's `assignments/`) and from a wheel install. The layout is
the one pyproject.toml gives: `grader/` with `grader/assignments/*.toml`, and `reference/`.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from importlib import metadata
from pathlib import Path

import reference

from . import ASSIGNMENTS_DIR

DISTRIBUTION = "backprop-grader"
SKIPPED = ("__pycache__",)


def _files() -> list[tuple[str, Path]]:
    """(path inside the wheel, file on disk) for every file of the packages, sorted."""
    grader_dir = Path(__file__).resolve().parent
    roots = [("grader", grader_dir), ("reference", Path(reference.__file__).resolve().parent),
             ("grader/assignments", ASSIGNMENTS_DIR.resolve())]
    out: dict[str, Path] = {}
    for prefix, root in roots:
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if not path.is_file() or path.suffix == ".pyc" or any(part in SKIPPED for part in rel.parts):
                continue
            if prefix == "grader" and rel.parts[0] == "assignments":
                continue  # a wheel install has them here: they come from ASSIGNMENTS_DIR below, once
            out[f"{prefix}/{rel.as_posix()}"] = path
    return sorted(out.items())


def _digest(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build() -> tuple[str, bytes]:
    """The wheel's file name and bytes (PEP 427: a zip with the packages, METADATA, WHEEL, entry points, RECORD)."""
    dist = metadata.distribution(DISTRIBUTION)
    name, version = DISTRIBUTION.replace("-", "_"), dist.version
    info = f"{name}-{version}.dist-info"
    entries = [(arc, path.read_bytes()) for arc, path in _files()]
    core = dist.read_text("METADATA") or dist.read_text("PKG-INFO")  # PKG-INFO: a checkout's egg-info, found first
    if not core:
        raise RuntimeError(f"the installed {DISTRIBUTION} has no metadata to build its wheel from")
    entries += [
        (f"{info}/METADATA", core.encode()),
        (f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: backprop-grader bundle\nRoot-Is-Purelib: true\n"
                          b"Tag: py3-none-any\n"),
        (f"{info}/entry_points.txt", (dist.read_text("entry_points.txt") or "").encode()),
    ]
    record = "".join(f"{arc},{_digest(data)},{len(data)}\n" for arc, data in entries) + f"{info}/RECORD,,\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for arc, data in [*entries, (f"{info}/RECORD", record.encode())]:
            entry = zipfile.ZipInfo(arc, date_time=(1980, 1, 1, 0, 0, 0))
            entry.external_attr = 0o100644 << 16
            z.writestr(entry, data, zipfile.ZIP_DEFLATED)
    return f"{name}-{version}-py3-none-any.whl", buf.getvalue()
