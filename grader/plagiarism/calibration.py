"""The calibrated combination of channel scores: a logistic regression fitted on the labelled dev set (bench/plagiarism)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

DEFAULT_PATH = Path(__file__).with_name("calibration.json")


def calibration_features(channels: dict[str, float], relative: dict[str, float]) -> dict[str, float]:
    """What the calibration weighs: the raw channels, how far each stands out for this pair on a log scale, and how
    much of the authors' own naming both texts kept.

    A pair 10 standard deviations above its partners is not ten times the evidence of one at 1: in a small or flat
    neighbourhood the spread is tiny and the deviations grow without bound. Taken linearly, they lifted textbook twins
    (raw channels 0.3-0.6) above exact copies; log1p keeps their order and damps the extremes.

    kept_names is the lesser of the literal token runs and the rare identifiers shared. Code copied and then
    restructured keeps both its author's names and, between the edits, their order; two solutions of one textbook
    recipe share some of the recipe's names or some of its runs, seldom much of both.
    """
    kept_names = (
        {"kept_names": min(channels["literal_token"], channels["identifiers"])}
        if {"literal_token", "identifiers"} <= channels.keys()
        else {}
    )
    return {
        **channels,
        **kept_names,
        **{f"{name}_relative": math.copysign(math.log1p(abs(value)), value) for name, value in relative.items()},
    }


@dataclass(frozen=True)
class Calibration:
    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    fitted_on: str
    # Fitted on the raw channels alone. It scores the pairs that lack the cohort-relative features (too few partners to
    # compare with), and it is a floor for every other pair: what the channels alone condemn, a neighbourhood of
    # similar pairs must not excuse (a group of students sharing one solution would otherwise hide each other).
    fallback: Calibration | None = None
    # The score from which a pair is flagged (the outermost model's counts): the one that 1 % of the dev set's
    # independent pairs reach, cross-validated. The largest of several models is no probability, so 0.5 means little.
    flag_threshold: float = 0.5

    def _probability(self, features: dict[str, float]) -> float:
        logit = self.bias + sum(weight * features[name] for name, weight in zip(self.features, self.weights))
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, logit))))

    def _model_for(self, features: dict[str, float]) -> Calibration:
        """The model whose probability is the score: this one, or the fallback where it is higher or this one's
        features are missing."""
        if self.fallback is None:
            return self
        fallback = self.fallback._model_for(features)
        if any(name not in features for name in self.features):
            return fallback
        return self if self._probability(features) >= fallback._probability(features) else fallback

    def contributions(self, features: dict[str, float]) -> dict[str, float]:
        model = self._model_for(features)
        return {name: weight * features[name] for name, weight in zip(model.features, model.weights)}

    def score(self, features: dict[str, float]) -> float:
        return self._model_for(features)._probability(features)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


def _from_record(data: dict) -> Calibration:
    fallback = _from_record(data["fallback"]) if data.get("fallback") else None
    return Calibration(
        tuple(data["features"]),
        tuple(float(w) for w in data["weights"]),
        float(data["bias"]),
        data["fitted_on"],
        fallback,
        float(data.get("flag_threshold", 0.5)),
    )


def load_calibration(path: Path = DEFAULT_PATH) -> Calibration:
    return _from_record(json.loads(path.read_text()))
