"""Confining the worker process itself, after its imports and before any student code runs.

Runs inside the untrusted process, in this order (each step needs the ones before it):

1. drop to the dedicated uid the grader chose (so RLIMIT_NPROC counts, and nothing owned by root or
   by the grader is writable or signalable); without one, drop every capability (bounding, ambient,
   effective, permitted and inheritable sets), so that even a worker left with uid 0 holds none;
2. ``PR_SET_NO_NEW_PRIVS``, always (nothing it runs can gain privileges; Landlock and seccomp need it);
3. Landlock: read-only access to the folders Python needs, read-write access to the scratch folder
   only, and (kernel ABI 6+) no signals to processes outside the worker;
4. seccomp: no sockets, no new processes, no exec, no ptrace, no mounts, no namespaces, no bpf or
   io_uring, and signals only to itself.

The grader decides which steps apply (see :mod:`autograder.grader.protections`) and passes them as JSON.
Each step raises if it cannot be applied, so a worker never runs student code with less protection
than the grader reported.
"""

from __future__ import annotations

import ctypes
import errno
import os
import resource
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

PR_SET_NO_NEW_PRIVS = 38
_PR_SET_PDEATHSIG = 1
_SYSCALLS_X86_64 = {"landlock_create_ruleset": 444, "landlock_add_rule": 445, "landlock_restrict_self": 446}
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET = 1
_LANDLOCK_SCOPE_SIGNAL = 2

# Filesystem rights by the Landlock ABI that introduced them (bit positions of the kernel's enum).
_FS_EXECUTE, _FS_WRITE_FILE, _FS_READ_FILE, _FS_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_ABI1 = (1 << 13) - 1
_FS_REFER, _FS_TRUNCATE, _FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
_CLONE_THREAD = 0x00010000


@dataclass
class Confinement:
    """What the worker must do to itself; sent by the grader as JSON on the command line."""

    uid: int | None = None  # switch to this uid and gid (needs CAP_SETUID/CAP_SETGID)
    max_processes: int | None = None  # RLIMIT_NPROC for that uid
    landlock_read: list[str] = field(default_factory=list)  # empty: no Landlock
    landlock_write: list[str] = field(default_factory=list)
    seccomp: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Confinement:
        return cls(**data)


def apply(confinement: Confinement) -> None:
    # Landlock restricts only the calling thread, and a thread started before seccomp would escape it.
    if _thread_count() != 1:
        raise RuntimeError("the worker must be confined while it has a single thread")
    if confinement.uid is not None:
        drop_privileges(confinement.uid)
    drop_capabilities()  # a uid switch leaves the inheritable set, and without one nothing is dropped yet
    if confinement.max_processes is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (confinement.max_processes, confinement.max_processes))
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    if confinement.landlock_read or confinement.landlock_write:
        restrict_filesystem(confinement.landlock_read, confinement.landlock_write)
    if confinement.seccomp:
        install_seccomp_filter()


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise RuntimeError(f"could not switch to uid {uid}")


_PR_CAPBSET_DROP = 24
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def drop_capabilities() -> None:
    """Give up every capability for good: a worker that keeps uid 0 (no dedicated uid) is then root in
    name only (no overriding file permissions, no signalling or re-limiting others, no mknod, mounts,
    hostname...), and nothing it could execute gets any back."""
    last = int(open("/proc/sys/kernel/cap_last_cap").read())  # noqa: SIM115 - one read of a tiny file
    for capability in range(last + 1):
        if _libc.prctl(_PR_CAPBSET_DROP, ctypes.c_ulong(capability), ctypes.c_ulong(0), ctypes.c_ulong(0),
                       ctypes.c_ulong(0)) != 0 and ctypes.get_errno() != errno.EPERM:
            break  # EPERM: without CAP_SETPCAP there is nothing in the effective set to drop anyway
    _libc.prctl(_PR_CAP_AMBIENT, ctypes.c_ulong(_PR_CAP_AMBIENT_CLEAR_ALL), ctypes.c_ulong(0), ctypes.c_ulong(0),
                ctypes.c_ulong(0))
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()  # all zero
    if _libc.capset(ctypes.byref(header), data) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"capset: {os.strerror(code)}")
    _check_no_capabilities()


def _check_no_capabilities() -> None:
    with open("/proc/self/status") as status:
        held = [line.split(":")[0] for line in status
                if line.startswith(("CapEff:", "CapPrm:", "CapInh:", "CapAmb:")) and int(line.split()[1], 16)]
    if held:
        raise RuntimeError(f"the worker still holds capabilities ({', '.join(held)})")


# ----------------------------------------------------------------------------------------- Landlock
_libc = ctypes.CDLL(None, use_errno=True)


