import pytest

from minisent.classifier import CentroidClassifier, read_examples
from minisent.embedding import Embedder


@pytest.fixture(scope="session")
def embedder():
    return Embedder(device="cpu")


@pytest.fixture(scope="session")
def classifier(embedder):
    return CentroidClassifier(embedder, read_examples())
