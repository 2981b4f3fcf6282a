from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.gradebook.compute import Attempt, counting_attempt, project_score, standing
from grader.gradebook.rules import CourseRules, CourseRulesError, ProjectDates, load_course_rules
from grader.settings import Settings

DEADLINE = datetime(2027, 5, 31, 23, 59, tzinfo=timezone.utc)
RULES = CourseRules()
DATES = ProjectDates(due=DEADLINE, course_end=DEADLINE, hidden_shown_from=DEADLINE)


def attempt(n: int, hours_before_deadline: float, status: str | None = "graded", score: float | None = 10.0) -> Attempt:
    return Attempt(n, DEADLINE - timedelta(hours=hours_before_deadline), status, score, 20.0 if status else None)


def test_the_latest_attempt_before_the_deadline_counts_by_default():
    attempts = [attempt(1, 48, score=18), attempt(2, 2, score=9), attempt(3, -1, score=20)]
    assert counting_attempt(attempts, DATES, RULES).submission_id == 2


def test_an_infra_error_is_never_the_counting_attempt():
    attempts = [attempt(1, 48, score=12), attempt(2, 2, status="infra_error", score=0)]
    assert counting_attempt(attempts, DATES, RULES).submission_id == 1


def test_a_crashing_attempt_still_counts_when_it_is_the_latest():
    attempts = [attempt(1, 48, score=12), attempt(2, 2, status="error", score=0)]
    assert counting_attempt(attempts, DATES, RULES).submission_id == 2


def test_the_best_policy_picks_the_highest_graded_attempt_before_the_deadline():
    rules = CourseRules(counting_attempt="best_before_deadline")
    attempts = [attempt(1, 48, score=18), attempt(2, 2, score=9), attempt(3, 1, status=None, score=None)]
    assert counting_attempt(attempts, DATES, rules).submission_id == 1


def test_no_attempt_before_the_deadline_scores_zero_and_one_in_grading_is_pending():
    assert counting_attempt([attempt(1, -5)], DATES, RULES) is None
    assert project_score("p1", None, 0.0, False, RULES).points == 0.0
    assert project_score("p1", attempt(1, 1, status=None, score=None), 0.0, False, RULES).points is None


def test_project_points_scale_the_rubric_score_and_add_manual_criteria_up_to_the_maximum():
    rules = CourseRules(project_points={"p4": 40})
    assert project_score("p1", attempt(1, 1, score=15), 3.0, False, rules).points == 18.0
    assert project_score("p4", attempt(1, 1, score=15), 3.0, False, rules).points == 36.0
    assert project_score("p1", attempt(1, 1, score=19), 5.0, False, rules).points == 20.0


def test_the_plagiarism_penalty_is_a_configured_share_of_the_project():
    assert project_score("p1", attempt(1, 1, score=20), 0.0, True, RULES).points == 0.0
    half = CourseRules(plagiarism_penalty=0.5)
    assert project_score("p1", attempt(1, 1, score=16), 0.0, True, half).points == 6.0


@pytest.mark.parametrize(
    "homework, defense, questions, passed, retake",
    [
        (64.0, 16.0, 0, True, False),  # exactly 80 passes
        (64.0, 15.5, 2, False, False),  # fails, homework under 70
        (70.0, 5.0, 2, False, True),  # fails, 70 of homework and both questions: retake
        (72.0, 0.0, 1, False, False),  # one question is not enough
    ],
)
def test_pass_and_retake_thresholds(homework, defense, questions, passed, retake):
    projects = [
        project_score("p1", attempt(1, 1, score=20 * homework / 80), 0.0, False, CourseRules(default_project_points=80))
    ]
    result = standing(projects, defense, questions, RULES)
    assert (result.homework, result.passed, result.retake_eligible) == (homework, passed, retake)


def test_with_a_final_project_its_score_is_the_defense_and_not_homework():
    rules = CourseRules(final_project="p5")
    projects = [project_score(f"p{n}", attempt(n, 1, score=18), 0.0, False, rules) for n in range(1, 5)]
    projects.append(project_score("p5", attempt(5, 1, score=0), 17.0, False, rules))  # examiners' manual criteria
    result = standing(projects, 20.0, 0, rules)  # a course-level defense entry is ignored in this mode
    assert (result.homework, result.defense, result.total, result.passed) == (72.0, 17.0, 89.0, True)


def test_course_rules_come_from_course_yaml_and_default_without_it(tmp_path: Path):
    settings = Settings(course_dir=tmp_path, data_dir=tmp_path / "data")
    assert load_course_rules(settings) == CourseRules()
    (tmp_path / "course.yaml").write_text("pass_threshold: 75\ncounting_attempt: best_before_deadline\n")
    assert load_course_rules(settings).pass_threshold == 75
    (tmp_path / "course.yaml").write_text("pass_treshold: 75\n")
    with pytest.raises(CourseRulesError, match="pass_treshold"):
        load_course_rules(settings)
