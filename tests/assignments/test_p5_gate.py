"""Project 5: the handout's self-check agrees with the reference and the starter, the reference pins what the sandbox
has, and the judge's README and requirements rules (fed probe records like the ones the probe writes)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from grader.judge import ProbeData, load_judge

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = REPO / "assignments" / "p5"
REFERENCE = REPO / "reference_solutions" / "p5"
README = (REFERENCE / "README.md").read_text(encoding="utf-8")


def sandbox_versions() -> dict[str, str]:
    lines = (REPO / "sandbox" / "requirements.txt").read_text().splitlines()
    pins = [line.split("==") for line in lines if "==" in line and not line.startswith("#")]
    return {name.strip().lower(): version.strip().split("+")[0] for name, version in pins}


def test_reference_pins_exactly_what_the_sandbox_has():
    sandbox = sandbox_versions()
    for line in (REFERENCE / "requirements.txt").read_text().splitlines():
        name, version = line.split("==")
        assert sandbox.get(name.lower()) == version, line


def test_handout_names_the_sandbox_versions():
    sandbox = sandbox_versions()
    named = re.findall(r"\b([a-z][a-z0-9-]*) (\d+\.\d+\.\d+)", (ASSIGNMENT / "README.md").read_text())
    assert len(named) >= 10
    for name, version in named:
        assert sandbox.get(name) == version, f"handout says {name} {version}, sandbox has {sandbox.get(name)}"


@pytest.fixture(scope="module")
def judge():
    return load_judge(ASSIGNMENT / "hidden_tests" / "judge")


def passing_run() -> dict:
    return {"exit_code": 0, "timed_out": False, "duration_s": 3.0, "timeout_s": 120, "output_tail": "4 passed"}


def probe_records(
    readme: str = README,
    requirements: str | None = "torch==2.13.0\n",
    installed: dict | None = None,
    tests_run: dict | None = None,
    entry_run: dict | None = None,
    counts: dict | None | str = "four passed",
) -> ProbeData:
    steps = {
        "repository": {
            "files": ["README.md", "tests/test_x.py"],
            "file_count": 2,
            "readme": readme,
            "requirements": requirements,
            "installed": installed or {"torch": "2.13.0+cpu"},
            "test_files": ["tests/test_x.py"],
        },
        "tests": {
            "run": tests_run or passing_run(),
            "counts_reported_by_pytest": {"tests": 4, "failures": 0, "errors": 0, "skipped": 0}
            if counts == "four passed"
            else counts,
        },
        "entry": {"command": "python -m minisent examples/reviews.txt", "run": entry_run or passing_run()},
    }
    files = {
        f"{name}.json": json.dumps(
            {"step": name, "ok": True, "values": values, "arrays": [], "error": None, "duration_s": 1.0}
        ).encode()
        for name, values in steps.items()
    }
    files["_done.json"] = b'{"done": true}'
    return ProbeData.from_files(files)


def failing_checks(judge, data: ProbeData) -> set[str]:
    return {check for check, outcome in judge.run(data).items() if not outcome.passed}


def test_reference_like_records_pass_every_gate_check(judge):
    assert failing_checks(judge, probe_records()) == set()


def test_license_spelling_and_deeper_headings_are_accepted(judge):
    readme = README.replace("## Models", "### MODELS").replace("| licence |", "| license |")
    assert failing_checks(judge, probe_records(readme=readme)) == set()


def test_models_table_without_a_licence_column_fails(judge):
    readme = README.replace("| model | licence | source |", "| model | source | notes |")
    assert failing_checks(judge, probe_records(readme=readme)) == {"readme_models"}


def test_a_one_line_task_fails(judge):
    readme = re.sub(r"## Task\n\n.*?\n\n## Entry", "## Task\n\nSentiment.\n\n## Entry", README, flags=re.DOTALL)
    assert failing_checks(judge, probe_records(readme=readme)) == {"readme_task"}


def test_requirements_with_ranges_or_missing_packages_fail(judge):
    failed = failing_checks(judge, probe_records(requirements="torch>=2\nleftpad==1.0\n"))
    assert failed == {"requirements_pinned", "requirements_installed"}


def test_tests_past_their_limit_fail_with_the_duration_in_the_message(judge):
    run = {**passing_run(), "exit_code": -9, "timed_out": True, "duration_s": 120.4}
    outcome = judge.run(probe_records(tests_run=run))["tests_pass"]
    assert not outcome.passed and "120 s limit" in outcome.student_message


def test_entry_command_failure_reports_the_exit_code_and_output(judge):
    run = {**passing_run(), "exit_code": 2, "output_tail": "FileNotFoundError: examples/missing.txt"}
    outcome = judge.run(probe_records(entry_run=run))["entry_runs"]
    assert not outcome.passed and "code 2" in outcome.student_message and "FileNotFoundError" in outcome.student_message


def test_missing_or_empty_requirements_fail_both_requirement_checks(judge):
    for requirements in (None, "# nothing yet\n"):
        failed = failing_checks(judge, probe_records(requirements=requirements, installed={}))
        assert failed == {"requirements_pinned", "requirements_installed"}, requirements


def test_the_starters_placeholders_do_not_pass_for_a_task_or_models(judge):
    readme = (ASSIGNMENT / "starter" / "README.md").read_text(encoding="utf-8")
    assert {"readme_task", "readme_models"} <= failing_checks(judge, probe_records(readme=readme))


def test_a_self_reported_failure_fails_even_with_exit_code_zero(judge):
    """The counts are the repository's own report: they can only make the check stricter than the exit code."""
    counts = {"tests": 4, "failures": 1, "errors": 0, "skipped": 0}
    outcome = judge.run(probe_records(counts=counts))["tests_pass"]
    assert not outcome.passed and "its own report" in outcome.student_message


def test_no_junit_report_or_no_tests_fails(judge):
    for counts in ({"tests": 0, "failures": 0, "errors": 0, "skipped": 0}, None):
        assert failing_checks(judge, probe_records(counts=counts)) == {"tests_pass"}, counts


def test_a_pass_names_the_counts_as_the_repositorys_own_report_beside_its_last_line(judge):
    outcome = judge.run(probe_records(tests_run={**passing_run(), "output_tail": "....\n1 failed in 0.05s\n"}))
    assert outcome["tests_pass"].passed
    assert "its own report: 4 tests" in outcome["tests_pass"].student_message
    assert outcome["tests_pass"].student_message.endswith("its output ends with: 1 failed in 0.05s")
