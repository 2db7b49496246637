"""Kernel-enforced confinement of the sandboxed child, applied just before the submission runs.

Standalone (the child imports it without the grader package). Two layers, each reported:

* Landlock: files can be read only where Python and its libraries live, written only in
  the private scratch folder; no TCP connect or bind; no signals to processes outside.
  The grader's own packages are left out, so a submission cannot compute the answers with them.
* seccomp: no new processes (threads still work), no exec, no ptrace, no mount, no
  namespaces, no sockets that connect, no kill of other processes.

Either may be missing (older kernel, macOS, no libseccomp): grading goes on and the report
says what held.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import site
import struct
import sys
import tempfile
from typing import Any

# Landlock ABI (linux/landlock.h)
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_VERSION = 1
_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2
_EXECUTE, _WRITE_FILE, _READ_FILE, _READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ALL_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 4: (1 << 15) - 1}
_FS_LATEST = (1 << 16) - 1  # ABI 5 and later add IOCTL_DEV
_FILE_RIGHTS = _EXECUTE | _WRITE_FILE | _READ_FILE | (1 << 14) | (1 << 15)
_NET_BIND_TCP, _NET_CONNECT_TCP = 1 << 0, 1 << 1
_SCOPE_ABSTRACT_UNIX, _SCOPE_SIGNAL = 1 << 0, 1 << 1
READ_ONLY = ["/usr", "/lib", "/lib64", "/etc", "/dev", "/proc/self", "/proc/cpuinfo", "/proc/meminfo",
             "/sys/devices/system/cpu", "/sys/fs/cgroup"]
WRITABLE_DEVICES = ["/dev/null"]
OWN_PACKAGES = ("grader", "reference", "assignments")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


@functools.cache
def readable_roots(extra: tuple[str, ...]) -> list[str]:
    """Python's prefixes and libraries, minus the grader's own packages (and their dist-info).

    Cached: the fork server computes it once (see hold_roots) and every child inherits it.
    """
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *READ_ONLY, *extra}
    packages = set(site.getsitepackages()) | {p for p in sys.path if p.endswith("-packages")}
    out = [r for r in roots if not any(p.startswith(r.rstrip("/") + "/") for p in packages)]
    for prefix in roots - set(out):  # a prefix holding site-packages: allow it entry by entry
        out.extend(_entries_but_own(prefix, packages))
    return sorted(set(out))


def _entries_but_own(root: str, packages: set[str]) -> list[str]:
    """Everything under root, descending only into folders that hold a site-packages."""
    try:
        names = os.listdir(root)
    except OSError:
        return []
    out = []
    for name in names:
        path = os.path.join(root, name)
        if path in packages:
            out.extend(os.path.join(path, n) for n in os.listdir(path) if not _own(n))
        elif any(p.startswith(path + "/") for p in packages):
            out.extend(_entries_but_own(path, packages))
        else:
            out.append(path)
    return out


def _own(name: str) -> bool:
    lowered = name.lower()
    return name in OWN_PACKAGES or lowered.startswith(("backprop_grader", "__editable__.backprop_grader",
                                                       "__editable___backprop_grader"))


_READ = _EXECUTE | _READ_FILE | _READ_DIR
_held: list[tuple[int, int]] = []  # (O_PATH descriptor, rights) of the read-only rules, see hold_roots


def hold_roots(extra_readable: tuple[str, ...]) -> list[int]:
    """Open the read-only rules' paths once, in the fork server: a forked child then only adds the rules
    (~170 paths: opening them was most of Landlock's cost per child). The descriptors to keep open.

    Not /proc/self: opened here it would be the server's own; each child opens its own."""
    if not _held:
        for path in readable_roots(extra_readable):
            if not _per_process(path):
                _held.extend(_opened(path, _READ))
    return [fd for fd, _ in _held]


def _per_process(path: str) -> bool:
    return path == "/proc/self" or path.startswith("/proc/self/")


def _opened(path: str, rights: int) -> list[tuple[int, int]]:
    """The path as an O_PATH descriptor with the rights a rule may grant it (files take no folder rights)."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return []  # absent on this machine: nothing to allow
    return [(fd, rights if os.path.isdir(path) else rights & _FILE_RIGHTS)]


def restrict_files(scratch: str, extra_readable: list[str]) -> bool:
    """Landlock: read where Python lives, write only in scratch. False where unsupported.

    The held descriptors (see hold_roots) are closed here, whatever happens, before the submission runs.
    """
    paths = readable_roots(tuple(extra_readable))
    rules = _held[:] + [r for path in paths if not _held or _per_process(path) for r in _opened(path, _READ)]
    _held.clear()
    try:
        return _restrict_files(scratch, rules)
    finally:
        for fd, _ in rules:
            os.close(fd)


def _restrict_files(scratch: str, rules: list[tuple[int, int]]) -> bool:
    if sys.platform != "linux":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(_VERSION))
    if abi < 1:
        return False
    attr = _RulesetAttr(fs=_FS_ALL_BY_ABI.get(abi, _FS_LATEST),
                        net=(_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0,
                        scoped=(_SCOPE_ABSTRACT_UNIX | _SCOPE_SIGNAL) if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc.syscall(_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return False
    own = [r for path in WRITABLE_DEVICES for r in _opened(path, _READ_FILE | _WRITE_FILE)]
    own += _opened(scratch, attr.fs)
    try:
        rule = _PathBeneath()
        for fd, rights in rules + own:
            rule.allowed, rule.parent_fd = rights & attr.fs, fd
            libc.syscall(_ADD_RULE, ruleset, _PATH_BENEATH, ctypes.byref(rule), ctypes.c_uint32(0))
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return False
        return libc.syscall(_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) == 0
    finally:
        os.close(ruleset)
        for fd, _ in own:
            os.close(fd)


_DENIED = ["fork", "vfork", "execve", "execveat", "ptrace", "process_vm_readv", "process_vm_writev",
           "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "bpf", "perf_event_open",
           "userfaultfd", "kexec_load", "init_module", "finit_module", "delete_module", "reboot",
           "swapon", "swapoff", "connect", "bind", "listen", "accept", "accept4", "tkill",
           "keyctl", "add_key", "request_key", "io_uring_setup", "setuid", "setgid", "setreuid", "setregid",
           "setresuid", "setresgid", "capset", "personality", "syslog", "acct", "settimeofday",
           "clock_settime", "sethostname", "setdomainname", "landlock_create_ruleset"]
_CLONE_THREAD = 0x00010000


_PID_MARK = 0x5EC0FFEE  # stands for a child's pid in the filter compiled once (no pid is this large)
_compiled: bytes | None = None  # that filter as BPF, when compile_syscalls() proved the mark can be replaced


def compile_syscalls() -> None:
    """Compile the seccomp filter once, in the fork server, with a mark where each child's pid goes.

    Building it with libseccomp cost each child ~2.5 ms. Used only if putting a pid in place of the
    mark gives exactly the filter libseccomp builds for that pid (checked here, once).
    """
    global _compiled
    try:
        marked, probe = _bpf(_PID_MARK), _bpf(os.getpid())
    except (ImportError, RuntimeError, OSError, ValueError):
        return
    if marked is not None and _with_pid(marked, os.getpid()) == probe:
        _compiled = marked


def restrict_syscalls() -> bool:
    """seccomp: threads yes, processes no; signals only to itself. False without libseccomp."""
    if sys.platform != "linux":
        return False
    if _compiled is not None:
        return _load_bpf(_with_pid(_compiled, os.getpid()))
    try:
        f = _filter(os.getpid())
        if f is None:
            return False
        f.load()
        return True
    except (OSError, RuntimeError, ValueError):
        return False


def _filter(pid: int) -> Any:
    """The filter, as a pyseccomp SyscallFilter; None without libseccomp."""
    try:
        import pyseccomp as sc
    except (ImportError, RuntimeError, OSError):
        return None
    f = sc.SyscallFilter(defaction=sc.ALLOW)
    deny = sc.ERRNO(errno.EPERM)
    for name in _DENIED:
        try:
            f.add_rule(deny, name)
        except (ValueError, OSError):
            pass  # not a syscall on this architecture
    f.add_rule(deny, "clone", sc.Arg(0, sc.MASKED_EQ, _CLONE_THREAD, 0))  # a new process
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")  # glibc falls back to clone, which is checked
    f.add_rule(deny, "kill", sc.Arg(0, sc.NE, pid))
    f.add_rule(deny, "tgkill", sc.Arg(0, sc.NE, pid))
    return f


def _bpf(pid: int) -> bytes | None:
    """The filter for `pid` as the kernel takes it: an array of struct sock_filter."""
    f = _filter(pid)
    if f is None:
        return None
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        return out.read()


def _with_pid(program: bytes, pid: int) -> bytes:
    """The program with every constant equal to the mark replaced by `pid`."""
    return b"".join(struct.pack("HBBI", code, jt, jf, pid if k == _PID_MARK else k)
                    for code, jt, jf, k in struct.iter_unpack("HBBI", program))


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _load_bpf(program: bytes) -> bool:
    """Install a compiled filter, as libseccomp's load does (no new privileges first)."""
    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) == 0
