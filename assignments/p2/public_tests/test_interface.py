"""Public interface tests for Project 2. Run from your solution folder:  pytest path/to/public_tests

They check names, types and shapes on made-up inputs only; grading uses other inputs and checks behaviour.
"""

import numpy as np
import pytest

import solution

NUM_LABELS = 4
TEXT = "Time flies like an arrow; fruit flies like a banana."
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def config():
    return solution.FineTuneConfig(num_labels=NUM_LABELS, device="cpu", epochs=1, time_budget_s=30.0)


@pytest.fixture(scope="module")
def classifier(config):
    return solution.load_pretrained(config)


def test_config_defaults_to_the_bundled_model():
    config = solution.FineTuneConfig(num_labels=NUM_LABELS)
    assert config.model_name == solution.DEFAULT_MODEL
    assert config.device == "auto"


def test_load_pretrained_exposes_the_hugging_face_encoder_and_tokenizer(classifier):
    from transformers import PreTrainedModel

    assert isinstance(classifier, solution.TextClassifier)
    assert isinstance(classifier.encoder, PreTrainedModel)
    assert callable(classifier.tokenizer)


def test_tokens_include_the_special_tokens(classifier):
    tokens = classifier.tokens(TEXT)
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert all(type(token) is str for token in tokens)


def test_predict_proba_gives_one_distribution_per_text(classifier):
    probabilities = np.asarray(classifier.predict_proba([TEXT, "Short one."]))
    assert probabilities.shape == (2, NUM_LABELS)
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-5)


def test_predict_returns_int_labels(classifier):
    labels = classifier.predict([TEXT, "Short one.", "A third text here."])
    assert len(labels) == 3
    assert all(type(label) is int and 0 <= label < NUM_LABELS for label in labels)


def test_attention_maps_have_shape_layers_heads_seq_seq(classifier):
    maps = np.asarray(solution.attention_maps(classifier, TEXT))
    seq = len(classifier.tokens(TEXT))
    config = classifier.encoder.config
    assert maps.shape == (config.num_hidden_layers, config.num_attention_heads, seq, seq)


def test_render_attention_returns_png_bytes_and_the_drawn_labels():
    tokens = ["[CLS]", "hello", "world", "[SEP]"]
    heatmap = solution.render_attention(tokens, np.full((4, 4), 0.25))
    assert bytes(heatmap.png).startswith(PNG_SIGNATURE)
    assert list(heatmap.x_labels) == tokens and list(heatmap.y_labels) == tokens


def test_fine_tune_returns_a_classifier(config):
    texts = ["I love this.", "Terrible idea.", "What a day!", "Not again.", "Roses are red.", "Yow!",
             "Computer, n.: a machine.", "Haste makes waste."]
    labels = [0, 1, 2, 3, 0, 1, 2, 3]
    trained = solution.fine_tune(texts, labels, config)
    assert isinstance(trained, solution.TextClassifier)
    assert len(trained.predict(texts)) == len(texts)
