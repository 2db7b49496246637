"""The child becomes nobody: an unprivileged uid of its own, no capability but reading, a bounded task count.

Standalone (the child imports it without the grader package). Applied after the child is set up and
before the submission runs, by a child started as root (the grader on a grading machine); elsewhere
the child keeps the grader's own user and the report says this layer is missing.

Then the kernel's own permission rules keep the child away from the grader, the fork server and other
children (prlimit, setpriority, sched_setaffinity, signals, ptrace all need the same uid or a
capability), `chattr +i` is refused (CAP_LINUX_IMMUTABLE), and RLIMIT_NPROC counts its threads (it is
not enforced for root). One capability is kept: CAP_DAC_READ_SEARCH, because the interpreter may
live where only root may read (/root, mode 700); Landlock still decides what may be read, and
seccomp denies `open_by_handle_at`, which that capability would otherwise open (confine.py).
"""

from __future__ import annotations

import ctypes
import functools
import os
import resource

CAP_DAC_READ_SEARCH = 2
KEPT = 1 << CAP_DAC_READ_SEARCH  # the capability set the child keeps, as a mask
_PR_CAPBSET_DROP, _PR_SET_KEEPCAPS, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 24, 8, 47, 4
_CAPABILITY_V3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


# built once (in the fork server, which imports this module): making ctypes types costs a child ~0.4 ms
_header = _CapHeader(_CAPABILITY_V3, 0)
_kept = (_CapData * 2)()
_kept[0].effective = _kept[0].permitted = KEPT
_bounded = False  # the bounding set is down to KEPT already (the fork server did it for its children)


@functools.cache
def _libc() -> ctypes.CDLL:
    """The C library, looked up once (by the fork server's drop_bounding: its children inherit it)."""
    return ctypes.CDLL(None, use_errno=True)


def _last_capability() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as f:
            return int(f.read())
    except (OSError, ValueError):
        return 63  # dropping a capability the kernel does not know fails harmlessly


def drop_bounding() -> None:
    """Take every capability but the kept one out of the bounding set: none can ever come back.

    Needs CAP_SETPCAP (root). The fork server does it once, before forking: its children inherit it;
    the server itself never execs, and keeps its own (permitted) capabilities.
    """
    global _bounded
    if _bounded or os.geteuid() != 0:
        return
    for cap in range(_last_capability() + 1):
        if cap != CAP_DAC_READ_SEARCH:
            _libc().prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0)
    _bounded = True


def become(uid: int | None, tasks: int) -> bool:
    """Switch to `uid` (group too, no supplementary groups) with only CAP_DAC_READ_SEARCH, at most `tasks`
    threads and processes. False where the child is not root (no uid to switch to); raises if a step fails
    half-way, so a child is never left between identities."""
    if uid is None or os.geteuid() != 0:
        return False
    resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))  # counted against `uid` from the switch on
    drop_bounding()
    _libc().prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    if _libc().prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:  # keep the permitted set across the uid change
        raise OSError(ctypes.get_errno(), "PR_SET_KEEPCAPS")
    os.setresuid(uid, uid, uid)
    if _libc().capset(ctypes.byref(_header), _kept) != 0:  # everything else out of permitted and effective
        raise OSError(ctypes.get_errno(), "capset")
    _libc().prctl(_PR_SET_KEEPCAPS, 0, 0, 0, 0)
    return True
