"""The requirements ledger: `grader validate` holds it against the handout, judge, rubric and mutants; feedback on a
lost point names the handout's requirements; check-references proves each mutant fails the checks the ledger
gives it."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from grader import course_files
from grader.domain.rubric import Rubric
from grader.handout import build_handout, validate_assignment, validate_course
from grader.judge import CheckOutcome
from grader.ledger import judge_bars, states_value
from grader.redaction import Redactor
from grader.references import reference_cases
from grader.scoring import score
from grader.settings import Settings


@pytest.fixture
def course(fixture_settings: Settings, tmp_path: Path) -> Settings:
    """A writable copy of the fixture course, whose p1 ledger is valid."""
    shutil.copytree(fixture_settings.course_dir, tmp_path / "course")
    return fixture_settings.model_copy(update={"course_dir": tmp_path / "course"})


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def ledger_of(settings: Settings) -> Path:
    return course_files.assignment_paths(settings, "p1").requirements


def judge_of(settings: Settings) -> Path:
    return course_files.assignment_paths(settings, "p1").judge / "judge.py"


def readme_of(settings: Settings) -> Path:
    return course_files.assignment_paths(settings, "p1").handout_readme


def test_the_fixture_course_with_its_ledgers_validates_clean(course):
    assert validate_course(course) == {"p1": [], "p2": []}


def test_the_real_courses_ledgers_validate_clean(course_settings):
    problems = validate_course(course_settings)
    assert {assignment: [p for p in found if "requirements.yaml" in p] for assignment, found in problems.items()} == {
        "p1": [],
        "p2": [],
        "p3": [],
        "p4": [],
        "p5": [],
    }


def test_a_missing_ledger_is_reported(course):
    ledger_of(course).unlink()
    assert any("requirements.yaml is missing" in p for p in validate_assignment(course, "p1"))


def test_a_requirement_without_a_check_is_reported(course):
    edit(ledger_of(course), "    checks:\n      add_correct: [add_off]\n", "")
    problems = validate_assignment(course, "p1")
    assert any("R1 has no check (and no manual criterion)" in p for p in problems)
    assert any("check 'add_correct' tests no requirement" in p for p in problems)


def test_a_check_without_a_mutant_is_reported(course):
    edit(ledger_of(course), "add_correct: [add_off]", "add_correct: []")
    assert any(
        "R1: check 'add_correct' has no mutant that proves it can fail" in p for p in validate_assignment(course, "p1")
    )


def test_a_listed_mutant_that_does_not_exist_is_reported(course):
    edit(ledger_of(course), "add_correct: [add_off]", "add_correct: [add_twice]")
    assert any(
        "mutant 'add_twice' (for check 'add_correct') does not exist" in p for p in validate_assignment(course, "p1")
    )


def test_a_mutant_that_declares_another_criterion_is_reported(course):
    edit(ledger_of(course), "add_correct: [add_off]", "add_correct: [mean_off]")
    assert any(
        "mutant 'mean_off' is listed for check 'add_correct' but declares neither 'loses' on its criterion "
        "(addition)" in p
        for p in validate_assignment(course, "p1")
    )


def test_a_check_the_judge_does_not_define_is_reported(course):
    edit(ledger_of(course), "add_correct: [add_off]", "add_correct: [add_off]\n      add_exact: [add_off]")
    assert any("R1: the judge has no check 'add_exact'" in p for p in validate_assignment(course, "p1"))


def test_a_ledger_requirement_without_an_anchor_in_the_handout_is_reported(course):
    edit(readme_of(course), '<a id="R2"></a>**R2** ', "")
    assert any(
        "R2 is in the ledger but the handout has no anchor for it" in p for p in validate_assignment(course, "p1")
    )


def test_a_handout_anchor_the_ledger_lacks_is_reported(course):
    edit(readme_of(course), "exact to within 1e-9.", 'exact to within 1e-9.\n* <a id="R3"></a>**R3** Be kind.')
    assert any("the handout anchors R3, which the ledger does not list" in p for p in validate_assignment(course, "p1"))


def test_a_bold_requirement_without_an_anchor_is_reported(course):
    edit(readme_of(course), '<a id="R2"></a>**R2**', "**R2**")
    assert any(
        '**R2** in the handout has no anchor: write <a id="R2"></a>**R2**' in p
        for p in validate_assignment(course, "p1")
    )


def test_a_bar_the_ledger_does_not_list_is_reported(course):
    edit(judge_of(course), "MEAN_TOLERANCE = 1e-9\n", "MEAN_TOLERANCE = 1e-9\nMAX_SUM = 10_000_000\n")
    edit(
        judge_of(course),
        "    assert sums == EXPECTED_SUMS",
        "    assert max(sums) < MAX_SUM\n    assert sums == EXPECTED_SUMS",
    )
    assert any(
        "the judge's bar MAX_SUM = 10000000 is not in the ledger" in p for p in validate_assignment(course, "p1")
    )


def test_a_bar_whose_value_differs_from_the_ledger_is_reported(course):
    edit(judge_of(course), "MEAN_TOLERANCE = 1e-9", "MEAN_TOLERANCE = 1e-6")
    assert any(
        "bar MEAN_TOLERANCE is 1e-06 in the judge but 1e-09 in the ledger" in p
        for p in validate_assignment(course, "p1")
    )


def test_a_bar_the_handout_does_not_state_and_the_ledger_does_not_hide_is_reported(course):
    edit(readme_of(course), ", exact to within 1e-9", "")
    assert any(
        "bar MEAN_TOLERANCE: the handout does not contain the words 'exact to within 1e-9'" in p
        for p in validate_assignment(course, "p1")
    )


def test_stated_words_must_give_the_bars_value(course):
    edit(readme_of(course), "exact to within 1e-9", "exact to within 1e-6")
    edit(ledger_of(course), 'stated: "exact to within 1e-9"', 'stated: "exact to within 1e-6"')
    assert any(
        "bar MEAN_TOLERANCE: the words 'exact to within 1e-6' do not give its value 1e-09" in p
        for p in validate_assignment(course, "p1")
    )


def test_a_bar_needs_a_reason_when_the_handout_does_not_state_it(course):
    edit(ledger_of(course), 'stated: "exact to within 1e-9"', 'hidden: ""')
    assert any("bar MEAN_TOLERANCE needs exactly one of 'stated'" in p for p in validate_assignment(course, "p1"))
    edit(ledger_of(course), 'hidden: ""', 'hidden: "float rounding"')
    assert validate_assignment(course, "p1") == []


def assignment_yaml_of(settings: Settings) -> Path:
    return course_files.assignment_paths(settings, "p1").spec


def with_step_budget(settings: Settings, gpu_seconds: int | None = None) -> None:
    """Gives the fixture's p1 a step budget `adding` of 20 s (and `gpu_seconds` on a GPU)."""
    gpu = f"\n  gpu:\n    budgets_s:\n      adding: {gpu_seconds}" if gpu_seconds else ""
    edit(
        assignment_yaml_of(settings),
        "  notebook_cells_s: 12\n",
        f"  notebook_cells_s: 12\n  budgets_s:\n    adding: 20{gpu}\n",
    )


