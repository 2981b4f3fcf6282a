from pathlib import Path

import numpy as np

from minisent.__main__ import format_prediction, read_reviews
from minisent.classifier import read_examples

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "reviews.txt"


def test_embeddings_are_unit_length_and_384_wide(embedder):
    vectors = embedder.embed(["a sentence", "another one"])
    assert vectors.shape == (2, 384)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_seed_examples_are_balanced():
    labels = [label for label, _ in read_examples()]
    assert labels.count("positive") == labels.count("negative") > 0


def test_clear_reviews_get_the_right_label(classifier):
    predictions = classifier.predict(["This is the best purchase I have made all year.",
                                      "Complete rubbish, it stopped working on day two."])
    assert [p.label for p in predictions] == ["positive", "negative"]
    assert all(0.5 < p.confidence <= 1.0 for p in predictions)


def test_example_reviews_get_labelled_lines(classifier):
    lines = [format_prediction(p) for p in classifier.predict(read_reviews(EXAMPLES))]
    assert [line.split("\t")[0] for line in lines] == ["positive", "negative", "positive", "negative"]
    assert all(line.split("\t")[2] for line in lines)
