"""p1 judge, GPTConfig's defaults (R24): the handout's defaults pass, a changed or missing default fails, and so does
a model built from them that differs from one built from the same values written out (or that never built). The
real path (the reference, the starter and mutant n_layer_default_changed in the sandbox) is check-references."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.judge import Judge, ProbeData, StepData, load_judge

JUDGE_DIR = Path(__file__).resolve().parents[2] / "assignments" / "p1" / "hidden_tests" / "judge"
STATED = {"block_size": 64, "n_layer": 2, "n_head": 4, "n_embd": 64, "dropout": 0.0}


@pytest.fixture(scope="module")
def judge() -> Judge:
    return load_judge(JUDGE_DIR)


def run(judge: Judge, fields: dict, parameters: int = 120_000, spelt_out_parameters: int = 120_000) -> bool:
    """Whether config_defaults passes on a probe run whose config_defaults step recorded these values."""
    values = {"fields": fields, "parameters": parameters, "spelt_out_parameters": spelt_out_parameters}
    step = StepData("config_defaults", True, values, {}, None, 0.1)
    return judge.run(ProbeData(steps={step.name: step}, finished=True))["config_defaults"].passed


def test_the_handouts_defaults_pass(judge):
    assert run(judge, dict(STATED))


def test_an_integer_dropout_of_zero_passes(judge):
    assert run(judge, {**STATED, "dropout": 0})


@pytest.mark.parametrize(
    "changed", [{"n_layer": 3}, {"n_layer": None}, {"block_size": 32}, {"dropout": 0.1}, {"n_head": True}]
)
def test_a_changed_default_fails(judge, changed):
    assert not run(judge, {**STATED, **changed})


def test_a_missing_field_fails(judge):
    assert not run(judge, {name: value for name, value in STATED.items() if name != "n_embd"})


def test_a_model_from_the_defaults_unlike_one_from_the_values_written_out_fails(judge):
    assert not run(judge, dict(STATED), parameters=150_000)


def test_a_model_without_parameters_fails(judge):
    assert not run(judge, dict(STATED), parameters=0, spelt_out_parameters=0)
