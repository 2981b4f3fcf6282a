"""Project 5 judge: the gate before the defense. Every check's message is written for the examiners.

Nothing here is secret (project 5 has no hidden data), so failures use `Failed`: the message says what ran, what
happened, how long it took, and what is missing.

Who decided each value the checks read (see the probe): the README, the requirements, the file list and the installed
versions were read by the grader's driver from the submission; exit codes, time-outs, durations and output were
observed by the driver. Only the test counts come from the repository itself (the JUnit report its own pytest run
writes): `tests_pass` needs the driver's exit code 0 as well, and its message names the counts as the repository's.
"""

import re

from grader.judge import Failed, ProbeData, check

SECTION = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.-]+\])?==[A-Za-z0-9.+!_-]+$")
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")  # as the probe reads it
TABLE_ROW = re.compile(r"^\s*\|(.+)\|\s*$")
MIN_TASK_WORDS = 10
PLACEHOLDER = "TODO"  # the starter's marker; the handout's self-check refuses it too


def sections(readme: str) -> dict[str, str]:
    """Heading (lower case) -> the text under it, up to the next heading; the first of equal headings wins."""
    headings = list(SECTION.finditer(readme))
    found: dict[str, str] = {}
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(readme)
        found.setdefault(heading.group(1).strip().lower(), readme[heading.end() : end])
    return found


def readme_section(probe: ProbeData, title: str) -> str:
    readme = probe.step("repository").value("readme")
    if not readme:
        raise Failed("README.md is missing or empty")
    body = sections(readme).get(title)
    if body is None:
        raise Failed(f"README.md has no '## {title.capitalize()}' section")
    return body


def table_rows(text: str) -> list[list[str]]:
    rows = [
        [cell.strip() for cell in match.group(1).split("|")]
        for line in text.splitlines()
        if (match := TABLE_ROW.match(line))
    ]
    return [row for row in rows if not all(re.fullmatch(r":?-{3,}:?", cell) for cell in row)]


def requirement_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def local_version_stripped(version: str) -> str:
    """'2.13.0+cpu' -> '2.13.0': pip's == ignores the local label too."""
    return version.strip().split("+")[0]


def describe_run(run: dict) -> str:
    if run["timed_out"]:
        return f"was stopped after its {run['timeout_s']} s limit"
    return f"exited with code {run['exit_code']} after {run['duration_s']} s"


def output_tail(run: dict, chars: int = 800) -> str:
    return run["output_tail"][-chars:].strip()


@check("readme_task")
def readme_task(probe: ProbeData) -> str:
    task = readme_section(probe, "task")
    words = task.split()
    if PLACEHOLDER in task:
        raise Failed(f"the '## Task' section still holds the starter's {PLACEHOLDER}: state the task itself")
    if len(words) < MIN_TASK_WORDS:
        raise Failed(f"the '## Task' section has {len(words)} words; state the task in at least {MIN_TASK_WORDS}")
    return f"task statement: {len(words)} words"


@check("readme_entry_command")
def readme_entry_command(probe: ProbeData) -> str:
    block = FENCE.search(readme_section(probe, "entry command"))
    if not block or not block.group(1).strip():
        raise Failed("the '## Entry command' section has no fenced code block with the command to run")
    return f"entry command: `{block.group(1).strip()[:200]}`"


@check("readme_models")
def readme_models(probe: ProbeData) -> str:
    rows = table_rows(readme_section(probe, "models"))
    if not rows:
        raise Failed("the '## Models' section has no table of models and licences")
    header = [cell.lower() for cell in rows[0]]
    if "model" not in header or not {"licence", "license"} & set(header):
        raise Failed("the models table needs a 'model' and a 'licence' column")
    model, licence = header.index("model"), header.index("licence" if "licence" in header else "license")
    declared = [row for row in rows[1:] if len(row) == len(header)]
    incomplete = [
        row
        for row in declared
        if not row[model] or not row[licence] or PLACEHOLDER in (row[model].upper(), row[licence].upper())
    ]
    if not declared or incomplete:
        raise Failed(
            f"{len(declared)} models declared, {len(incomplete)} without a name or a licence "
            f"(or with the starter's {PLACEHOLDER})"
        )
    return "models: " + "; ".join(f"{row[model]} ({row[licence]})" for row in declared)


