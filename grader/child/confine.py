"""Kernel-enforced confinement of the sandboxed child, applied just before the submission runs.

Standalone (the child imports it without the grader package). Two layers, each reported:

* Landlock: files can be read only where Python and its libraries live, written only in
  the private scratch folder; no TCP connect or bind; no signals to processes outside.
  The grader's own packages are left out, so a submission cannot compute the answers with them,
  and so are the libraries its assignment forbids (`hidden`), so it cannot import them at all.
* seccomp: no new processes (threads still work), no exec, no ptrace, no mount, no
  namespaces, no sockets that connect, no file opened by handle; signals, limits, priorities,
  scheduling and CPU affinity only for the child itself.

Either may be missing (older kernel, macOS, no libseccomp): grading goes on and the report
says what held.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import glob
import importlib.machinery
import os
import site
import stat
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
PUBLIC_ONLY = ("/etc", "/dev")  # allowed by their entries' modes: see _public
WRITABLE_DEVICES = ["/dev/null"]
OWN_PACKAGES = ("grader", "reference", "assignments")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _prefixes() -> set[str]:
    return {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}


@functools.cache
def _package_dirs() -> frozenset[str]:
    """The folders Python imports libraries from: allowed entry by entry, so some entries can be left out."""
    return frozenset(site.getsitepackages()) | {p for p in sys.path if p.endswith("-packages")}


@functools.cache
def readable_roots(extra: tuple[str, ...]) -> list[tuple[str, int]]:
    """Python's prefixes and libraries, minus the grader's own packages (and their dist-info), each with
    the rights its rule grants (a folder of /etc or /dev holding private files: listing only).

    Cached: the fork server computes it once (see hold_roots) and every child inherits it.
    """
    roots = {*_prefixes(), *READ_ONLY, *extra}
    packages = _package_dirs()
    out = [r for r in roots if not any(p.startswith(r.rstrip("/") + "/") for p in packages)]
    for prefix in roots - set(out):  # a prefix holding site-packages: allow it entry by entry
        out.extend(_entries_but_own(prefix, packages))
    for folder in packages:  # a package folder outside every prefix (added by a .pth file): its entries too
        if not any(folder.startswith(r.rstrip("/") + "/") for r in roots) and os.path.isdir(folder):
            out.extend(os.path.join(folder, n) for n in os.listdir(folder) if not _own(n))
    return sorted({rule for r in out for rule in (_public(r)[1] if r in PUBLIC_ONLY else [(r, _READ)])})


def _public(path: str) -> tuple[bool, list[tuple[str, int]]]:
    """Whether everything below `path` is readable by anyone, and the rules to allow it: `path` itself if
    so, else its entries that are, and listing the folder. The child keeps CAP_DAC_READ_SEARCH, which
    ignores a file's mode: a rule on all of /etc would let it open /etc/shadow, one on /dev a raw disk. A
    sticky folder (/dev/shm) is left out: what others put there later would be readable. Links are
    allowed: Landlock judges their targets."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return False, []
    if stat.S_ISLNK(mode) or not stat.S_ISDIR(mode) and mode & stat.S_IROTH:
        return True, [(path, _READ)]
    if not stat.S_ISDIR(mode) or not (mode & stat.S_IROTH and mode & stat.S_IXOTH) or mode & stat.S_ISVTX:
        return False, []
    try:
        names = sorted(os.listdir(path))
    except OSError:
        return False, []
    parts = [_public(os.path.join(path, n)) for n in names]
    if all(whole for whole, _ in parts):
        return True, [(path, _READ)]
    return False, [(path, _READ_DIR), *(rule for _, rules in parts for rule in rules)]


def _entries_but_own(root: str, packages: frozenset[str]) -> list[str]:
    """Everything under root, descending only into folders that hold a site-packages."""
    try:
        names = os.listdir(root)
    except OSError:
        return []
    out: list[str] = []
    for name in names:
        path = os.path.join(root, name)
        if path in packages:
            out.extend(os.path.join(path, n) for n in os.listdir(path) if not _own(n))
        elif any(p.startswith(path + "/") for p in packages):
            out.extend(_entries_but_own(path, packages))
        elif not _links_to_packages(path, packages):  # a venv's lib64 -> lib: its real path is expanded
            out.append(path)
    return out


