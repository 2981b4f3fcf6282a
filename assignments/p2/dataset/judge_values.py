"""Values the p2 judge compares against, computed once from the frozen pretrained all-MiniLM-L6-v2.

* the frozen-embedding baseline (baseline.py: texts cut at 48 tokens as the students' are), fitted on the public
  training split: its accuracy on the validation and on the hidden split;
* the pretrained encoder's last hidden state and tokens for the probe's encoder text (is the student's encoder
  the pretrained one, and did fine-tuning move it?).
Run after build_dataset.py:  python assignments/p2/dataset/judge_values.py
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModel, AutoTokenizer

import baseline
from baseline import MAX_LENGTH, MODEL_DIR

ASSIGNMENT_DIR = Path(__file__).resolve().parent.parent


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def baseline_accuracies(train: list[dict], validation: list[dict], hidden_texts: list[str],
                        hidden_labels: list[int]) -> dict[str, float]:
    regression = baseline.fit([record["text"] for record in train], [record["label"] for record in train])
    return {"validation": float(regression.score(baseline.embed([record["text"] for record in validation]),
                                                 [record["label"] for record in validation])),
            "hidden": float(regression.score(baseline.embed(hidden_texts), hidden_labels))}


@torch.no_grad()
def pretrained_observation(text: str) -> tuple[np.ndarray, list[str]]:
    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
    encoder = AutoModel.from_pretrained(MODEL_DIR, attn_implementation="eager").eval()
    batch = tokenizer(text, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    hidden = encoder(**batch).last_hidden_state[0].numpy()
    return hidden, tokenizer.convert_ids_to_tokens(batch["input_ids"][0].tolist())


def main() -> None:
    probe_data = ASSIGNMENT_DIR / "hidden_tests" / "probe" / "data"
    judge_dir = ASSIGNMENT_DIR / "hidden_tests" / "judge"
    hidden_texts = json.loads((probe_data / "hidden_texts.json").read_text(encoding="utf-8"))
    hidden_labels = json.loads((judge_dir / "hidden_labels.json").read_text(encoding="utf-8"))
    probe_texts = json.loads((probe_data / "probe_texts.json").read_text(encoding="utf-8"))
    accuracies = baseline_accuracies(read_jsonl(probe_data / "train.jsonl"),
                                     read_jsonl(ASSIGNMENT_DIR / "data" / "validation.jsonl"), hidden_texts, hidden_labels)
    hidden, tokens = pretrained_observation(probe_texts["encoder_text"])
    _attention_hidden, attention_tokens = pretrained_observation(probe_texts["attention_text"])
    np.save(judge_dir / "pretrained_hidden.npy", hidden.astype(np.float32))
    values = {"baseline_accuracy": accuracies["hidden"], "baseline_validation_accuracy": accuracies["validation"],
              "encoder_tokens": tokens, "attention_tokens": attention_tokens}
    (judge_dir / "frozen_values.json").write_text(json.dumps(values, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(values))


if __name__ == "__main__":
    main()
