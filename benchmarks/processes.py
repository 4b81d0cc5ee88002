"""Timing commands and sampling the memory of a process tree from outside (Linux /proc)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path


def run_timed(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> float:
    """Wall seconds of ``command``; raises with its output if it fails."""
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {completed.returncode}:\n"
                           f"{(completed.stderr or completed.stdout)[-3000:]}")
    return seconds


class CpuAccount:
    """The CPU time of every process a command starts, however deep, whoever reaps it: a cgroup of its own.

    Resource usage from wait4 counts only descendants reaped by their parents up the chain; a sandboxed
    worker ends inside bubblewrap's pid namespace, whose processes are reaped outside the command's tree,
    so its CPU went uncounted. A cgroup counts it. Needs a writable cgroup hierarchy (root here); else
    ``available`` is False and the figures fall back to wait4, which says so.
    """

    ROOTS = (Path("/sys/fs/cgroup/cpuacct"), Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup"))

    def __init__(self) -> None:
        self.folder: Path | None = None
        for root in self.ROOTS:
            usage = "cpuacct.usage" if root.name == "cpuacct" else "cpu.stat"
            if not (root / usage).is_file() and not (root / "cgroup.procs").is_file():
                continue
            folder = root / f"autograder-bench-{os.getpid()}"
            try:
                folder.mkdir()
            except OSError:
                continue
            if (folder / usage).is_file():
                self.folder, self._usage = folder, usage
                break
            folder.rmdir()

    @property
    def available(self) -> bool:
        return self.folder is not None

    def enter(self) -> None:
        """Runs in the child between fork and exec: the command and all it starts are in the cgroup."""
        assert self.folder is not None
        (self.folder / "cgroup.procs").write_text("0")

    def seconds(self) -> float:
        assert self.folder is not None
        text = (self.folder / self._usage).read_text()
        if self._usage == "cpuacct.usage":
            return int(text) / 1e9
        fields = dict(line.split() for line in text.splitlines())
        return int(fields["usage_usec"]) / 1e6

    def wait_empty(self, timeout: float = 10.0) -> None:
        """Processes the command left behind (a zygote being killed) still count until they are gone."""
        assert self.folder is not None
        ends = time.monotonic() + timeout
        while (self.folder / "cgroup.procs").read_text().strip() and time.monotonic() < ends:
            time.sleep(0.02)

    def close(self) -> None:
        if self.folder is not None:
            self.wait_empty()
            self.folder.rmdir()
            self.folder = None


def cpu_accounting() -> str:
    """How run_measured counts CPU on this machine, for the report."""
    account = CpuAccount()
    try:
        return ("a cgroup per command (every process it starts, sandboxed workers included)" if account.available
                else "wait4 of the command (no writable cgroup here: sandboxed workers' CPU is NOT counted)")
    finally:
        account.close()


def run_measured(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
                 check: bool = True) -> tuple[float, float]:
    """Wall seconds of ``command`` and the CPU seconds (user + system) of every process it starts (see
    :class:`CpuAccount`; without a cgroup, of the descendants reaped up the chain only)."""
    account = CpuAccount()
    try:
        return _run_measured(command, account, cwd=cwd, env=env, check=check)
    finally:
        account.close()


def _run_measured(command: list[str], account: CpuAccount, *, cwd: Path | None, env: dict[str, str] | None,
                  check: bool) -> tuple[float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               preexec_fn=account.enter if account.available else None)
    output: list[bytes] = []
    # Both pipes drained as the command runs, so a chatty command never blocks on a full one.
    readers = [threading.Thread(target=lambda stream=stream: output.append(stream.read()), daemon=True)
               for stream in (process.stdout, process.stderr)]
    for reader in readers:
        reader.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if check and process.returncode != 0:
        text = b"".join(output).decode(errors="replace")
        raise RuntimeError(f"{' '.join(command)} exited with {process.returncode}:\n{text[-3000:]}")
    if account.available:
        account.wait_empty()
        return seconds, account.seconds()
    return seconds, usage.ru_utime + usage.ru_stime


def _status_kib(pid: int) -> dict[str, int]:
    values = {}
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                values[key] = int(value.split()[0])
    return values


def _children_by_parent() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2:].split()[1])  # the command name may hold spaces
        children.setdefault(parent, []).append(int(entry.name))
    return children


def _command_line(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


# multiprocessing's own helper processes: they grade nothing.
_HELPERS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


@dataclass
class TreeMemory:
    """What :class:`TreeSampler` saw: the grader's RSS over time, the peak RSS of each process kind."""

    grader: list[tuple[float, int]] = field(default_factory=list)  # (seconds since start, RSS KiB)
    grading_processes: dict[int, int] = field(default_factory=dict)  # pid -> peak RSS KiB (VmHWM)
    sandbox_workers: dict[int, int] = field(default_factory=dict)
    zygotes: dict[int, int] = field(default_factory=dict)  # sandboxed parents that fork the workers
    samples: int = 0


class TreeSampler(threading.Thread):
    """Samples the RSS of ``pid`` and the peak RSS of its descendants every ``interval`` seconds.

    Kinds, from the command lines: a sandboxed worker runs ``-m autograder.worker.server``, or is a child of a
    zygote (``-m autograder.worker.zygote``, whose forked children keep its command line); bubblewrap's own
    processes, which only wait, are left out, and so are multiprocessing's helpers; every other
    descendant is a grading process (the pool's processes).
    """

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.memory = TreeMemory()
        self._halt = threading.Event()
        self.started = time.monotonic()

    def run(self) -> None:
        while not self._halt.is_set():
            self._sample()
            self._halt.wait(self.interval)

    def stop(self) -> TreeMemory:
        self._halt.set()
        self.join()
        return self.memory

    def _sample(self) -> None:
        try:
            self.memory.grader.append((time.monotonic() - self.started, _status_kib(self.pid)["VmRSS"]))
        except (OSError, KeyError):
            return  # the grader has exited
        self.memory.samples += 1
        children = _children_by_parent()
        # (pid, below a zygote, parent is the grader or a multiprocessing helper such as the forkserver)
        pending = [(pid, False, True) for pid in children.get(self.pid, [])]
        while pending:
            pid, below_zygote, pool_parent = pending.pop()
            command = _command_line(pid)
            bwrap = bool(command) and os.path.basename(command[0]) == "bwrap"
            zygote = not bwrap and "autograder.worker.zygote" in command  # bubblewrap's command line names it too
            helper = any(name in part for part in command for name in _HELPERS)
            pending += [(child, below_zygote or zygote, helper) for child in children.get(pid, [])]
            if not command or bwrap or helper:
                continue
            if not (zygote or below_zygote or "autograder.worker.server" in command or pool_parent):
                continue  # a grading process's fork on its way to becoming bubblewrap
            try:
                peak = _status_kib(pid).get("VmHWM", 0)
            except OSError:
                continue
            if not peak:
                continue  # exited, not yet reaped
            if "autograder.worker.server" in command or (zygote and below_zygote):  # a worker forked by a zygote
                kind = self.memory.sandbox_workers
            elif zygote:
                kind = self.memory.zygotes
            else:
                kind = self.memory.grading_processes
            kind[pid] = max(kind.get(pid, 0), peak)