@check("requirements_pinned")
def requirements_pinned(probe: ProbeData) -> str:
    requirements = probe.step("repository").value("requirements")
    if requirements is None:
        raise Failed("requirements.txt is missing")
    lines = requirement_lines(requirements)
    unpinned = [line for line in lines if not PINNED.match(line)]
    if not lines or unpinned:
        raise Failed(
            f"requirements.txt must pin every package as name==version; not pinned: {unpinned[:10]}"
            if lines
            else "requirements.txt lists no packages"
        )
    return f"requirements.txt pins {len(lines)} packages"


@check("requirements_installed")
def requirements_installed(probe: ProbeData) -> str:
    repository = probe.step("repository")
    installed, requirements = repository.value("installed"), repository.value("requirements")
    if requirements is None:
        raise Failed("requirements.txt is missing, so nothing can be checked against the grading sandbox")
    lines = requirement_lines(requirements)
    if not lines:
        raise Failed("requirements.txt lists no packages, so nothing can be checked against the grading sandbox")
    mismatched = []
    for line in lines:
        name = REQUIREMENT_NAME.match(line)
        have = installed.get(name.group(1)) if name else None
        _, pinned, version = line.partition("==")
        if have is None or (pinned and local_version_stripped(have) != local_version_stripped(version)):
            mismatched.append(f"{line} (sandbox: {have or 'not installed'})")
    if mismatched:
        raise Failed(f"not available in the grading sandbox at the pinned version: {mismatched[:10]}")
    return "every pinned version is installed in the grading sandbox"


@check("tests_present")
def tests_present(probe: ProbeData) -> str:
    test_files = probe.step("repository").value("test_files")
    if not test_files:
        raise Failed("no test files (test_*.py or *_test.py) in the repository")
    return f"{len(test_files)} test files"


@check("tests_pass")
def tests_pass(probe: ProbeData) -> str:
    step = probe.step("tests")
    run, counts = step.value("run"), step.value("counts_reported_by_pytest")
    # The counts are the repository's own report (its pytest run wrote them); the exit code is the driver's.
    summary = (
        f"its own report: {counts['tests']} tests, {counts['failures']} failed, {counts['errors']} errors, "
        f"{counts['skipped']} skipped"
        if counts
        else "no JUnit report from its own run"
    )
    failed = (
        run["timed_out"]
        or run["exit_code"] != 0
        or not counts
        or counts["tests"] <= 0
        or counts["failures"] != 0
        or counts["errors"] != 0
    )
    if failed:
        raise Failed(f"python -m pytest {describe_run(run)} ({summary}); output ends with: {output_tail(run)}")
    # Its last line beside the report: a conftest that rewrites the report or the exit code shows up here unless it
    # also rewrites what pytest printed. All three come from the student's process; the examiners read them as such.
    last_line = (output_tail(run).splitlines() or [""])[-1][:200]
    return f"python -m pytest {describe_run(run)} ({summary}); its output ends with: {last_line}"


@check("entry_runs")
def entry_runs(probe: ProbeData) -> str:
    step = probe.step("entry")
    command, run = step.value("command"), step.value("run")
    if command is None or run is None:
        raise Failed("no entry command was found in the README, so nothing was run")
    if run["timed_out"] or run["exit_code"] != 0:
        raise Failed(f"the entry command `{command[:200]}` {describe_run(run)}; output ends with: {output_tail(run)}")
    return f"the entry command `{command[:200]}` {describe_run(run)}"
