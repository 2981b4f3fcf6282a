"""Mutation analysis without Docker: generation with mutmut's operators, sampling, triage, classification, resume
through the batch service on the local sandbox, and the report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from mutmut.mutation.mutators import mutation_operators
from sqlalchemy import func, select, update

from grader.db.base import make_engine, make_session_factory
from grader.db.models import GradeRecord
from grader.mutation.generate import generate_mutants, mutate_source, sample, write_mutant
from grader.mutation.report import report_data, report_html, write_report
from grader.mutation.run import Grading, MutationError, classify, run_mutation
from grader.mutation.triage import TriageError, load_triage
from grader.settings import Settings
from tests.conftest import FIXTURE_COURSE

MUTMUT_OPERATORS = {operator.__name__.removeprefix("operator_") for _, operator in mutation_operators}
UNCHECKED_HELPER = "\n\ndef unchecked_helper():\n    return 41\n"


def ids(mutants) -> list[str]:
    return [mutant.id for mutant in mutants]


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """The fixture course, its p1 reference given a helper that no check calls (its mutants survive)."""
    copy = tmp_path / "course"
    shutil.copytree(FIXTURE_COURSE, copy)
    reference = copy / "reference_solutions" / "p1" / "solution.py"
    reference.write_text(reference.read_text() + UNCHECKED_HELPER)
    return copy


@pytest.fixture
def local_settings(course: Path, tmp_path: Path) -> Settings:
    return Settings(course_dir=course, data_dir=tmp_path / "data", sandbox="local")


def test_mutants_come_from_mutmuts_operators_with_stable_ids():
    reference = FIXTURE_COURSE / "reference_solutions" / "p1"
    first, again = generate_mutants(reference), generate_mutants(reference)
    assert ids(first) == ["solution.py:2:swap_op:1", "solution.py:6:swap_op:1", "solution.py:6:arg_removal:1"]
    assert ids(again) == ids(first)
    assert {mutant.operator for mutant in first} <= MUTMUT_OPERATORS
    assert "return a - b" in first[0].source


def test_occurrences_number_the_mutations_of_one_operator_on_one_line():
    mutants = mutate_source("m.py", "def f(x):\n    return g(x, 1, 2)\n")
    removals = [m for m in mutants if m.operator == "arg_removal"]
    assert [m.occurrence for m in removals] == list(range(1, len(removals) + 1))
    assert len(set(m.source for m in removals)) == len(removals) > 3


def test_annotations_decorators_and_pragma_lines_are_left_alone_but_decorated_bodies_are_mutated():
    code = "@cache(3)\ndef f(x: Annotated[int, 5]) -> int:\n    y = x + 1  # pragma: no mutate\n    return y * 2\n"
    mutants = mutate_source("m.py", code)
    assert {m.line for m in mutants} == {4}
    assert any("return y / 2" in m.source for m in mutants)


def test_sample_is_reproducible_and_keeps_generation_order():
    # 8 lines give 64 mutants to sample 10 from; generating them costs the square of the lines
    mutants = mutate_source("m.py", "def f(a, b):\n" + "".join(f"    g{i}(a + {i}, b - {i})\n" for i in range(8)))
    chosen = sample(mutants, 10)
    assert ids(chosen) == ids(sample(mutants, 10))
    assert len(chosen) == 10 and set(ids(chosen)) < set(ids(mutants))
    assert ids(chosen) == [m.id for m in mutants if m.id in set(ids(chosen))]
    assert ids(sample(mutants, None)) == ids(mutants)


def test_a_written_mutant_differs_from_the_reference_in_its_one_file(tmp_path: Path):
    reference = FIXTURE_COURSE / "reference_solutions" / "p1"
    mutant = generate_mutants(reference)[0]
    folder = write_mutant(reference, mutant, tmp_path / "m")
    assert (folder / "solution.py").read_text() == mutant.source != (reference / "solution.py").read_text()
    assert not (folder / "mutants").exists() and not (folder / "alternatives").exists()


def grading(status: str = "graded", points: dict | None = None, passed=("a", "gate"), failed=()) -> Grading:
    return Grading(status, points or {"c1": 2.0, "gate": 0.0}, frozenset(passed), frozenset(failed), 1.0, "")


def test_classify_kills_on_lost_points_or_a_failed_gate_check_and_sets_timeouts_apart():
    reference = grading()
    assert classify(reference, grading(points={"c1": 1.0, "gate": 0.0}, passed=("gate",), failed=("a",)))[:2] == (
        "killed",
        ("c1",),
    )
    assert classify(reference, grading(passed=("a",), failed=("gate",))) == ("killed", (), ("gate",))
    assert classify(reference, grading())[0] == "survived"
    assert classify(reference, grading(status="timeout"))[0] == "timed_out"
    assert classify(reference, grading(status="infra_error", points={}))[0] == "errored"


def test_triage_rejects_a_reason_that_is_not_one_line(tmp_path: Path):
    (tmp_path / "mutation.yaml").write_text('equivalent:\n  "a.py:1:number:1": "first line\\nsecond line"\n')
    with pytest.raises(TriageError, match="one non-empty line"):
        load_triage(tmp_path)
    (tmp_path / "mutation.yaml").write_text("gaps:\n  'a.py:1:number:1': {criterion: c1}\n")
    with pytest.raises(TriageError, match="requirement"):
        load_triage(tmp_path)


def record_count(settings: Settings, state: Path) -> int:
    engine = make_engine(f"sqlite:///{state / 'gradebook' / 'grader.sqlite3'}")
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(func.count(GradeRecord.id)))
    finally:
        engine.dispose()


@pytest.mark.slow
def test_run_grades_through_the_batch_and_a_rerun_grades_nothing_again(local_settings: Settings, tmp_path: Path):
    state = tmp_path / "state"
    run = run_mutation(local_settings, "p1", state, None, 2, None, lambda progress: None)
    by_id = {item.mutant.id: item for item in run.outcomes}
    assert by_id["solution.py:2:swap_op:1"].status == "killed"
    assert by_id["solution.py:2:swap_op:1"].lost_criteria == ("addition",)
    assert by_id["solution.py:6:swap_op:1"].lost_criteria == ("average",)
    unchecked = [item for item in run.outcomes if item.mutant.line == 10]
    assert unchecked and all(item.status == "survived" and item.triage is None for item in unchecked)
    graded = record_count(local_settings, state)
    assert graded == len(run.outcomes) + 1  # the reference too

    again = run_mutation(local_settings, "p1", state, None, 2, None, lambda progress: None)
    assert record_count(local_settings, state) == graded
    assert [(i.mutant.id, i.status) for i in again.outcomes] == [(i.mutant.id, i.status) for i in run.outcomes]


@pytest.mark.slow
def test_triaged_equivalents_leave_the_score_and_the_report_shows_survivor_diffs(
    local_settings: Settings, tmp_path: Path
):
    reference = local_settings.references_dir / "p1"
    (reference / "mutation.yaml").write_text(
        'equivalent:\n  "solution.py:10:number:1": "unchecked_helper is never called"\n'
    )
    run = run_mutation(local_settings, "p1", tmp_path / "state", None, 1, None, lambda progress: None)
    data = report_data(run, reference)
    assert data["totals"]["equivalent"] == 1 and data["totals"]["survived"] == 0
    assert data["score"] == 1.0
    assert data["per_file"]["solution.py"]["killed"] == 3
    assert data["per_criterion"]["addition"]["killed"] == 1
    json_path, html_path = write_report(run, reference, tmp_path / "out")
    assert json.loads(json_path.read_text())["untriaged_survivors"] == []
    page = html_path.read_text()
    assert "-    return 41" in page and "+    return 42" in page and "<script" not in page


@pytest.mark.slow
def test_an_untriaged_survivor_lowers_the_score_and_is_listed(local_settings: Settings, tmp_path: Path):
    run = run_mutation(local_settings, "p1", tmp_path / "state", None, 1, None, lambda progress: None)
    data = report_data(run, local_settings.references_dir / "p1")
    assert data["score"] == 0.75
    assert data["untriaged_survivors"] == ["solution.py:10:number:1"]
    assert "solution.py:10:number:1 · survived · not triaged" in report_html(data)


def test_a_stored_reference_without_full_marks_is_graded_again(local_settings: Settings, tmp_path: Path):
    state = tmp_path / "state"
    run_mutation(local_settings, "p1", state, 1, 1, None, lambda progress: None)
    engine = make_engine(f"sqlite:///{state / 'gradebook' / 'grader.sqlite3'}")
    with make_session_factory(engine).begin() as session:
        session.execute(update(GradeRecord).where(GradeRecord.id == 1).values(status="timeout"))
    engine.dispose()
    before = record_count(local_settings, state)
    run = run_mutation(local_settings, "p1", state, 1, 1, None, lambda progress: None)
    assert run.reference.status == "graded"
    assert record_count(local_settings, state) == before + 1


def test_a_reference_without_full_marks_stops_the_run(local_settings: Settings, tmp_path: Path):
    solution = local_settings.references_dir / "p1" / "solution.py"
    solution.write_text(solution.read_text().replace("a + b", "a + b + 1"))
    with pytest.raises(MutationError, match="check-references -a p1"):
        run_mutation(local_settings, "p1", tmp_path / "state", None, 1, None, lambda progress: None)


def test_the_run_time_cap_shortens_an_assignments_limit_and_never_lengthens_it(fixture_settings: Settings):
    from grader.pipeline import Grader
    from grader.sandbox.local_backend import LocalBackend

    assignment = Grader(fixture_settings, LocalBackend(use_bwrap=False)).materials("p1").assignment
    capped = Grader(fixture_settings.model_copy(update={"run_time_cap_s": 10}), LocalBackend(use_bwrap=False))
    assert capped.run_limits(assignment).time_s == 10
    assert capped.run_limits(assignment).notebook_cells_budget_s < 10
    generous = Grader(fixture_settings.model_copy(update={"run_time_cap_s": 999}), LocalBackend(use_bwrap=False))
    assert generous.run_limits(assignment) == assignment.limits


def test_a_step_past_its_cpu_budget_is_a_kill_and_only_the_run_cap_a_timeout():
    result = {
        "criteria": [
            {
                "id": "captioning",
                "points": 0,
                "feedback": "... - your code raised StepTimeout: this step ran past its time "
                "budget, so your program was stopped",
                "checks": [{"id": "caption_grammar", "passed": False}],
            },
            {"id": "task", "points": 5, "feedback": "ok", "checks": [{"id": "task_completes", "passed": True}]},
        ]
    }
    reference = Grading.from_result(
        "graded",
        {
            "criteria": [
                {
                    "id": "captioning",
                    "points": 4,
                    "feedback": "ok",
                    "checks": [{"id": "caption_grammar", "passed": True}],
                },
                {"id": "task", "points": 5, "feedback": "ok", "checks": [{"id": "task_completes", "passed": True}]},
            ]
        },
    )
    assert classify(reference, Grading.from_result("graded", result)) == (
        "killed",
        ("captioning",),
        ("caption_grammar",),
    )
    assert classify(reference, Grading.from_result("timeout", result))[0] == "timed_out"
