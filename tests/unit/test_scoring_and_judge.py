"""The judge reads plain data only; rubric scoring turns check outcomes into points and safe feedback."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from pydantic import ValidationError

from grader.domain.rubric import Rubric
from grader.judge import CheckOutcome, Failed, ProbeData, StepUnavailable, check, run_check
from grader.redaction import Redactor
from grader.scoring import score

NO_SECRETS = Redactor(())


def step_file(name: str, ok: bool = True, values=None, arrays=(), error=None) -> bytes:
    return json.dumps(
        {"step": name, "ok": ok, "values": values or {}, "arrays": list(arrays), "error": error, "duration_s": 0.1}
    ).encode()


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def rubric(**overrides) -> Rubric:
    criteria = [
        {
            "id": "a",
            "title": "A",
            "points": 10,
            "checks": ["c1", "c2"],
            "scoring": "proportional",
            "feedback": {"pass": "good", "fail": "A is wrong"},
        },
        {"id": "b", "title": "B", "points": 6, "checks": ["c3"], "feedback": {"pass": "ok", "fail": "B is wrong"}},
        {"id": "oral", "title": "Oral", "points": 4, "manual": True},
    ]
    return Rubric.model_validate({"assignment": "p1", "criteria": criteria, **overrides})


def test_probe_data_reads_values_and_arrays():
    data = ProbeData.from_files(
        {"s.json": step_file("s", values={"x": 3}, arrays=["m"]), "s.npz": npz(m=np.eye(2)), "_done.json": b"{}"}
    )
    assert data.finished
    assert data.step("s").value("x") == 3
    assert np.array_equal(data.step("s").array("m"), np.eye(2))


def test_object_arrays_are_never_unpickled():
    buffer = io.BytesIO()
    np.savez(buffer, m=np.array([object()], dtype=object))
    data = ProbeData.from_files({"s.json": step_file("s", arrays=["m"]), "s.npz": buffer.getvalue()})
    assert not data.steps["s"].ok  # refused as malformed, so the check that needs it fails


def test_failed_step_explains_the_students_file_and_line():
    error = {
        "type": "ValueError",
        "message": "bad token",
        "frames": [{"file": "solution.py", "line": 12, "function": "encode"}],
    }
    data = ProbeData.from_files({"s.json": step_file("s", ok=False, error=error)})
    with pytest.raises(StepUnavailable, match=r"ValueError at solution.py:12 in encode: bad token"):
        data.step("s")


def test_missing_step_after_timeout_says_time_ran_out():
    with pytest.raises(StepUnavailable, match="ran out of time"):
        ProbeData.from_files({}, timed_out=True).step("s")


def test_file_named_after_another_step_is_ignored():
    data = ProbeData.from_files({"forged.json": step_file("real")})
    assert data.steps == {}


def test_check_outcomes_separate_student_hint_from_instructor_detail():
    @check("x")
    def asserting(_data):
        assert 1 == 2, "expected 42"

    @check("y")
    def hinting(_data):
        raise Failed("return a list")

    empty = ProbeData.from_files({})
    hidden = run_check("x", asserting, empty)
    assert not hidden.passed and hidden.student_message is None and "expected 42" in hidden.detail
    assert run_check("y", hinting, empty).student_message == "return a list"


def test_proportional_and_all_or_nothing_scoring():
    outcomes = {
        "c1": CheckOutcome("c1", True),
        "c2": CheckOutcome("c2", False, student_message="hint"),
        "c3": CheckOutcome("c3", True),
    }
    criteria = {c.id: c for c in score(rubric(), outcomes, NO_SECRETS)}
    assert criteria["a"].points == 5 and "1 of 2 checks passed" in criteria["a"].feedback
    assert "hint" in criteria["a"].feedback
    assert criteria["b"].points == 6 and criteria["b"].feedback == "ok"
    assert criteria["oral"].points == 0 and criteria["oral"].manual


def test_a_check_missing_from_the_judge_fails_its_criterion():
    criteria = {
        c.id: c for c in score(rubric(), {"c1": CheckOutcome("c1", True), "c2": CheckOutcome("c2", True)}, NO_SECRETS)
    }
    assert criteria["b"].points == 0


def test_feedback_is_redacted_of_hidden_lines():
    outcomes = {"c3": CheckOutcome("c3", False, student_message="KeyError: 'the hidden corpus line number one'")}
    redactor = Redactor(("the hidden corpus line number one",))
    criterion = [c for c in score(rubric(), outcomes, redactor) if c.id == "b"][0]
    assert "hidden corpus" not in criterion.feedback and "[hidden]" in criterion.feedback


CRASH = "your code raised RuntimeError at solution.py:7 in generate: broken"


def test_one_crash_behind_several_criteria_is_quoted_once_and_pointed_to_after():
    outcomes = {check_id: CheckOutcome(check_id, False, student_message=CRASH) for check_id in ("c1", "c2", "c3")}
    criteria = {c.id: c for c in score(rubric(), outcomes, NO_SECRETS)}
    assert criteria["a"].feedback.count(CRASH) == 1
    assert CRASH not in criteria["b"].feedback and 'the same error as under "A"' in criteria["b"].feedback


def test_a_crash_first_quoted_in_a_later_shown_criterion_is_quoted_again_where_it_is_seen_now():
    hidden_first = rubric().model_copy(
        update={
            "criteria": [
                rubric().criteria[0].model_copy(update={"visibility": "after_deadline"}),
                *rubric().criteria[1:],
            ]
        }
    )
    outcomes = {check_id: CheckOutcome(check_id, False, student_message=CRASH) for check_id in ("c1", "c2", "c3")}
    criteria = {c.id: c for c in score(hidden_first, outcomes, NO_SECRETS)}
    assert CRASH in criteria["a"].feedback and CRASH in criteria["b"].feedback


def test_rubric_points_must_sum_to_20():
    with pytest.raises(ValidationError, match="sum to 19"):
        Rubric.model_validate(
            {"assignment": "p1", "criteria": [{"id": "a", "title": "A", "points": 19, "checks": ["c"]}]}
        )


def test_rubric_criterion_needs_checks_or_manual():
    with pytest.raises(ValidationError, match="needs checks"):
        Rubric.model_validate({"assignment": "p1", "criteria": [{"id": "a", "title": "A", "points": 20}]})


def test_a_judge_may_use_dataclasses_with_postponed_annotations(tmp_path):
    from grader.judge import load_judge

    (tmp_path / "judge.py").write_text(
        "from __future__ import annotations\nfrom dataclasses import dataclass\nfrom grader.judge import check\n\n"
        "@dataclass\nclass Gold:\n    source: str\n    start: int\n\n@check('gold')\ndef gold(probe):\n"
        "    assert Gold('a', 1).start == 1\n"
    )
    judge = load_judge(tmp_path)
    assert judge.run(ProbeData.from_files({}))["gold"].passed


def test_helper_modules_of_the_same_name_stay_private_to_each_judge(tmp_path):
    from grader.judge import load_judge

    judges = []
    for course, expected in (("first", 1), ("second", 2)):
        folder = tmp_path / course
        folder.mkdir()
        (folder / "bars.py").write_text(f"EXPECTED = {expected}\n")
        (folder / "judge.py").write_text(
            "from bars import EXPECTED\nfrom grader.judge import check\n\n"
            f"@check('bar')\ndef bar(probe):\n    assert EXPECTED == {expected}\n"
        )
        judges.append(load_judge(folder))
    assert [judge.run(ProbeData.from_files({}))["bar"].passed for judge in judges] == [True, True]


def test_a_passing_check_may_leave_a_note_in_the_feedback():
    @check("ran")
    def ran(_data):
        return "python -m pytest exited with code 0 after 3.2 s"

    outcome = run_check("ran", ran, ProbeData.from_files({}))
    criteria = {
        c.id: c
        for c in score(
            rubric(), {"c1": outcome, "c2": CheckOutcome("c2", True), "c3": CheckOutcome("c3", True)}, NO_SECRETS
        )
    }
    assert outcome.passed and criteria["a"].feedback == "good\n- python -m pytest exited with code 0 after 3.2 s"
