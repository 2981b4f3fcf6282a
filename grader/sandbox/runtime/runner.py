"""The sandbox's first process: starts the trusted driver, then reports back.

It enforces the run's time limit (CPU seconds of the whole run, under a wall-clock cap: grader_step_budget), keeps a
capped head and tail of everything printed (the student's output), receives the driver's step records over a pipe of
their own, kills every process the run left behind, and finally writes ONE payload: a header (exit status, output, the
list of records) followed by the records' bytes, to a file in a folder only it can write (Docker) or to its stdout
(local). It is made non-dumpable first, so code running as the same user can neither ptrace it nor open its /proc
entries. Standard library only.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

PAYLOAD_MAGIC = b"@@GRADER-PAYLOAD-v2@@"
PAYLOAD_SIZE = struct.Struct("!Q")
PAYLOAD_FILE = "payload.bin"
PR_SET_DUMPABLE = 4
RUN_WATCH_S = 0.5  # how often the run's CPU clock is read while the driver runs


class CappedStream:
    """Reads a pipe to its end, keeping the first and last `cap // 2` bytes and counting the rest."""

    def __init__(self, pipe, cap: int) -> None:
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0
        self.cap = max(cap // 2, 1)
        self.thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True)
        self.thread.start()

    def _drain(self, pipe) -> None:
        for block in iter(lambda: pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(65536), b""):
            self.total += len(block)
            room = self.cap - len(self.head)
            if room > 0:
                self.head += block[:room]
                block = block[room:]
            if block:
                self.tail = (self.tail + block)[-self.cap:]

    def text(self) -> tuple[str, bool]:
        truncated = self.total > len(self.head) + len(self.tail)
        joined = bytes(self.head) + (b"\n[... output truncated ...]\n" if truncated else b"") + bytes(self.tail)
        return joined.decode("utf-8", errors="replace"), truncated


SHIELDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def shield_from_signals() -> None:
    """As PID 1, only signals with a handler get through; drop Python's SIGINT handler and ignore the rest."""
    for shielded in SHIELDED_SIGNALS:
        signal.signal(shielded, signal.SIG_IGN)


def keep_priority() -> None:
    """Under Linux's autogroup scheduling a new session (the sandbox's, the student's) is a scheduling group of its own
    at nice 0, whatever the process's own nice value; CPU is then shared between groups as equals. Carry the inherited
    value over, so a run started by `grader serve`'s lower-priority grading yields to the web processes."""
    try:
        with open("/proc/self/autogroup", "w") as handle:
            handle.write(str(os.nice(0)))
    except OSError:  # no autogroup (kernel option off, or a container's cgroup): the own nice value already applies
        pass


def default_signals() -> None:
    """In the child, before exec: ignored dispositions are inherited, so give the student's process the defaults."""
    for shielded in SHIELDED_SIGNALS:
        signal.signal(shielded, signal.SIG_DFL)
    keep_priority()  # the child runs in a session of its own


def make_undumpable() -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def read_oom_kills() -> int:
    try:
        for line in Path("/sys/fs/cgroup/memory.events").read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def kill_leftovers(child: subprocess.Popen) -> None:
    """Kill every process the run started. As PID 1 of a namespace, that is every other process in it; otherwise the
    driver's family (its descendants and their sessions: the student's process has a session of its own)."""
    if os.getpid() == 1:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while True:  # reap orphans that were re-parented to us
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
    else:
        # Listed while the driver is alive (not yet waited for), before its tree comes apart and its pid may be reused.
        members = family(child.pid, process_table()) if child.returncode is None else []
        for kill, target in [(os.killpg, child.pid), *((os.kill, process.pid) for process in members)]:
            try:
                kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        child.wait()


def wait_within(child: subprocess.Popen, budget: "CpuBudget") -> tuple[int | None, str | None]:
    """Wait for the driver to end: its exit status, or None and the limit of `budget` it passed ("cpu" or "wall")."""
    while True:
        try:
            return child.wait(timeout=RUN_WATCH_S), None
        except subprocess.TimeoutExpired:
            passed = budget.passed()
            if passed is not None:
                return None, passed


def driver_command() -> list[str]:
    return [sys.executable, "-I", str(Path(__file__).resolve().parent / "driver.py")]


def driver_environment(args: argparse.Namespace, records_fd: int) -> dict[str, str]:
    threads = str(args.threads)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": args.workdir, "TMPDIR": args.tmpdir, "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1",
        "PYTHONDONTWRITEBYTECODE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": os.path.join(args.tmpdir, "matplotlib"),
        "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
        "IPYTHONDIR": os.path.join(args.tmpdir, "ipython"), "JUPYTER_RUNTIME_DIR": os.path.join(args.tmpdir, "jupyter"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "GRADER_SUBMISSION": args.submission, "GRADER_PROBE": args.probe, "GRADER_WORKDIR": args.workdir,
        "GRADER_SEED": str(args.seed), "GRADER_DEVICE": args.device, "GRADER_ENTRY": args.entry,
        "GRADER_KIND": args.kind, "GRADER_CELL_TIMEOUT": str(args.cell_timeout),
        "GRADER_CELLS_BUDGET": str(args.cells_budget),
        "GRADER_TIME_LIMIT": str(args.time_limit), "GRADER_RECORDS_FD": str(records_fd),
        "GRADER_BUDGETS": args.budgets, "GRADER_CPU_CLOCK": args.cpu_clock,
        "GRADER_STEP_WALL_CAP_FACTOR": str(args.step_wall_cap_factor),
    }
    if args.gpu_memory_fraction is not None:
        environment["GRADER_GPU_MEMORY_FRACTION"] = str(args.gpu_memory_fraction)
    if args.student_uid is not None:
        environment["GRADER_STUDENT_UID"] = str(args.student_uid)
    return environment