def _links_to_packages(path: str, packages: frozenset[str]) -> bool:
    """Whether `path` is a symbolic link to a package folder, into one or above one: allowed as a whole,
    it would let everything in that package folder be read."""
    if not os.path.islink(path):
        return False
    real = os.path.realpath(path)
    return any(p == real or p.startswith(real + "/") or real.startswith(p + "/") for p in packages)


def _own(name: str) -> bool:
    lowered = name.lower()
    return name in OWN_PACKAGES or lowered.startswith(("backprop_grader", "__editable__.backprop_grader",
                                                       "__editable___backprop_grader"))


def _withheld(path: str, hidden: frozenset[str]) -> bool:
    """Whether `path` is a hidden library's entry in a package folder: `torch`, `torch.libs`,
    `torch-2.13.0.dist-info` for `torch`, not `torchgen`."""
    return bool(hidden) and os.path.dirname(path) in _package_dirs() and \
        os.path.basename(path).split("-")[0].split(".")[0] in hidden


_READ = _EXECUTE | _READ_FILE | _READ_DIR
_held: list[tuple[str, int, int]] = []  # (path, O_PATH descriptor, rights) of the read-only rules, see hold_roots


def hold_roots(extra_readable: tuple[str, ...]) -> list[int]:
    """Open the read-only rules' paths once, in the fork server: a forked child then only adds the rules
    (~350 paths: opening them was most of Landlock's cost per child). The descriptors to keep open.

    Not /proc/self: opened here it would be the server's own; each child opens its own. The package
    folders outside Python's path are listed now too (see unimportable): children inherit the listings."""
    if not _held:
        for path, rights in readable_roots(extra_readable):
            if not _per_process(path):
                _held.extend((path, *rule) for rule in _opened(path, rights))
        importlib.machinery.PathFinder.find_spec("bpgrade-none", _other_package_dirs())
    return [fd for _, fd, _ in _held]


def _per_process(path: str) -> bool:
    return path == "/proc/self" or path.startswith("/proc/self/")


def _opened(path: str, rights: int) -> list[tuple[int, int]]:
    """The path as an O_PATH descriptor with the rights a rule may grant it (files take no folder rights)."""
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return []  # absent on this machine: nothing to allow
    return [(fd, rights if os.path.isdir(path) else rights & _FILE_RIGHTS)]


def restrict_files(scratch: str, extra_readable: list[str], hidden: list[str]) -> bool:
    """Landlock: read where Python lives but the `hidden` libraries, write only in scratch. False where
    unsupported.

    The held descriptors (see hold_roots) are closed here, whatever happens, before the submission runs.
    """
    withheld = frozenset(hidden)
    paths = readable_roots(tuple(extra_readable))
    held = [(path, fd, rights) for path, fd, rights in _held]
    held += [(path, *r) for path, rights in paths if not _held or _per_process(path) for r in _opened(path, rights)]
    _held.clear()
    try:
        done = _restrict_files(scratch, [(fd, rights) for path, fd, rights in held if not _withheld(path, withheld)])
    finally:
        for _, fd, _ in held:
            os.close(fd)
    if done and withheld:
        sys.meta_path.insert(0, _Withheld(withheld))
    return done


class _Withheld:
    """Finds nothing for a hidden library: `import torch` says what Python says of a library not installed
    (the files are unreadable anyway: without this finder, the import ends in PermissionError)."""

    def __init__(self, hidden: frozenset[str]) -> None:
        self.hidden = hidden

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] in self.hidden:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)


@functools.cache
def _other_package_dirs() -> list[str]:
    """Package folders of other Pythons on the machine, which a submission could put on its path."""
    found = {d for root in (*_prefixes(), "/usr", "/usr/local") for d in glob.glob(f"{root}/lib/python3*/*-packages")}
    found.update(glob.glob("/usr/lib/python3/dist-packages"))
    return sorted(found - _package_dirs())


def unimportable(hidden: list[str]) -> list[str]:
    """Which of the hidden libraries this process, confined, cannot import: not loaded already (a fork
    server that had imported it would hand it to every child), and found nowhere on Python's path or in
    another Python's package folders, or found but unreadable. Checked before the submission runs."""
    out = []
    for name in hidden:
        if name in sys.modules:
            continue
        specs = [importlib.machinery.PathFinder.find_spec(name), importlib.machinery.PathFinder.find_spec(
            name, _other_package_dirs())]
        if all(spec is None or not _readable(spec) for spec in specs):
            out.append(name)
    return out


