"""Project 5 probe: looks at the student's repository and runs its own tests and its entry command, time-boxed.

It runs in the sandbox's trusted driver. It imports nothing of the student's (project 5 has no Python API to call):
the student's code runs only in the child processes started here, as the student's uid (in Docker), in a writable
copy of the repository, with the grader's variables removed. What it emits, and who decides each value:

- the files, the README, the requirements and the test files: read by the driver from the read-only submission,
  before any student code runs; which pinned packages the sandbox has: asked by the driver of its own Python;
- every run's exit code, time-out, duration and output: observed by the driver (its own clock, its own pipes);
- `counts_reported_by_pytest`: the counts in the JUnit XML file that the student's own pytest run writes. The
  student's code runs in that process, so these are the repository's report about itself, not a measurement;
  the judge uses them only beside the exit code the driver observed, and says so to the examiners.

The judge turns that into the gate's checks; nothing here decides.
"""

import contextlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from importlib import metadata
from xml.etree import ElementTree

import grader_probe as gp

LIMITS = json.loads(gp.read_text("limits.json"))
SECTION = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")
JUNIT_MAX_BYTES = 5 * 2**20
MAX_REQUIREMENTS = 200
KILL_ROUNDS = 20


def tail(text):
    return text[-LIMITS["output_tail_chars"] :]


def student_environment():
    """The student's environment from the runtime, without any of the grader's variables."""
    return {key: value for key, value in gp.student_environment().items() if not key.startswith("GRADER_")}


class OutputTail:
    """Drains a pipe in a thread, keeping only its last bytes (a run may print without end)."""

    def __init__(self, pipe, keep):
        self.kept = bytearray()
        self.total = 0
        self.keep = keep
        self.thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True)
        self.thread.start()

    def _drain(self, pipe):
        for block in iter(lambda: pipe.read1(65536), b""):
            self.total += len(block)
            self.kept = (self.kept + block)[-self.keep :]

    def text(self):
        self.thread.join(timeout=5)
        return bytes(self.kept).decode("utf-8", errors="replace")


def process_table():
    """(pid, real uid, process group, session) of every process the driver can see."""
    table = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            with open(f"/proc/{entry}/status", "rb") as handle:
                uid = next(int(line.split()[1]) for line in handle if line.startswith(b"Uid:"))
        except (OSError, StopIteration, IndexError, ValueError):
            continue
        table.append((int(entry), uid, int(fields[2]), int(fields[3])))
    return table


def kill_everything_started(leader):
    """Kill what the run started: its process group and its session (the leader started both) and, where the student
    has a uid of their own (Docker), every process of that uid: a daemon that left the session goes too."""
    uid = gp.student_identity().get("user")
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(leader, signal.SIGKILL)
    for _ in range(KILL_ROUNDS):  # a process may fork while the table is read: repeat until nothing is left
        doomed = [
            pid
            for pid, owner, group, session in process_table()
            if pid != os.getpid() and (group == leader or session == leader or (uid is not None and owner == uid))
        ]
        if not doomed:
            return
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.05)


def run_as_student(command, cwd, timeout_s, shell=False):
    """Run a command as the student, in a session of its own, time-boxed by the driver's clock; afterwards (in time or
    not) everything it started is killed. Exit code, duration and output are the driver's observations."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        shell=shell,
        executable="/bin/bash" if shell else None,
        env=student_environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        **gp.student_identity(),
    )
    output = OutputTail(process.stdout, 4 * LIMITS["output_tail_chars"])
    timed_out = False
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
    duration = time.perf_counter() - started
    kill_everything_started(process.pid)
    process.wait()
    text = output.text()
    process.stdout.close()
    return {
        "exit_code": process.returncode,
        "timed_out": timed_out,
        "duration_s": round(duration, 2),
        "timeout_s": timeout_s,
        "output_tail": tail(text),
        "output_bytes": output.total,
    }


def section_body(readme, title):
    """The text under the first heading equal to `title` (case-insensitive), up to the next heading."""
    headings = list(SECTION.finditer(readme))
    for index, heading in enumerate(headings):
        if heading.group(1).strip().lower() == title:
            end = headings[index + 1].start() if index + 1 < len(headings) else len(readme)
            return readme[heading.end() : end]
    return None


def entry_command(readme):
    body = section_body(readme, "entry command")
    block = FENCE.search(body or "")
    return block.group(1).strip() if block else None


def read_submitted(name, limit):
    path = gp.SUBMISSION_DIR / name
    if path.is_symlink() or not path.is_file():
        return None
    return path.read_text(encoding="utf-8", errors="replace")[:limit]


def installed_version(name):
    try:
        return metadata.version(name)
    except (metadata.PackageNotFoundError, ValueError):
        return None


def submitted_files():
    root = gp.SUBMISSION_DIR
    return sorted(
        path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file() and not path.is_symlink()
    )


def writable_copy_of_the_submission():
    """The submission is read-only and the driver's: its tests and entry command run in a copy the student's uid may
    write in (the driver is another uid in Docker)."""
    workspace = gp.scratch_folder("repository-") / "repository"
    shutil.copytree(gp.SUBMISSION_DIR, workspace, symlinks=True)
    for path in [workspace, *workspace.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o777 if path.is_dir() or path.stat().st_mode & 0o111 else 0o666)
    return workspace


def junit_report(folder):
    """The counts in the JUnit XML that the student's pytest wrote: read without following links, size-capped, as
    untrusted data. None when it is missing, not a regular file, too large or not a pytest report."""
    try:
        handle = os.open(folder / "junit.xml", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode) or info.st_size > JUNIT_MAX_BYTES:
            return None
        content = os.read(handle, JUNIT_MAX_BYTES + 1)
    finally:
        os.close(handle)
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError:
        return None
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    counts = {}
    for key in ("tests", "failures", "errors", "skipped"):
        try:
            counts[key] = sum(int(suite.get(key, 0)) for suite in suites)
        except ValueError:
            return None
    return counts if suites else None


readme = ""
with gp.step("repository") as s:
    # Read from the submission itself, before any of the student's code has run.
    files = submitted_files()
    readme = read_submitted("README.md", LIMITS["readme_max_chars"]) or ""
    requirements = read_submitted("requirements.txt", 100_000)
    names = [
        match.group(1)
        for line in (requirements or "").splitlines()
        if not line.strip().startswith("#") and (match := REQUIREMENT_NAME.match(line))
    ][:MAX_REQUIREMENTS]
    s.emit("files", files[: LIMITS["listing_max_files"]])
    s.emit("file_count", len(files))
    s.emit("readme", readme)
    s.emit("requirements", requirements)
    s.emit("installed", {name: installed_version(name) for name in names})
    s.emit("test_files", [name for name in files if TEST_FILE.search(name)])

with gp.step("tests") as s:
    reports = gp.scratch_folder("junit-")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={reports / 'junit.xml'}"]
    workspace = writable_copy_of_the_submission()
    s.emit("run", run_as_student(command, workspace, LIMITS["tests_timeout_s"]))
    s.emit("counts_reported_by_pytest", junit_report(reports))
    shutil.rmtree(workspace.parent, ignore_errors=True)  # room for the entry command's copy on the size-capped tmpfs

with gp.step("entry") as s:
    # A fresh copy: what the tests wrote or deleted does not change what the entry command finds.
    command = entry_command(readme)
    s.emit("command", command)
    s.emit(
        "run",
        run_as_student(command, writable_copy_of_the_submission(), LIMITS["entry_timeout_s"], shell=True)
        if command
        else None,
    )

gp.done()
