"""python -m minisent REVIEWS_FILE [--device auto]: one '<label>\\t<confidence>\\t<review>' line per review."""

from __future__ import annotations

import argparse
from pathlib import Path

from minisent.classifier import CentroidClassifier, Prediction, read_examples
from minisent.embedding import Embedder


def read_reviews(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def format_prediction(prediction: Prediction) -> str:
    return f"{prediction.label}\t{prediction.confidence:.2f}\t{prediction.text}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="minisent", description="Label each line of a file positive or negative.")
    parser.add_argument("reviews", type=Path, help="a text file, one review per line")
    parser.add_argument("--device", default="auto", help="auto (CUDA when present, else CPU), cpu or cuda")
    args = parser.parse_args(argv)
    classifier = CentroidClassifier(Embedder(args.device), read_examples())
    for prediction in classifier.predict(read_reviews(args.reviews)):
        print(format_prediction(prediction))


if __name__ == "__main__":
    main()
