"""Remove a folder a child had: its scratch, or a fork server's temporary font cache.

Removal must never follow a link the child left, must get past permissions the child took away, and must
say what it could not remove (a file flagged immutable, a busy mount): clean-up never fails silently.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from typing import Any


def remove(folder: str) -> list[str]:
    """Remove a scratch folder (a tmpfs mounted on it is the child's and gone with it: then it is empty),
    never following a link; what could not be removed. A folder the child made unwritable is opened up."""
    problems: list[str] = []

    def failed(function: Callable[[str], Any], path: str, error: Any) -> None:
        e = error[1] if isinstance(error, tuple) else error  # onerror's exc_info (3.11), onexc's exception
        try:
            if isinstance(e, PermissionError):
                os.chmod(os.path.dirname(path), 0o700)
                function(path)
                return
        except OSError:
            pass
        problems.append(f"{path}: {getattr(e, 'strerror', None) or e}")

    if sys.version_info >= (3, 12):
        shutil.rmtree(folder, onexc=failed)
    else:
        shutil.rmtree(folder, onerror=failed)
    return problems
