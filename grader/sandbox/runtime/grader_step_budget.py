"""A probe step's budget: CPU seconds spent by the student's processes, with a wall-clock cap for code that waits.

CPU time does not grow when the host is busy, so neither does a verdict that depends on it: a step is charged what
the student's code computed, not how long it had to queue for a core. Code that sleeps, blocks on a lock or waits for
input uses no CPU; the wall cap (the budget times the sandbox's `--step-wall-cap-factor`) stops it.

The clock is chosen by the sandbox (runner `--cpu-clock`):
- `cgroup` (Docker): the container's own cgroup counts the CPU of every process in it, running or ended, and a
  process cannot leave it (the cgroup filesystem is read-only there). The driver's own CPU is taken out, so what is
  charged is the student's processes, threads and children, and the runner's copying of what they print.
- `session` (the local sandbox): the processes in the student's session, read from /proc: each one's utime+stime
  plus the cutime+cstime of the children it has waited for. A process that leaves the session (setsid), or children
  that end unwaited, escape this count: the local sandbox is no security boundary, and its results say so.
Standard library only.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable, Protocol

from grader_channel import WATCH_SLICE_S, ChannelTimeout

CGROUP_V2_STAT = Path("/sys/fs/cgroup/cpu.stat")
CGROUP_V1_USAGE = (Path("/sys/fs/cgroup/cpuacct/cpuacct.usage"), Path("/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage"))
TICKS_PER_S = os.sysconf("SC_CLK_TCK")


class CpuClock(Protocol):
    def seconds(self) -> float:
        """CPU seconds the student's processes have used since the run began (never reset by a restart)."""


class CgroupClock:
    """The container's cgroup CPU counter, less the driver's own CPU."""

    def __init__(self, read_usage: Callable[[], float]) -> None:
        self.read_usage = read_usage

    def seconds(self) -> float:
        return self.read_usage() - time.process_time()


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


def session_cpu_s(session: int) -> float:
    """utime+stime+cutime+cstime of every process whose session id is `session` (live or not yet reaped)."""
    ticks = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:  # ended between the listing and the read
            continue
        fields = stat[stat.rindex(b")") + 2:].split()  # the name in parentheses may hold spaces
        if int(fields[3]) == session:  # field 6 of proc(5): the session id
            ticks += sum(int(value) for value in fields[11:15])  # fields 14-17: utime stime cutime cstime
    return ticks / TICKS_PER_S


def clock_for(kind: str, leader: Callable[[], int | None]) -> CpuClock:
    """The clock the sandbox asked for; a container whose cgroup counter cannot be read counts the session instead."""
    if kind == "cgroup":
        usage = cgroup_usage_reader()
        if usage is not None:
            return CgroupClock(usage)
        print("[grader] the container's cgroup CPU counter is unreadable: step budgets count the student's session",
              file=sys.stderr)
    return SessionClock(leader)


class StepBudget:
    """One step's limits. `check()` raises ChannelTimeout, with what the student should read, once the step has used
    more CPU than its budget or run past the wall cap."""

    def __init__(self, cpu_s: float, wall_cap_factor: float, clock: CpuClock) -> None:
        self.cpu_s = cpu_s
        self.wall_cap_factor = wall_cap_factor
        self.clock = clock
        self.started = time.monotonic()
        self.started_cpu = clock.seconds()
        self.read_at = self.started

    def used_cpu_s(self) -> float:
        return max(0.0, self.clock.seconds() - self.started_cpu)

    def check(self) -> None:
        now = time.monotonic()
        wall_s = now - self.started
        if wall_s >= self.cpu_s * self.wall_cap_factor:
            raise ChannelTimeout(
                f"this step ran for {wall_s:.0f} s of wall-clock time, its cap ({self.wall_cap_factor:g} times its "
                f"{self.cpu_s:g} s CPU budget), while your program used only {self.used_cpu_s():.1f} s of CPU, so it "
                "was stopped: it was waiting (sleep, input(), a lock, a network call or a child process that does not "
                "end). Do not block: the sandbox has no network and no keyboard")
        if now - self.read_at < WATCH_SLICE_S:  # reading /proc often would slow a chatty step
            return
        self.read_at = now
        # Read twice before stopping: a /proc count can see a child both alive and already in its parent's total.
        if self.used_cpu_s() > self.cpu_s and (used := self.used_cpu_s()) > self.cpu_s:
            raise ChannelTimeout(
                f"this step used {used:.1f} s of CPU time, over its budget of {self.cpu_s:g} s, so your program was "
                "stopped. The budget counts CPU time of your program's processes (every thread and child process, "
                "not time spent waiting for a busy machine): make this part do less work, or vectorise it")