def write_payload(destination: str, header: dict, files: dict[str, bytes]) -> None:
    """MAGIC, the header's length and JSON (with each record's name and size), then the records' bytes in order."""
    header = {**header, "files": [[name, len(content)] for name, content in files.items()]}
    encoded = json.dumps(header).encode("utf-8")
    parts = [PAYLOAD_MAGIC, PAYLOAD_SIZE.pack(len(encoded)), encoded, *files.values()]
    if destination == "-":
        channel = os.fdopen(1, "wb", closefd=False)
        for part in parts:
            channel.write(part)
        channel.flush()
        return
    path = Path(destination) / PAYLOAD_FILE
    with open(path.with_suffix(".tmp"), "wb") as handle:
        for part in parts:
            handle.write(part)
    os.chmod(path.with_suffix(".tmp"), 0o644)
    os.replace(path.with_suffix(".tmp"), path)


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("submission", "probe", "result", "workdir", "tmpdir", "entry", "device"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--student-uid", type=int, default=None)
    parser.add_argument("--kind", choices=["module", "notebook"], required=True)
    parser.add_argument("--time-limit", type=float, required=True,
                        help="the run's limit in CPU seconds of all its processes; it also stops after this many times "
                        "--step-wall-cap-factor in wall-clock seconds")
    parser.add_argument("--cell-timeout", type=float, default=60)
    parser.add_argument("--cells-budget", type=float, default=60)
    parser.add_argument("--output-limit", type=int, default=256 * 1024)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument("--budgets", default="{}", help="the probe's named time budgets for this device, as JSON")
    parser.add_argument("--cpu-clock", choices=["cgroup", "session"], required=True,
                        help="what the CPU budgets count: the container's cgroup, or processes in /proc")
    parser.add_argument("--step-wall-cap-factor", type=float, required=True,
                        help="a step (and the run) stops after this many times its CPU budget in wall-clock seconds")
    parser.add_argument("--gpu-memory-fraction", type=float, default=None,
                        help="the student's process's share of its GPU's memory, when gradings share a GPU")
    args = parser.parse_args()
    make_undumpable()
    shield_from_signals()
    keep_priority()  # the sandbox started this runner in a session of its own
    for folder in (args.tmpdir, args.workdir):
        os.makedirs(folder, exist_ok=True)
    oom_before = read_oom_kills()
    started = time.monotonic()
    records_read, records_write = os.pipe()
    child = subprocess.Popen(driver_command(), cwd=args.tmpdir, env=driver_environment(args, records_write),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             start_new_session=True, preexec_fn=default_signals, pass_fds=[records_write])
    os.close(records_write)
    records = RecordReader(records_read)
    stdout = CappedStream(child.stdout, args.output_limit // 2)
    stderr = CappedStream(child.stderr, args.output_limit // 2)
    budget = CpuBudget(args.time_limit, args.step_wall_cap_factor, run_clock_for(args.cpu_clock, child.pid),
                       read_every_s=RUN_WATCH_S)
    returncode, passed = wait_within(child, budget)
    duration = time.monotonic() - started
    # Read before the kill: locally, what a killed process used reaches no one's count once it has gone.
    run_time = {"cpu_s": round(budget.used_cpu_s(), 3), "cpu_limit_s": budget.cpu_s, "wall_cap_s": budget.wall_cap_s,
                "passed": passed}
    kill_leftovers(child)
    if returncode is None:
        returncode = child.returncode
    for stream in (stdout, stderr):
        stream.thread.join(timeout=2)
    stdout_text, stdout_cut = stdout.text()
    stderr_text, stderr_cut = stderr.text()
    files, refused = records.collected()
    header = {
        "returncode": returncode, "timed_out": passed is not None, "duration_s": round(duration, 3),
        "run_time": run_time,
        "oom_kills": read_oom_kills() - oom_before, "stdout": stdout_text, "stderr": stderr_text,
        "output_truncated": stdout_cut or stderr_cut, "refused_files": refused,
    }
    write_payload(args.result, header, files)


if __name__ == "__main__":
    # Run as a script with -I, whose folder is then not on the path: the runtime's modules live beside it.
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from grader_records import RecordReader
    from grader_step_budget import CpuBudget, family, process_table, run_clock_for

    main()
