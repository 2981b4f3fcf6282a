"""The assignment's JSON-lines splits: one {"text": ..., "label": ...} object per line."""

from __future__ import annotations

import json
from pathlib import Path


def load_split(path: Path) -> tuple[list[str], list[int]]:
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [record["text"] for record in records], [int(record["label"]) for record in records]


def load_label_names(data_dir: Path) -> list[str]:
    return json.loads((data_dir / "labels.json").read_text(encoding="utf-8"))
