"""Project 2 reference: fine-tune a pretrained encoder for genre classification and look at its attention.

The interface the handout fixes is re-exported here; each idea lives in its own module beside this one.
Run a longer training (on a GPU if there is one):
    python solution.py --data-dir ../../assignments/p2/data --device auto --epochs 4 --frozen-layers 0 --max-length 128
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the modules beside this file, however it is loaded

from attention import attention_maps  # noqa: E402
from classifier import TextClassifier, load_pretrained  # noqa: E402
from config import DEFAULT_MODEL, FineTuneConfig  # noqa: E402
from data import load_label_names, load_split  # noqa: E402
from heatmap import Heatmap, render_attention  # noqa: E402
from train import fine_tune  # noqa: E402

__all__ = ["DEFAULT_MODEL", "FineTuneConfig", "Heatmap", "TextClassifier", "attention_maps", "fine_tune",
           "load_pretrained", "render_attention"]


def main() -> None:
    parser = argparse.ArgumentParser(description="Fine-tune, report validation accuracy, draw one attention map.")
    parser.add_argument("--data-dir", type=Path, required=True, help="folder with train.jsonl, validation.jsonl")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="local folder or Hugging Face id of the encoder")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=48)
    parser.add_argument("--frozen-layers", type=int, default=3)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--time-budget-s", type=float, default=600.0)
    parser.add_argument("--heatmap", type=Path, default=Path("attention.png"))
    arguments = parser.parse_args()

    label_names = load_label_names(arguments.data_dir)
    train_texts, train_labels = load_split(arguments.data_dir / "train.jsonl")
    validation_texts, validation_labels = load_split(arguments.data_dir / "validation.jsonl")
    config = FineTuneConfig(num_labels=len(label_names), model_name=arguments.model, device=arguments.device,
                            epochs=arguments.epochs, max_length=arguments.max_length,
                            frozen_layers=arguments.frozen_layers, learning_rate=arguments.learning_rate,
                            time_budget_s=arguments.time_budget_s)
    classifier = fine_tune(train_texts, train_labels, config)
    predictions = classifier.predict(validation_texts)
    correct = sum(int(p == y) for p, y in zip(predictions, validation_labels))
    print(f"validation accuracy {correct / len(validation_labels):.3f} on {classifier.device}")

    text = validation_texts[0]
    last_layer = attention_maps(classifier, text)[-1].mean(axis=0)
    heatmap = render_attention(classifier.tokens(text), last_layer, title="last layer, mean over heads")
    arguments.heatmap.write_bytes(heatmap.png)
    print(f"attention heatmap of {text!r} written to {arguments.heatmap}")


if __name__ == "__main__":
    main()
