"""Project 5 judge: the gate before the defense. Every check's message is written for the examiners.

Nothing here is secret (project 5 has no hidden data), so failures use `Failed`: the message says what ran, what
happened, how long it took, and what is missing.
"""

import re

from grader.judge import Failed, ProbeData, check

SECTION = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.-]+\])?==[A-Za-z0-9.+!_-]+$")
REQUIREMENT_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")  # as the probe reads it
TABLE_ROW = re.compile(r"^\s*\|(.+)\|\s*$")
MIN_TASK_WORDS = 10


def sections(readme: str) -> dict[str, str]:
    """Heading (lower case) -> the text under it, up to the next heading; the first of equal headings wins."""
    headings = list(SECTION.finditer(readme))
    found: dict[str, str] = {}
    for index, heading in enumerate(headings):
        end = headings[index + 1].start() if index + 1 < len(headings) else len(readme)
        found.setdefault(heading.group(1).strip().lower(), readme[heading.end():end])
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
    rows = [[cell.strip() for cell in match.group(1).split("|")]
            for line in text.splitlines() if (match := TABLE_ROW.match(line))]
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
    words = readme_section(probe, "task").split()
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
    incomplete = [row for row in declared if not row[model] or not row[licence]]
    if not declared or incomplete:
        raise Failed(f"{len(declared)} models declared, {len(incomplete)} without a name or a licence")
    return "models: " + "; ".join(f"{row[model]} ({row[licence]})" for row in declared)


@check("requirements_pinned")
def requirements_pinned(probe: ProbeData) -> str:
    requirements = probe.step("repository").value("requirements")
    if requirements is None:
        raise Failed("requirements.txt is missing")
    lines = requirement_lines(requirements)
    unpinned = [line for line in lines if not PINNED.match(line)]
    if not lines or unpinned:
        raise Failed(f"requirements.txt must pin every package as name==version; not pinned: {unpinned[:10]}"
                     if lines else "requirements.txt lists no packages")
    return f"requirements.txt pins {len(lines)} packages"


@check("requirements_installed")
def requirements_installed(probe: ProbeData) -> str:
    repository = probe.step("repository")
    installed = repository.value("installed")
    mismatched = []
    for line in requirement_lines(repository.value("requirements") or ""):
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
    run, counts = step.value("run"), step.value("counts")
    summary = (f"{counts['tests']} tests, {counts['failures']} failed, {counts['errors']} errors, "
               f"{counts['skipped']} skipped" if counts else "no test report")
    if run["timed_out"] or run["exit_code"] != 0 or not counts or counts["tests"] == 0:
        raise Failed(f"python -m pytest {describe_run(run)} ({summary}); output ends with: {output_tail(run)}")
    return f"python -m pytest {describe_run(run)} ({summary})"


@check("entry_runs")
def entry_runs(probe: ProbeData) -> str:
    step = probe.step("entry")
    command, run = step.value("command"), step.value("run")
    if command is None or run is None:
        raise Failed("no entry command was found in the README, so nothing was run")
    if run["timed_out"] or run["exit_code"] != 0:
        raise Failed(f"the entry command `{command[:200]}` {describe_run(run)}; output ends with: {output_tail(run)}")
    return f"the entry command `{command[:200]}` {describe_run(run)}"