def _syscall(name: str, *args: Any) -> int:
    result = _libc.syscall(ctypes.c_long(_SYSCALLS_X86_64[name]), *args)
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{name}: {os.strerror(code)}")
    return result


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"prctl({option}): {os.strerror(code)}")


def set_parent_death_signal(signal_number: int) -> None:
    _prctl(_PR_SET_PDEATHSIG, signal_number)


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is off or the machine is not x86-64."""
    if os.uname().machine != "x86_64":
        return 0
    try:
        return _syscall("landlock_create_ruleset", None, ctypes.c_size_t(0),
                        ctypes.c_uint32(_LANDLOCK_CREATE_RULESET_VERSION))
    except OSError:
        return 0


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # the kernel's struct is packed
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def restrict_filesystem(read_only: Iterable[str], read_write: Iterable[str]) -> None:
    """Allow reading under ``read_only`` and everything under ``read_write``; deny all other paths."""
    abi = landlock_abi()
    if abi < 1:
        raise RuntimeError("Landlock is not available in this kernel")
    handled = _FS_ABI1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0) | (
        _FS_IOCTL_DEV if abi >= 5 else 0)
    scoped = (_LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET | _LANDLOCK_SCOPE_SIGNAL) if abi >= 6 else 0
    attr = _RulesetAttr(handled, 0, scoped)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else 8  # older kernels reject fields they do not know
    ruleset = _syscall("landlock_create_ruleset", ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    try:
        for paths, access in ((read_only, _FS_READ_FILE | _FS_READ_DIR), (read_write, handled)):
            for path in paths:
                _allow_beneath(ruleset, path, access)
        _syscall("landlock_restrict_self", ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)


def _allow_beneath(ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except FileNotFoundError:
        return  # nothing there to allow
    try:
        if not os.path.isdir(path):  # files take only file rights
            access &= _FS_EXECUTE | _FS_WRITE_FILE | _FS_READ_FILE | _FS_TRUNCATE | _FS_IOCTL_DEV
        rule = _PathBeneathAttr(access, fd)
        _syscall("landlock_add_rule", ctypes.c_int(ruleset), ctypes.c_int(_LANDLOCK_RULE_PATH_BENEATH),
                 ctypes.byref(rule), ctypes.c_uint32(0))
    finally:
        os.close(fd)


# ------------------------------------------------------------------------------------------ seccomp
# An allow-list: what Python, numpy, scipy, pandas and matplotlib use in a process of their own, working
# on files in its scratch folder (Landlock decides which paths). It was derived by tracing workers
# that ran every example solution and a notebook using each allowed package (`strace -f` after the
# filter's installation), then completed with calls ordinary Python code makes in its own process
# (threads, timers, file copies, sleeping). Everything else fails with EPERM: sockets, new processes,
# exec, ptrace, mounts, namespaces, SysV and POSIX message IPC, memfd, io_uring, bpf, keys, handles
# (open_by_handle_at), mknod, fanotify/inotify, hostname, clocks, chown, capabilities and uid changes.
_ALLOWED_SYSCALLS = (
    # files, under Landlock's rules
    "read", "write", "pread64", "pwrite64", "readv", "writev", "preadv", "pwritev", "preadv2", "pwritev2",
    "open", "openat", "openat2", "creat", "close", "close_range", "dup", "dup2", "dup3", "lseek", "fcntl",
    "flock", "fsync", "fdatasync", "ftruncate", "truncate", "fallocate", "sendfile", "copy_file_range",
    "splice", "tee", "stat", "fstat", "lstat", "newfstatat", "statx", "statfs", "fstatfs", "access",
    "faccessat", "faccessat2", "readlink", "readlinkat", "getdents", "getdents64", "getcwd", "chdir", "fchdir",
    "mkdir", "mkdirat", "rmdir", "unlink", "unlinkat", "rename", "renameat", "renameat2", "link", "linkat",
    "symlink", "symlinkat", "chmod", "fchmod", "fchmodat", "umask", "utime", "utimes", "utimensat", "futimesat",
    "getxattr", "lgetxattr", "fgetxattr", "listxattr", "llistxattr", "flistxattr", "setxattr", "lsetxattr",
    "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
    # waiting on its own descriptors (the wire), pipes inside the process
    "select", "pselect6", "poll", "ppoll", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
    "epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "pipe", "pipe2",
    # memory
    "brk", "mmap", "munmap", "mprotect", "mremap", "madvise", "mincore", "msync", "mlock", "mlock2", "munlock",
    "mlockall", "munlockall", "mbind", "get_mempolicy", "set_mempolicy", "membarrier",
    # threads, futexes, signals to itself, timers, time
    "futex", "futex_waitv", "set_robust_list", "get_robust_list", "set_tid_address", "rseq", "arch_prctl",
    "exit", "exit_group", "restart_syscall", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
    "rt_sigsuspend", "rt_sigtimedwait", "sigaltstack", "pause", "alarm", "getitimer", "setitimer",
    "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete", "timerfd_create",
    "timerfd_settime", "timerfd_gettime", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres",
    "gettimeofday", "time", "sched_yield", "getcpu", "getrandom",
    # facts about itself
    "getpid", "getppid", "gettid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "getresuid",
    "getresgid", "getpgid", "getpgrp", "getsid", "capget", "times", "getrusage", "sysinfo", "uname",
    "wait4", "waitid", "prctl", "seccomp", "landlock_create_ruleset", "landlock_add_rule",
    "landlock_restrict_self",
)
# Calls allowed only on the worker itself: (name, argument index holding a pid).
_OWN_PROCESS_SYSCALLS = (("kill", 0), ("tgkill", 0), ("prlimit64", 0), ("sched_getaffinity", 0),
                         ("sched_setaffinity", 0), ("sched_getparam", 0), ("sched_setparam", 0),
                         ("sched_getscheduler", 0), ("sched_setscheduler", 0), ("sched_getattr", 0),
                         ("sched_setattr", 0))
# ioctl requests Python makes on its own files: is it a terminal (TCGETS), its size, non-blocking and
# close-on-exec flags, bytes waiting. TIOCSTI and the rest stay refused.
_ALLOWED_IOCTLS = (0x5401, 0x5413, 0x5421, 0x5450, 0x5451, 0x541B)


class _ArgCompare(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_uint), ("op", ctypes.c_int), ("datum_a", ctypes.c_uint64),
                ("datum_b", ctypes.c_uint64)]


_SCMP_ACT_ALLOW = 0x7FFF0000
_SCMP_CMP_EQ, _SCMP_CMP_MASKED_EQ = 4, 7
_SCMP_FLTATR_CTL_TSYNC = 4
_PRIO_PROCESS = 0


def _scmp_errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


def seccomp_available() -> bool:
    try:
        ctypes.CDLL("libseccomp.so.2")
        return True
    except OSError:
        return False


def install_seccomp_filter() -> None:
    """Load the allow-list through libseccomp (by its soname: looking a library up would run a compiler).

    Apply it single-threaded (:func:`apply` checks): threads made later inherit the filter.
    """
    lib = ctypes.CDLL("libseccomp.so.2", use_errno=True)
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_rule_add_array.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint,
                                           ctypes.POINTER(_ArgCompare)]
    lib.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    context = lib.seccomp_init(_scmp_errno(errno.EPERM))
    if not context:
        raise RuntimeError("seccomp_init failed")

    def rule(action: int, name: str, *compares: tuple[int, int, int, int]) -> None:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number < 0:
            return  # a syscall this architecture does not have
        array = (_ArgCompare * max(1, len(compares)))(*(_ArgCompare(*c) for c in compares))
        if lib.seccomp_rule_add_array(context, action, number, len(compares), array) != 0:
            raise RuntimeError(f"seccomp: cannot add a rule for {name}")

    try:
        if lib.seccomp_attr_set(context, _SCMP_FLTATR_CTL_TSYNC, 1) != 0:
            raise RuntimeError("seccomp: cannot ask for every thread to be filtered")
        own_pid = os.getpid()
        for name in _ALLOWED_SYSCALLS:
            rule(_SCMP_ACT_ALLOW, name)
        for name, argument in _OWN_PROCESS_SYSCALLS:
            for pid in (0, own_pid):  # 0 means "the caller" to all of these (to kill: its process group,
                if name == "kill" and pid == 0:  # which would be everyone in it), so kill needs its own pid
                    continue
                rule(_SCMP_ACT_ALLOW, name, (argument, _SCMP_CMP_EQ, pid, 0))
        # Priorities of itself only: PRIO_PROCESS of pid 0 (PRIO_USER would reach every process of its uid).
        for name in ("getpriority", "setpriority"):
            rule(_SCMP_ACT_ALLOW, name, (0, _SCMP_CMP_EQ, _PRIO_PROCESS, 0), (1, _SCMP_CMP_EQ, 0, 0))
        for request in _ALLOWED_IOCTLS:
            rule(_SCMP_ACT_ALLOW, "ioctl", (1, _SCMP_CMP_EQ, request, 0))
        # Threads (clone with CLONE_THREAD) are allowed; new processes are not. clone3 passes its flags
        # in memory a filter cannot read, so it reports "not implemented" and libc falls back to clone.
        rule(_SCMP_ACT_ALLOW, "clone", (0, _SCMP_CMP_MASKED_EQ, _CLONE_THREAD, _CLONE_THREAD))
        rule(_scmp_errno(errno.ENOSYS), "clone3")
        if lib.seccomp_load(context) != 0:
            raise RuntimeError("seccomp_load failed")
    finally:
        lib.seccomp_release(context)


def _thread_count() -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))