def test_a_step_budget_the_handout_does_not_state_is_reported(course):
    with_step_budget(course)
    assert any(
        "the step budget adding (20 s, assignment.yaml limits.budgets_s) is not in the ledger" in p
        for p in validate_assignment(course, "p1")
    )


def test_a_step_budget_is_stated_by_handout_words_that_give_its_seconds(course):
    with_step_budget(course)
    edit(ledger_of(course), "bars:\n", 'budgets:\n  adding: {stated: "add runs for at most 20 s"}\nbars:\n')
    assert any(
        "budget adding: the handout does not contain the words 'add runs for at most 20 s'" in p
        for p in validate_assignment(course, "p1")
    )
    edit(readme_of(course), "exact to within 1e-9.", "exact to within 1e-9. `add` runs for at most 30 s.")
    edit(ledger_of(course), "add runs for at most 20 s", "`add` runs for at most 30 s")
    assert any(
        "budget adding: the words '`add` runs for at most 30 s' do not give its 20 s" in p
        for p in validate_assignment(course, "p1")
    )
    edit(readme_of(course), "at most 30 s", "at most 20 s")
    edit(ledger_of(course), "at most 30 s", "at most 20 s")
    assert validate_assignment(course, "p1") == []


def test_a_gpu_step_budget_needs_words_of_its_own(course):
    with_step_budget(course, gpu_seconds=45)
    edit(readme_of(course), "exact to within 1e-9.", "exact to within 1e-9. `add` runs for at most 20 s.")
    edit(ledger_of(course), "bars:\n", 'budgets:\n  adding: {stated: "`add` runs for at most 20 s"}\nbars:\n')
    assert any("budget adding needs 'gpu_stated'" in p for p in validate_assignment(course, "p1"))


def test_a_ledger_budget_the_assignment_lacks_is_reported(course):
    edit(ledger_of(course), "bars:\n", 'budgets:\n  adding: {stated: "exact to within 1e-9"}\nbars:\n')
    assert any(
        "budget adding is in the ledger but assignment.yaml's limits.budgets_s has no adding" in p
        for p in validate_assignment(course, "p1")
    )


