"""Crash isolation in the probes of p1-p4: a reference with exactly one capability broken (the function raises) loses
exactly the checks that need that capability, keeps every other one, and its feedback quotes the crash once, with
the student's file and line (never the probe's).

The real probe runs in the local sandbox over a copy of the reference with the broken function appended to its
solution.py; the judge and the rubric score the run as a grading would.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from grader import course_files
from grader.judge import CheckOutcome, load_judge
from grader.redaction import Redactor
from grader.scoring import score
from grader.settings import Settings
from tests.assignments.local_probe import P2_QUICK_FINE_TUNE, run_hidden_probe

REPO = Path(__file__).resolve().parents[2]
RAISED = 'RuntimeError("this capability is broken on purpose")'

# p1: generate raises.
P1_BROKEN = f"""

def generate(model, prompt, max_new_tokens, temperature=1.0, top_k=None, seed=None):
    raise {RAISED}
"""
P1_LOST = {"generate_length", "generate_greedy", "generate_top_k", "generate_sampling"}

# p1: setting a model's weights raises (the probe sets them to test positions, checkpoints and sampling).
P1_WEIGHTS_BROKEN = f"""

def _broken_load_state_dict(self, state_dict, strict=True, assign=False):
    raise {RAISED}


GPT.load_state_dict = _broken_load_state_dict
"""

# p2: attention_maps raises. fine_tune trains on 64 texts for seconds, so the accuracy is not judged here.
P2_BROKEN = f"""{P2_QUICK_FINE_TUNE}

def attention_maps(classifier, text):
    raise {RAISED}
"""
P2_LOST = {"attention_shape", "attention_rows", "attention_matches_model"}
P2_NOT_JUDGED = {"accuracy_beats_baseline"}

# p3: the answerer, which picks an answer's citations, raises.
P3_BROKEN = f"""

def _broken_answerer(self, question, retrieved):
    raise {RAISED}


ExtractiveAnswerer.__call__ = _broken_answerer
"""
P3_LOST = {"citations_from_retrieved", "answers_grounded", "not_found"}

# p3: the answerer computes far past the answer step's CPU budget, as a generative model too slow for it would; the
# step's budget is shortened.
P3_HANGING = f"""

import time as _time


def _slow_answerer(self, question, retrieved):
    deadline = _time.process_time() + 3600
    while _time.process_time() < deadline:
        pass
    raise {RAISED}


ExtractiveAnswerer.__call__ = _slow_answerer
"""
P3_SHORT_ANSWER_BUDGET_S = 10.0

# p4: the captioner raises.
P4_BROKEN = f"""

class _BrokenCaptioner:
    def caption(self, image):
        raise {RAISED}


def load_captioner(device="auto"):
    return _BrokenCaptioner()
"""


def p4_lost(check_ids: set[str]) -> set[str]:
    """Every check that reads captions of the student's captioner (the task's answer rests on one)."""
    return {check_id for check_id in check_ids if "caption" in check_id} | {"task_answer"}


def broken_reference(assignment_id: str, appended: str, folder: Path) -> tuple[Path, int]:
    """A copy of the reference with `appended` at the end of its solution.py, and the line number of the raise."""
    shutil.copytree(
        REPO / "reference_solutions" / assignment_id,
        folder,
        ignore=shutil.ignore_patterns("mutants", "alternatives", "__pycache__", "*.yaml"),
    )
    solution = folder / "solution.py"
    source = solution.read_text(encoding="utf-8") + appended
    solution.write_text(source, encoding="utf-8")
    return folder, next(number for number, line in enumerate(source.splitlines(), 1) if RAISED in line)


def grade(assignment_id: str, submission: Path, budgets_s: dict[str, float] | None = None) -> dict[str, CheckOutcome]:
    assignment = REPO / "assignments" / assignment_id
    data = run_hidden_probe(assignment_id, submission, budgets_s=budgets_s)
    return load_judge(assignment / "hidden_tests" / "judge").run(data)


def run_broken(assignment_id: str, appended: str, tmp_path: Path) -> tuple[dict[str, CheckOutcome], int]:
    submission, line = broken_reference(assignment_id, appended, tmp_path / "submission")
    return grade(assignment_id, submission), line


def assert_isolated(
    assignment_id: str,
    appended: str,
    lost: set[str] | None,
    tmp_path: Path,
    settings: Settings,
    not_judged: frozenset[str] = frozenset(),
) -> None:
    outcomes, line = run_broken(assignment_id, appended, tmp_path)
    lost = p4_lost(set(outcomes)) if lost is None else lost
    failed = {check_id for check_id, outcome in outcomes.items() if not outcome.passed} - not_judged
    assert failed == lost, {check_id: outcomes[check_id].detail for check_id in failed ^ lost}
    criteria = score(course_files.load_rubric(settings, assignment_id), outcomes, Redactor(()))
    feedback = "\n".join(criterion.feedback for criterion in criteria)
    assert feedback.count(f"RuntimeError at solution.py:{line} in ") == 1, feedback
    assert "probe.py" not in feedback and "grader_" not in feedback


@pytest.mark.slow
def test_p1_a_raising_generate_costs_only_the_generation_checks(tmp_path, course_settings):
    assert_isolated("p1", P1_BROKEN, P1_LOST, tmp_path, course_settings)


@pytest.mark.slow
def test_p1_a_model_whose_weights_cannot_be_set_keeps_its_causal_mask_check(tmp_path):
    """The positions test sets a one-layer model's weights; the causal-mask test, in its own step, does not."""
    outcomes, _ = run_broken("p1", P1_WEIGHTS_BROKEN, tmp_path)
    assert not outcomes["uses_positions"].passed
    assert outcomes["causal_mask"].passed and outcomes["logits_shape"].passed, outcomes["causal_mask"].detail


@pytest.mark.slow
def test_p2_a_raising_attention_maps_costs_only_the_attention_checks(tmp_path, course_settings):
    assert_isolated("p2", P2_BROKEN, P2_LOST, tmp_path, course_settings, not_judged=frozenset(P2_NOT_JUDGED))


@pytest.mark.slow
def test_p3_a_raising_answerer_costs_only_the_answer_checks(tmp_path, course_settings):
    assert_isolated("p3", P3_BROKEN, P3_LOST, tmp_path, course_settings)


@pytest.mark.slow
def test_p3_an_answer_step_timeout_costs_only_the_answer_checks(tmp_path):
    """The timeout stops the student's process, and the main system with it; the later steps (save, the later
    ingests, the duplicate source, persistence) rebuild it in a fresh process and keep their checks."""
    submission, _ = broken_reference("p3", P3_HANGING, tmp_path / "submission")
    outcomes = grade("p3", submission, budgets_s={"answers": P3_SHORT_ANSWER_BUDGET_S})
    failed = {check_id for check_id, outcome in outcomes.items() if not outcome.passed}
    assert failed == P3_LOST, {check_id: outcomes[check_id].detail for check_id in failed ^ P3_LOST}
    assert f"over its budget of {P3_SHORT_ANSWER_BUDGET_S:g} s" in outcomes["not_found"].detail


def test_p4_a_raising_captioner_costs_only_the_checks_that_read_captions(tmp_path, course_settings):
    assert_isolated("p4", P4_BROKEN, None, tmp_path, course_settings)
