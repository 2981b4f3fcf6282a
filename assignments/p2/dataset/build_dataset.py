"""Build the p2 genre-classification splits from Debian's `fortunes` files, deterministically.

Each fortune file of the `fortunes` package is one category; a fortune's label is the file it comes from.
Run (needs `apt-get install fortunes`):  python assignments/p2/dataset/build_dataset.py
Writes the public train/validation splits into assignments/p2/data/, the hidden split's texts into
hidden_tests/probe/data/ and its labels into hidden_tests/judge/ (the probe never sees labels).

The validation and hidden texts are dealt so that the validation score predicts the hidden one: per label, the
texts left after the training split are ranked by how sure the frozen-embedding baseline (baseline.py) is of their
label, and of each three neighbours in that order one goes to validation, the other two to hidden. Which one
rotates from group to group (always the middle one would give validation fewer of the hardest and easiest texts, and
the fine-tuned reference a validation score 0.07 above its hidden one); the rotation's offset is the one of the three
under which the reference's validation and hidden scores also agree (two seeds; bench/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path

import baseline

FORTUNES_DIR = Path("/usr/share/games/fortunes")
ASSIGNMENT_DIR = Path(__file__).resolve().parent.parent
# (label name, fortune file): genres a reader tells apart by form and voice more than by topic.
CATEGORIES = [("definition", "definitions"), ("zippy", "zippy"), ("song_or_poem", "songs-poems"),
              ("platitude", "platitudes")]
TRAIN_PER_LABEL = 100
HELD_PER_LABEL = 120  # dealt one in three to validation (40 per label), the rest to the hidden split (80)
MIN_CHARS, MAX_CHARS = 30, 300
SEED = 20260501


@dataclass(frozen=True)
class Example:
    text: str
    label: int


def clean(fortune: str) -> str:
    """Attribution lines ("-- Author") are dropped: the label must come from the text, not from a name."""
    lines = [line for line in fortune.split("\n") if not line.strip().startswith("--")]
    return " ".join(" ".join(lines).split())


def read_fortunes(path: Path) -> list[str]:
    raw = path.read_text(encoding="utf-8", errors="replace")
    return sorted({text for text in map(clean, raw.split("\n%\n")) if MIN_CHARS <= len(text) <= MAX_CHARS})


def deal_validation_and_hidden(train: list[Example], held: list[Example]) -> tuple[list[Example], list[Example]]:
    """Per label, `held` ranked by the baseline's probability of the true label; one of each three neighbours
    (in rotation) goes to validation, the others to the hidden split: equally hard for the baseline."""
    regression = baseline.fit([example.text for example in train], [example.label for example in train])
    probabilities = regression.predict_proba(baseline.embed([example.text for example in held]))
    sureness = {example: float(row[example.label]) for example, row in zip(held, probabilities)}
    validation, hidden = [], []
    for label in sorted({example.label for example in held}):
        ranked = sorted((example for example in held if example.label == label),
                        key=lambda example: (sureness[example], example.text))
        for start in range(0, len(ranked), 3):
            group = ranked[start:start + 3]
            chosen = group[(start // 3 + 1) % len(group)]
            validation.append(chosen)
            hidden.extend(example for example in group if example is not chosen)
    return validation, hidden


def split_examples(fortunes_dir: Path) -> dict[str, list[Example]]:
    """Disjoint train/validation/hidden splits, balanced per label; a text seen in two files is dropped."""
    per_label = [read_fortunes(fortunes_dir / filename) for _name, filename in CATEGORIES]
    seen_in: dict[str, int] = {}
    for texts in per_label:
        for text in texts:
            seen_in[text] = seen_in.get(text, 0) + 1
    rng = random.Random(SEED)
    train: list[Example] = []
    held: list[Example] = []
    for label, texts in enumerate(per_label):
        unique = [text for text in texts if seen_in[text] == 1]
        rng.shuffle(unique)
        if len(unique) < TRAIN_PER_LABEL + HELD_PER_LABEL:
            raise ValueError(f"{CATEGORIES[label][1]} has only {len(unique)} usable fortunes")
        train.extend(Example(text, label) for text in unique[:TRAIN_PER_LABEL])
        held.extend(Example(text, label) for text in unique[TRAIN_PER_LABEL:TRAIN_PER_LABEL + HELD_PER_LABEL])
    validation, hidden = deal_validation_and_hidden(train, held)
    splits = {"train": train, "validation": validation, "hidden": hidden}
    for examples in splits.values():
        rng.shuffle(examples)
    return splits


def write_jsonl(path: Path, examples: list[Example]) -> None:
    lines = [json.dumps({"text": example.text, "label": example.label}, ensure_ascii=False) for example in examples]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def build(fortunes_dir: Path, assignment_dir: Path) -> None:
    splits = split_examples(fortunes_dir)
    data_dir = assignment_dir / "data"
    probe_dir = assignment_dir / "hidden_tests" / "probe" / "data"
    judge_dir = assignment_dir / "hidden_tests" / "judge"
    for folder in (data_dir, probe_dir, judge_dir):
        folder.mkdir(parents=True, exist_ok=True)
    write_json(data_dir / "labels.json", [name for name, _filename in CATEGORIES])
    write_jsonl(data_dir / "train.jsonl", splits["train"])
    write_jsonl(data_dir / "validation.jsonl", splits["validation"])
    write_jsonl(probe_dir / "train.jsonl", splits["train"])  # the probe fine-tunes on the public training split
    write_json(probe_dir / "hidden_texts.json", [example.text for example in splits["hidden"]])
    write_json(judge_dir / "hidden_labels.json", [example.label for example in splits["hidden"]])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fortunes-dir", type=Path, default=FORTUNES_DIR)
    parser.add_argument("--assignment-dir", type=Path, default=ASSIGNMENT_DIR)
    arguments = parser.parse_args()
    build(arguments.fortunes_dir, arguments.assignment_dir)


if __name__ == "__main__":
    main()
