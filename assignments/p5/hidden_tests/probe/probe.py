"""Project 5 probe: looks at the student's repository and runs its own tests and its entry command, time-boxed.

It emits what it saw and what happened (files, README text, exit codes, durations, output tails); the judge
turns that into the gate checks. The student's code runs only in the child processes started here.
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from xml.etree import ElementTree

import grader_probe as gp

LIMITS = json.loads(gp.read_text("limits.json"))
SECTION = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
TEST_FILE = re.compile(r"(^|/)(test_[^/]*|[^/]*_test)\.py$")


def tail(text):
    return text[-LIMITS["output_tail_chars"]:]


def child_environment():
    """The sandbox's environment without the grader's own variables; HOME is the writable scratch folder."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GRADER_")}
    return {**environment, "HOME": str(scratch)}


def run_time_boxed(command, cwd, timeout_s, shell=False):
    """Run a command in its own process group; on timeout the whole group is killed."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, shell=shell, executable="/bin/bash" if shell else None,
                               env=child_environment(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    timed_out = False
    try:
        output, _ = process.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
    return {"exit_code": process.returncode, "timed_out": timed_out,
            "duration_s": round(time.monotonic() - started, 2), "timeout_s": timeout_s,
            "output_tail": tail(output.decode("utf-8", errors="replace"))}


def section_body(readme, title):
    """The text under the first heading equal to `title` (case-insensitive), up to the next heading."""
    headings = list(SECTION.finditer(readme))
    for index, heading in enumerate(headings):
        if heading.group(1).strip().lower() == title:
            end = headings[index + 1].start() if index + 1 < len(headings) else len(readme)
            return readme[heading.end():end]
    return None


def entry_command(readme):
    body = section_body(readme, "entry command")
    block = FENCE.search(body or "")
    return block.group(1).strip() if block else None


def read_optional(path, limit):
    if not path.is_file():
        return None
    return path.read_text(encoding="utf-8", errors="replace")[:limit]


def installed_version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def junit_counts(path):
    if not path.is_file():
        return None
    root = ElementTree.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    return {key: sum(int(suite.get(key, 0)) for suite in suites) for key in ("tests", "failures", "errors", "skipped")}


# $TMPDIR, not the working directory: the only place every sandbox guarantees is writable by the sandbox user.
scratch = Path(tempfile.mkdtemp(prefix="p5-"))
workspace = scratch / "repository"
readme = ""
with gp.step("repository", timeout_s=30) as s:
    # The submission is read-only; its tests and entry command run in a writable copy.
    shutil.copytree(gp.SUBMISSION_DIR, workspace, symlinks=True)
    files = sorted(str(path.relative_to(workspace)) for path in workspace.rglob("*") if path.is_file())
    readme = read_optional(workspace / "README.md", LIMITS["readme_max_chars"]) or ""
    requirements = read_optional(workspace / "requirements.txt", 100_000)
    names = [match.group(1) for line in (requirements or "").splitlines()
             if not line.strip().startswith("#") and (match := REQUIREMENT_NAME.match(line))]
    s.emit("files", files[:LIMITS["listing_max_files"]])
    s.emit("file_count", len(files))
    s.emit("readme", readme)
    s.emit("requirements", requirements)
    s.emit("installed", {name: installed_version(name) for name in names})
    s.emit("test_files", [name for name in files if TEST_FILE.search(name)])

with gp.step("tests", timeout_s=LIMITS["tests_timeout_s"] + 15) as s:
    junit = scratch / "junit.xml"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"]
    s.emit("run", run_time_boxed(command, workspace, LIMITS["tests_timeout_s"]))
    s.emit("counts", junit_counts(junit))

with gp.step("entry", timeout_s=LIMITS["entry_timeout_s"] + 15) as s:
    command = entry_command(readme)
    s.emit("command", command)
    s.emit("run", run_time_boxed(command, workspace, LIMITS["entry_timeout_s"], shell=True) if command else None)

gp.done()