def _readable(spec: importlib.machinery.ModuleSpec) -> bool:
    """Whether the library's code could be read: its file, or else (a namespace package) its folders."""
    try:
        if spec.origin and os.path.isfile(spec.origin):
            with open(spec.origin, "rb"):
                return True
        for folder in spec.submodule_search_locations or []:
            os.listdir(folder)
            return True
    except OSError:
        pass
    return False


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
           "clock_settime", "sethostname", "setdomainname", "landlock_create_ruleset",
           "open_by_handle_at", "name_to_handle_at", "pidfd_getfd", "process_madvise", "kcmp"]
_CLONE_THREAD = 0x00010000
# calls on another process, allowed only on the child itself: {name: (argument holding the pid, or the
# `who` of a `which`/`who` pair, and the `which` that must come with it: PRIO_PROCESS, IOPRIO_WHO_PROCESS)}
_SCOPED: dict[str, tuple[int, int | None]] = {
    "prlimit64": (0, None), "sched_setaffinity": (0, None), "sched_setscheduler": (0, None),
    "sched_setparam": (0, None), "sched_setattr": (0, None), "migrate_pages": (0, None), "move_pages": (0, None),
    "pidfd_open": (0, None), "rt_sigqueueinfo": (0, None), "rt_tgsigqueueinfo": (0, None),
    "setpriority": (1, 0), "ioprio_set": (1, 1),
}


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
    """seccomp: threads yes, processes no; signals, limits and scheduling only for itself. False without
    libseccomp."""
    if sys.platform != "linux":
        return False
    try:
        program = _with_pid(_compiled, os.getpid()) if _compiled is not None else _bpf(os.getpid())
    except (ImportError, RuntimeError, OSError, ValueError):
        return False
    return program is not None and _load_bpf(program)


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
    """The filter for `pid` as the kernel takes it: an array of struct sock_filter. The calls scoped to
    the child come first (see _scoped), then libseccomp's program."""
    f = _filter(pid)
    if f is None:
        return None
    with tempfile.TemporaryFile() as out:
        f.export_bpf(out)
        out.seek(0)
        return _scoped(pid) + out.read()


_LD_ABS, _JEQ, _JA, _RET = 0x20, 0x15, 0x05, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JA, BPF_RET|K
_RET_ERRNO = 0x00050000
_ARCH_AT, _NR_AT = 4, 0  # offsets in struct seccomp_data


def _scoped(pid: int) -> bytes:
    """BPF that lets the _SCOPED calls through only for pid 0 (the caller) or `pid`, refusing the rest with
    EPERM; every other call goes on to the program after it. Hand-written: libseccomp cannot test one
    argument against two values in one rule. Compares the low 32 bits, which is all a pid_t holds."""
    import pyseccomp as sc

    arch = sc.system_arch()
    calls = {}
    for name, spec in _SCOPED.items():
        try:
            calls[name] = (sc.resolve_syscall(arch, name), spec)
        except (ValueError, OSError):
            pass  # not a syscall on this architecture
    # (opcode, jump if true, jump if false, k): a jump (and k of `ja`) may name a label, resolved below
    code: list[tuple[int, str | int, str | int, str | int]] = []
    labels: dict[str, int] = {}

    def low(arg: int) -> int:
        return 16 + 8 * arg + (4 if sys.byteorder == "big" else 0)

    code += [(_LD_ABS, 0, 0, _ARCH_AT), (_JEQ, 0, "end", arch), (_LD_ABS, 0, 0, _NR_AT)]
    code += [(_JEQ, f"check {name}", 0, nr) for name, (nr, _) in calls.items()]
    code.append((_JA, 0, 0, "end"))
    for name, (_, (who, which)) in calls.items():
        labels[f"check {name}"] = len(code)
        if which is not None:
            code += [(_LD_ABS, 0, 0, low(0)), (_JEQ, 0, "deny", which)]
        code += [(_LD_ABS, 0, 0, low(who)), (_JEQ, "end", 0, 0), (_JEQ, "end", "deny", _PID_MARK)]
    labels["deny"] = len(code)
    code.append((_RET, 0, 0, _RET_ERRNO | errno.EPERM))
    labels["end"] = len(code)

    def resolved(at: int, value: str | int) -> int:
        return labels[value] - at - 1 if isinstance(value, str) else value

    return b"".join(struct.pack("HBBI", op, resolved(at, jt), resolved(at, jf),
                                pid if k == _PID_MARK else resolved(at, k))
                    for at, (op, jt, jf, k) in enumerate(code))


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
