"""A memory and a pids control group per child, made by the grader and joined by the child itself.

What RLIMIT_AS cannot see counts there: pages parked in memfds or shared memory, the scratch
tmpfs, every thread. The groups nest under the grader's own (whatever limits the grader's machine
sets still hold), one per child, removed after it; whatever is left in one is killed first.

cgroup v1 (separate `memory` and `pids` hierarchies, as on these machines) or v2 (one hierarchy,
where the grader's own group hands memory and pids down). Where neither can be written (not root,
or a v2 group that does not delegate them), a child has none and its report says so.
"""

from __future__ import annotations

import functools
import itertools
import os
import signal
import time
from dataclasses import dataclass

CONTROLLERS = ("memory", "pids")
_names = itertools.count()
REMOVE_SECONDS = 2.0  # how long a group's last processes may take to be gone


@dataclass
class Groups:
    """One child's groups: v1 one folder per controller, v2 one folder for both."""

    version: int
    folders: list[str]

    @property
    def procs(self) -> list[str]:
        """The files a process writes its pid into to join the groups."""
        return [os.path.join(f, "cgroup.procs") for f in self.folders]

    def oom_killed(self) -> bool:
        """Whether the kernel killed a process of the group for going over its memory limit."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        for line in _read(os.path.join(self.folders[0], name)).splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip() not in ("", "0"):
                return True
        return False

    def kill(self) -> None:
        """SIGKILL every process still in the groups."""
        if self.version == 2 and _write(os.path.join(self.folders[0], "cgroup.kill"), "1"):
            return
        for path in self.procs:
            for pid in _read(path).split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, PermissionError, ValueError):
                    pass

    def remove(self) -> list[str]:
        """Remove the groups, killing what is left in them; what could not be removed (never silent)."""
        problems = []
        deadline = time.monotonic() + REMOVE_SECONDS
        for folder in reversed(self.folders):
            while True:
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError as e:
                    if time.monotonic() > deadline:
                        problems.append(f"{folder}: {e.strerror}")
                        break
                    self.kill()
                    time.sleep(0.01)
        return problems


def create(memory_bytes: int, tasks: int) -> Groups | None:
    """New groups for one child: at most `memory_bytes` of memory, `tasks` threads and processes.
    None where control groups cannot be made here."""
    where = _parents()
    if where is None:
        return None
    version, parents = where
    name = f"bpgrade-{os.getpid()}-{next(_names)}"
    folders = []
    try:
        for parent in parents:
            folder = os.path.join(parent, name)
            os.mkdir(folder)
            folders.append(folder)
        groups = Groups(version, folders)
        if version == 1:
            limits = [(folders[0], "memory.limit_in_bytes", memory_bytes), (folders[1], "pids.max", tasks)]
        else:
            limits = [(folders[0], "memory.max", memory_bytes), (folders[0], "memory.swap.max", 0),
                      (folders[0], "pids.max", tasks)]
        for folder, key, value in limits:
            path = os.path.join(folder, key)
            if os.path.exists(path) and not _write(path, str(value)):
                raise OSError(f"cannot set {path}")
        return groups
    except OSError:
        for folder in reversed(folders):
            try:
                os.rmdir(folder)
            except OSError:
                pass
        return None


@functools.cache
def _parents() -> tuple[int, list[str]] | None:
    """(version, the folders new groups go in: memory's then pids' for v1), or None where none can be made."""
    if os.geteuid() != 0:
        return None
    where = places(_read("/proc/self/mountinfo"), _read("/proc/self/cgroup"))
    v1 = [where.get(c) for c in CONTROLLERS]
    found: tuple[int, list[str]] | None = None
    if all(v1) and all(os.access(f, os.W_OK) for f in v1):  # type: ignore[arg-type]
        found = 1, v1  # type: ignore[assignment]
    elif (v2 := where.get("")) and _delegates(v2):
        found = 2, [v2]
    if found:
        _sweep(found[1])
    return found


def _sweep(parents: list[str]) -> None:
    """Remove the groups a grader killed outright (SIGKILL) left behind: named after a pid that no longer
    runs. Empty: their processes died with the grader's sessions; one that is not stays."""
    for parent in parents:
        for name in os.listdir(parent):
            parts = name.split("-")
            if len(parts) != 3 or parts[0] != "bpgrade" or not parts[1].isdigit():
                continue
            try:
                os.kill(int(parts[1]), 0)
                continue  # that grader still runs (or its pid is taken: the group is left alone)
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
            try:
                os.rmdir(os.path.join(parent, name))
            except OSError:
                pass


def places(mountinfo: str, own_groups: str) -> dict[str, str]:
    """Controller ("" for the v2 hierarchy) -> the folder of this process's own group in it, from
    /proc/self/mountinfo and /proc/self/cgroup; only folders that exist."""
    mounts, own = _mounts(mountinfo), _own(own_groups)
    found = {c: _folder(mounts[c], own.get(c)) for c in mounts}
    return {c: f for c, f in found.items() if f}


def _mounts(mountinfo: str) -> dict[str, tuple[str, str]]:
    """Controller ("" for the v2 hierarchy) -> (the hierarchy's root as mounted, where it is mounted)."""
    out: dict[str, tuple[str, str]] = {}
    for line in mountinfo.splitlines():
        fields, _, tail = line.partition(" - ")
        parts, kinds = fields.split(), tail.split()
        if len(parts) < 5 or len(kinds) < 3:
            continue
        root, point = parts[3], parts[4]
        if kinds[0] == "cgroup2":
            out.setdefault("", (root, point))
        elif kinds[0] == "cgroup":
            for option in kinds[2].split(","):
                if option in CONTROLLERS:
                    out.setdefault(option, (root, point))
    return out


def _own(own_groups: str) -> dict[str, str]:
    """Controller ("" for v2) -> this process's group path in that hierarchy (/proc/self/cgroup)."""
    out = {}
    for line in own_groups.splitlines():
        _, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            out[c] = path
    return out


def _folder(mount: tuple[str, str], path: str | None) -> str | None:
    """Where the group `path` of a hierarchy is, given where (and from which root) the hierarchy is mounted."""
    root, point = mount
    if path is None or not (path == root or path.startswith(root.rstrip("/") + "/")):
        return None
    below = path[len(root):].strip("/")
    folder = os.path.join(point, below) if below else point
    return folder if os.path.isdir(folder) else None


def _delegates(folder: str) -> bool:
    """Whether a v2 group hands memory and pids down to the groups made in it (asking for it where it may)."""
    wanted = set(CONTROLLERS)
    control = os.path.join(folder, "cgroup.subtree_control")
    if wanted <= set(_read(control).split()):
        return True
    if not wanted <= set(_read(os.path.join(folder, "cgroup.controllers")).split()):
        return False
    return _write(control, " ".join(f"+{c}" for c in CONTROLLERS))  # refused where the group holds processes


def _read(path: str) -> str:
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _write(path: str, text: str) -> bool:
    try:
        with open(path, "w", encoding="ascii") as f:
            f.write(text)
        return True
    except OSError:
        return False
