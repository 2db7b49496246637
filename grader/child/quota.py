"""The child's share of the machine: its own control groups and a size-limited scratch folder.

Standalone (the child imports it without the grader package). Both are set up while the child is
still root and before the submission runs:

* control groups (made by the grader, see grader/cgroups.py): the child writes its pid into each
  group's `cgroup.procs`; from then on every page it touches (memfd, shared memory, tmpfs pages
  included, which RLIMIT_AS never sees) and every thread it starts counts against the group's limit.
* scratch: a tmpfs of bounded size and file count mounted on the scratch folder in the child's own
  mount namespace (boot.unshare_namespaces), owned by the child's uid. Many files each under
  RLIMIT_FSIZE fill that tmpfs, never the disk, and it is gone with the child: nothing to clean up.
  The files copied beside the submission are written into it then (`stage`).
"""

from __future__ import annotations

import base64
import ctypes
import os

_MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REC, _MS_PRIVATE = 0x2, 0x4, 0x8, 0x4000, 0x40000


def join(procs: list[str]) -> bool:
    """Move this process into each group (its `cgroup.procs` files). False when there are none, or one fails."""
    if not procs:
        return False
    pid = str(os.getpid())
    try:
        for path in procs:
            with open(path, "w", encoding="ascii") as f:
                f.write(pid)
    except OSError:
        return False
    return True


def mount_scratch(own_namespace: bool, scratch: str, uid: int | None, size_bytes: int, files: int) -> bool:
    """A tmpfs of `size_bytes` and at most `files` inodes on `scratch`, owned by `uid` (or root).

    Only in a mount namespace of the child's own (`own_namespace`), made private first so that nothing
    propagates to the grader's. False where that could not be done: the scratch folder is then the
    grader's folder on disk.
    """
    if not own_namespace or os.geteuid() != 0:
        return False
    mount = ctypes.CDLL(None, use_errno=True).mount
    mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
    if mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None) != 0:
        return False
    owner = 0 if uid is None else uid
    options = f"size={size_bytes},nr_inodes={files},mode=0700,uid={owner},gid={owner}".encode()
    return mount(b"bpgrade-scratch", scratch.encode(), b"tmpfs", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC, options) == 0


def own_scratch(scratch: str, uid: int | None) -> None:
    """Give the scratch folder to `uid` where it is not a tmpfs mounted for it (a folder on disk)."""
    if uid is not None and os.geteuid() == 0:
        os.chown(scratch, uid, uid)


def stage(scratch: str, files: dict[str, str]) -> None:
    """Write a submission's helpers and data (relative path -> base64, chosen and bounded by the parent's
    grader/beside.py) into the scratch folder, read-only, before the submission runs: what `python hw2.py`
    finds beside the file on the student's machine. A path that would leave the folder is not written."""
    root = os.path.realpath(scratch)
    for rel, data in files.items():
        target = os.path.realpath(os.path.join(root, rel))
        if not target.startswith(root + os.sep) or os.path.exists(target):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "xb") as f:
            f.write(base64.b64decode(data))
        os.chmod(target, 0o444)
