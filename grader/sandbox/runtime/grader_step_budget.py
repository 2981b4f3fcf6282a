"""A CPU budget with a wall-clock cap, for a probe step and for the whole run: CPU seconds spent, with a wall-clock cap
for code that waits.

CPU time does not grow when the host is busy, so neither does a verdict that depends on it: a step (and the run) is
charged what the code computed, not how long it had to queue for a core. Code that sleeps, blocks on a lock or waits
for input uses no CPU; the wall cap (the budget times the sandbox's `--step-wall-cap-factor`) stops it.

The clock is chosen by the sandbox (runner `--cpu-clock`):
- `cgroup` (Docker): the container's own cgroup counts the CPU of every process in it, running or ended, and a
  process cannot leave it (the cgroup filesystem is read-only there). A step leaves the driver's own CPU out, so what
  is charged is the student's processes, threads and children, and the runner's copying of what they print; the run
  counts the whole container.
- `session` (the local sandbox): read from /proc, each process's utime+stime plus the cutime+cstime of the children
  it has waited for. A step counts the processes in the student's session; the run counts the driver, every process
  descended from it and every process in one of their sessions. A process that leaves both (setsid after its parent
  ended), or children that end unwaited, escape this count: the local sandbox is no security boundary, and its results
  say so.
Standard library only.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable, Literal, NamedTuple, Protocol

from grader_channel import WATCH_SLICE_S, ChannelTimeout

CGROUP_V2_STAT = Path("/sys/fs/cgroup/cpu.stat")
CGROUP_V1_USAGE = (Path("/sys/fs/cgroup/cpuacct/cpuacct.usage"), Path("/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage"))
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
Passed = Literal["cpu", "wall"]  # which of a budget's two limits was passed


class CpuClock(Protocol):
    def seconds(self) -> float:
        """CPU seconds counted since the run began (never reset by a restart of the student's process)."""


class CgroupClock:
    """The container's cgroup CPU counter, less `own()`: by default the CPU of the process reading it (the driver's,
    when a step is charged to the student's processes)."""

    def __init__(self, read_usage: Callable[[], float], own: Callable[[], float] = time.process_time) -> None:
        self.read_usage = read_usage
        self.own = own

    def seconds(self) -> float:
        return self.read_usage() - self.own()


def cgroup_usage_reader() -> Callable[[], float] | None:
    """Seconds of CPU the container's cgroup has used (cgroup v2 or v1), or None when neither counter is readable."""
    try:
        if "usage_usec" in CGROUP_V2_STAT.read_text():
            return lambda: _cgroup_v2_usage_s()
    except OSError:
        pass
    for path in CGROUP_V1_USAGE:
        try:
            int(path.read_text())
        except (OSError, ValueError):
            continue
        return lambda path=path: int(path.read_text()) / 1e9
    return None


def _cgroup_v2_usage_s() -> float:
    for line in CGROUP_V2_STAT.read_text().splitlines():
        if line.startswith("usage_usec "):
            return int(line.split()[1]) / 1e6
    raise OSError("cpu.stat has no usage_usec")


class SessionClock:
    """The CPU of the processes in the session of the student's current process (`leader()`, None when there is
    none). What an ended process used stays counted when a fresh one takes over."""

    def __init__(self, leader: Callable[[], int | None]) -> None:
        self.leader = leader
        self.current: int | None = None
        self.last = 0.0
        self.before = 0.0

    def seconds(self) -> float:
        leader = self.leader()
        if leader != self.current:
            self.before += self.last
            self.current, self.last = leader, 0.0
        if leader is not None:
            self.last = session_cpu_s(leader)
        return self.before + self.last


class FamilyClock:
    """The CPU of the process `root` (the driver), its descendants and their sessions, plus the reader's own and that
    of its children it has waited for (the driver, once it ended): the local sandbox's count of the whole run."""

    def __init__(self, root: int) -> None:
        self.root = root

    def seconds(self) -> float:
        own = os.times()
        return family_cpu_s(self.root) + own.user + own.system + own.children_user + own.children_system


class ProcessCpu(NamedTuple):
    pid: int
    parent: int
    session: int
    ticks: int  # utime + stime + cutime + cstime


def process_table() -> list[ProcessCpu]:
    """Every process in /proc (live or not yet reaped) with its parent, session and CPU."""
    table = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:  # ended between the listing and the read
            continue
        fields = stat[stat.rindex(b")") + 2:].split()  # the name in parentheses may hold spaces
        # proc(5) fields 4 and 6: the parent and the session; 14-17: utime stime cutime cstime
        table.append(ProcessCpu(int(name), int(fields[1]), int(fields[3]), sum(int(value) for value in fields[11:15])))
    return table


def session_cpu_s(session: int) -> float:
    """utime+stime+cutime+cstime of every process whose session id is `session`."""
    return sum(process.ticks for process in process_table() if process.session == session) / TICKS_PER_S


def family(root: int, table: list[ProcessCpu]) -> list[ProcessCpu]:
    """`root`, every process descended from it, and every process in one of their sessions (a child whose parent
    ended is re-parented away from the tree, but stays in its session)."""
    children: dict[int, list[int]] = {}
    for process in table:
        children.setdefault(process.parent, []).append(process.pid)
    descendants, waiting = set(), [root]
    while waiting:
        pid = waiting.pop()
        if pid not in descendants:
            descendants.add(pid)
            waiting.extend(children.get(pid, ()))
    sessions = {process.session for process in table if process.pid in descendants}
    return [process for process in table if process.pid in descendants or process.session in sessions]


def family_cpu_s(root: int) -> float:
    """utime+stime+cutime+cstime of `root`'s family (see `family`)."""
    return sum(process.ticks for process in family(root, process_table())) / TICKS_PER_S


def clock_for(kind: str, leader: Callable[[], int | None]) -> CpuClock:
    """A step's clock: the student's processes. A container whose cgroup counter cannot be read counts the session."""
    usage = _cgroup_usage(kind)
    return CgroupClock(usage) if usage is not None else SessionClock(leader)


def configured_clock(leader: Callable[[], int | None]) -> CpuClock:
    """A step's or a cell's clock of the kind the runner chose (GRADER_CPU_CLOCK)."""
    return clock_for(os.environ["GRADER_CPU_CLOCK"], leader)


def configured_wall_cap_factor() -> float:
    """The runner's wall cap of steps and cells, as a multiple of their CPU budget (GRADER_STEP_WALL_CAP_FACTOR)."""
    return float(os.environ["GRADER_STEP_WALL_CAP_FACTOR"])


def run_clock_for(kind: str, driver: int) -> CpuClock:
    """The whole run's clock, read by the runner: the container's cgroup, or the driver's family of processes."""
    usage = _cgroup_usage(kind)
    return CgroupClock(usage, own=lambda: 0.0) if usage is not None else FamilyClock(driver)


def _cgroup_usage(kind: str) -> Callable[[], float] | None:
    if kind != "cgroup":
        return None
    usage = cgroup_usage_reader()
    if usage is None:
        print("[grader] the container's cgroup CPU counter is unreadable: CPU budgets count processes in /proc",
              file=sys.stderr)
    return usage


class CpuBudget:
    """`cpu_s` CPU seconds on `clock`, under a wall-clock cap of `cpu_s * wall_cap_factor`, from its creation."""

    def __init__(self, cpu_s: float, wall_cap_factor: float, clock: CpuClock, read_every_s: float = WATCH_SLICE_S):
        self.cpu_s = cpu_s
        self.wall_cap_factor = wall_cap_factor
        self.clock = clock
        self.read_every_s = read_every_s
        self.started = time.monotonic()
        self.started_cpu = clock.seconds()
        self.read_at = self.started

    @property
    def wall_cap_s(self) -> float:
        return self.cpu_s * self.wall_cap_factor

    def wall_s(self) -> float:
        return time.monotonic() - self.started

    def used_cpu_s(self) -> float:
        return max(0.0, self.clock.seconds() - self.started_cpu)

    def passed(self) -> Passed | None:
        """Which limit has been passed, if any. The clock is read at most every `read_every_s` (reading /proc often
        would slow a chatty step)."""
        now = time.monotonic()
        if now - self.started >= self.wall_cap_s:
            return "wall"
        if now - self.read_at < self.read_every_s:
            return None
        self.read_at = now
        # Read twice before stopping: a /proc count can see a child both alive and already in its parent's total.
        if self.used_cpu_s() > self.cpu_s and self.used_cpu_s() > self.cpu_s:
            return "cpu"
        return None


class StepBudget(CpuBudget):
    """One step's limits. `check()` raises ChannelTimeout, with what the student should read, once the step has used
    more CPU than its budget or run past the wall cap."""

    def check(self) -> None:
        passed = self.passed()
        if passed == "wall":
            raise ChannelTimeout(
                f"this step ran for {self.wall_s():.0f} s of wall-clock time, its cap ({self.wall_cap_factor:g} times "
                f"its {self.cpu_s:g} s CPU budget), while your program used only {self.used_cpu_s():.1f} s of CPU, so "
                "it was stopped: it was waiting (sleep, input(), a lock, a network call or a child process that does "
                "not end). Do not block: the sandbox has no network and no keyboard")
        if passed == "cpu":
            raise ChannelTimeout(
                f"this step used {self.used_cpu_s():.1f} s of CPU time, over its budget of {self.cpu_s:g} s, so your "
                "program was stopped. The budget counts CPU time of your program's processes (every thread and child "
                "process, not time spent waiting for a busy machine): make this part do less work, or vectorise it")
