"""The real course's files are valid, and each handout holds only what students may see."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from grader import course_files
from grader.handout import build_handout, validate_assignment, validate_course


def test_every_assignment_and_rubric_of_the_course_validates(course_settings):
    problems = validate_course(course_settings)
    assert sorted(problems) == ["p1", "p2", "p3", "p4", "p5"]
    assert {assignment: found for assignment, found in problems.items() if found} == {}


@pytest.mark.parametrize("assignment_id", ["p1", "p2", "p3", "p4", "p5"])
def test_handout_never_contains_hidden_tests_or_the_reference(course_settings, tmp_path, assignment_id):
    handout = build_handout(course_settings, assignment_id, tmp_path / f"{assignment_id}.zip")
    names = zipfile.ZipFile(handout).namelist()
    assert f"{assignment_id}/README.md" in names and f"{assignment_id}/RUBRIC.md" in names
    assert any(name.startswith(f"{assignment_id}/starter/") for name in names)
    assert not any(
        "hidden_tests" in name or "judge" in name or "reference_solutions" in name or "mutants" in name
        for name in names
    )
    root = course_files.assignment_paths(course_settings, assignment_id).root
    public = {
        f"{assignment_id}/{p.relative_to(root).as_posix()}"
        for part in ("README.md", "starter", "public_tests", "data")
        for p in ([root / part] if (root / part).is_file() else (root / part).rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert set(names) == public | {f"{assignment_id}/RUBRIC.md"}


def test_validate_explains_a_rubric_check_the_judge_lacks(fixture_settings, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(fixture_settings.course_dir, course)
    rubric = course / "rubrics" / "p1.yaml"
    rubric.write_text(rubric.read_text().replace("checks: [mean_correct]", "checks: [median_correct]"))
    settings = fixture_settings.model_copy(update={"course_dir": course})
    problems = validate_assignment(settings, "p1")
    assert any("refers to check 'median_correct', which the judge does not define" in p for p in problems)
    assert any("judge checks not used by any criterion: mean_correct" in p for p in problems)


def test_validate_explains_points_that_do_not_sum_to_20(fixture_settings, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(fixture_settings.course_dir, course)
    rubric = course / "rubrics" / "p1.yaml"
    rubric.write_text(rubric.read_text().replace("points: 6", "points: 5"))
    settings = fixture_settings.model_copy(update={"course_dir": course})
    assert any("sum to 19" in p for p in validate_assignment(settings, "p1"))


def test_unknown_assignment_names_the_known_ones(fixture_settings):
    with pytest.raises(course_files.CourseFileError, match=r"unknown assignment 'p9' \(known: p1, p2\)"):
        course_files.load_assignment(fixture_settings, "p9")


def test_a_notebooks_cells_must_leave_time_for_the_checks():
    from pydantic import ValidationError

    from grader.domain.assignment import Limits

    assert Limits(time_s=240).notebook_cells_budget_s == 120
    assert Limits(time_s=240).effective()["notebook_cells_s"] == 120  # a result's sandbox.limits holds numbers only
    assert Limits(time_s=240, notebook_cells_s=90).notebook_cells_budget_s == 90
    with pytest.raises(ValidationError, match="must be less than time_s"):
        Limits(time_s=60, notebook_cells_s=60)
