"""Hidden cases no submission can learn in advance: their seed is drawn per file from the grader's secret.

The seed is an HMAC of a random key and the file's bytes (and those of the files copied beside it): a
file graded twice meets the same cases (a rerun reproduces its verdict), but any change to it (a lookup
table built from cases it once printed) meets new ones. The key never enters the child nor the repository: it comes from
$BPGRADE_SECRET, else a file made once with 0600 rights in the user's config folder.
`--seed` still fixes the cases, to reproduce a verdict; the instructor's JSON records the seed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from functools import cache
from pathlib import Path


@cache
def key() -> bytes:
    env = os.environ.get("BPGRADE_SECRET")
    if env:
        return env.encode()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "backprop-grader"
    path = base / "secret"
    try:
        return path.read_bytes()
    except OSError:
        pass
    made = secrets.token_hex(32).encode()
    try:
        base.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(made)
    except FileExistsError:  # another grader made it meanwhile
        return path.read_bytes()
    except OSError:
        pass  # nowhere to keep it: this process's cases are secret still, only not reproducible across runs
    return made


def seed_for(content: bytes, assignment: str, beside: Mapping[str, bytes] | None = None) -> int:
    """The hidden cases' seed for one file of one assignment, and of the files copied beside it (its helpers and
    data): a table of answers kept in a data file meets new cases when it changes, as the code does."""
    mac = hmac.new(key(), assignment.encode() + b"\0" + content, hashlib.sha256)
    for name in sorted(beside or {}):
        data = (beside or {})[name]
        mac.update(b"\0" + name.encode("utf-8", "surrogateescape") + b"\0" + str(len(data)).encode() + b"\0" + data)
    return int.from_bytes(mac.digest()[:8], "big")
