"""The calibrated combination of channel scores: a logistic regression fitted on the labelled dev set (bench/plagiarism)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).with_name("calibration.json")


@dataclass(frozen=True)
class Calibration:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    fitted_on: str

    def contributions(self, channels: dict[str, float]) -> dict[str, float]:
        return {name: weight * channels[name] for name, weight in zip(self.features, self.weights)}

    def score(self, channels: dict[str, float]) -> float:
        logit = self.bias + sum(self.contributions(channels).values())
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


def load_calibration(path: Path = DEFAULT_PATH) -> Calibration:
    data = json.loads(path.read_text())
    return Calibration(tuple(data["features"]), tuple(float(w) for w in data["weights"]), float(data["bias"]), data["fitted_on"])