def test_a_threshold_written_as_a_literal_is_reported(course):
    edit(judge_of(course), "abs(m - e) < MEAN_TOLERANCE", "abs(m - e) < 1e-6")
    problems = validate_assignment(course, "p1")
    assert any("the judge compares with the literal 1e-06 (line " in p for p in problems)


def test_bars_are_found_through_local_variables_and_keywords_but_not_elsewhere():
    source = """
MARGIN = 0.05
ATOL = 1e-4
LOW, HIGH = 150, 5000
STEPS = 5
NAME = "x"
def check_a(probe):
    required = probe.baseline + MARGIN
    assert probe.accuracy >= required
def check_b(probe):
    return np.allclose(probe.a, probe.b, atol=ATOL) and LOW <= probe.width <= HIGH
def helper():
    return list(range(STEPS))
"""
    assert judge_bars(source) == {"MARGIN": 0.05, "ATOL": 1e-4, "LOW": 150, "HIGH": 5000}


def test_bars_are_found_across_the_modules_of_a_split_judge():
    shared = "SAME = 1e-5\nWIDTH = 3\n"
    checks = "from shared import SAME\ndef check_a(probe):\n    assert abs(probe.a - probe.b) <= SAME\n"
    assert judge_bars(shared, checks) == {"SAME": 1e-5}


def test_a_literal_threshold_in_a_helper_module_of_the_judge_is_reported(course):
    helper = judge_of(course).parent / "helper_checks.py"
    helper.write_text("def close(a, b):\n    return abs(a - b) < 1e-6\n", encoding="utf-8")
    problems = validate_assignment(course, "p1")
    assert any("the judge compares with the literal 1e-06 (line 2 of helper_checks.py)" in p for p in problems)


@pytest.mark.parametrize(
    ("words", "value", "states"),
    [
        ("at most 250,000 parameters", 250000, True),
        ("at least 85 %", 0.85, True),
        ("a margin of 0.05", 0.05, True),
        ("sort texts into four genres", 4, True),
        ("1e-9", 1e-9, True),
        ("at most 250 parameters", 250000, False),
        ("85 %", 85, False),
    ],
)
def test_stated_words_are_matched_to_the_value(words, value, states):
    assert states_value(words, value) is states


def test_feedback_on_a_lost_point_names_the_handouts_requirements(course):
    rubric = course_files.load_rubric(course, "p1")
    assert rubric.check_requirements == {"add_correct": ("R1",), "mean_correct": ("R2",)}
    criteria = {
        c.id: c
        for c in score(
            rubric,
            {"add_correct": CheckOutcome("add_correct", False), "mean_correct": CheckOutcome("mean_correct", True)},
            Redactor(()),
        )
    }
    assert criteria["addition"].requirements == ["R1"]
    assert "Requirements of the handout not met: R1." in criteria["addition"].feedback
    assert criteria["average"].requirements == [] and "Requirements" not in criteria["average"].feedback


def test_requirements_are_named_in_handout_order():
    rubric = Rubric.model_validate(
        {
            "assignment": "p1",
            "check_requirements": {"c1": ("R10",), "c2": ("R2", "R9")},
            "criteria": [{"id": "a", "title": "A", "points": 20, "checks": ["c1", "c2"], "scoring": "proportional"}],
        }
    )
    [criterion] = score(rubric, {"c1": CheckOutcome("c1", False), "c2": CheckOutcome("c2", False)}, Redactor(()))
    assert criterion.requirements == ["R2", "R9", "R10"]


def test_the_handout_zip_carries_the_numbered_readme(course, tmp_path):
    handout = zipfile.ZipFile(build_handout(course, "p1", tmp_path / "p1.zip"))
    assert '<a id="R2"></a>**R2**' in handout.read("p1/README.md").decode()
    assert "p1/requirements.yaml" not in handout.namelist()  # it names hidden checks and mutants


def test_check_references_requires_each_mutant_to_fail_the_checks_the_ledger_gives_it(course, tmp_path):
    """A stand-in verdict (the real gradings are in test_references.py, whose fixture ledger lists add_off)."""
    edit(ledger_of(course), "mean_correct: [mean_off]", "mean_correct: [mean_off, add_off]")
    cases = {case.name: case for case in reference_cases(course, "p1", tmp_path)}
    addition_lost = SimpleNamespace(id="addition", points=0.0, max_points=10.0)
    verdict = SimpleNamespace(
        result=SimpleNamespace(status="graded", criteria=[addition_lost]),
        check_outcomes={
            "add_correct": CheckOutcome("add_correct", False),
            "mean_correct": CheckOutcome("mean_correct", True),
        },
    )
    assert cases["mutant:add_off"].expectation(verdict) == "not caught: check 'mean_correct' passed"
    verdict.check_outcomes["mean_correct"] = CheckOutcome("mean_correct", False)
    assert cases["mutant:add_off"].expectation(verdict) is None
