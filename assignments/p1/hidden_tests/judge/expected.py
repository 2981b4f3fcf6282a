"""What several of p1's hidden checks share: the expected values (expected.json), the vocabulary of the hidden
corpus, the hidden inputs' folder and the tolerances of comparing the driver's numbers."""

import json
from pathlib import Path

import numpy as np

EXPECTED = json.loads((Path(__file__).parent / "expected.json").read_text(encoding="utf-8"))
# The probe's hidden inputs: the judge reads them to know what the right output for them is.
PROBE_DATA = Path(__file__).resolve().parents[1] / "probe" / "data"
VOCABULARY: str = EXPECTED["vocabulary"]
LOSS_TOLERANCE = 1e-4
SAME_LOGITS = 1e-5
DIFFERENT_LOGITS = 1e-4


def same_logits(first: np.ndarray, second: np.ndarray) -> bool:
    """Two arrays of logits with one shape that agree within SAME_LOGITS everywhere."""
    return first.shape == second.shape and np.abs(first - second).max() <= SAME_LOGITS
