"""p1's handout: the public tests pass on the reference and fail on the starter; the handout never carries hidden
inputs, expected values or thresholds."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENT = REPO / "assignments" / "p1"
REFERENCE = REPO / "reference_solutions" / "p1"


def test_handout_states_the_loss_threshold_and_never_mentions_hidden_files():
    judge = "\n".join(path.read_text(encoding="utf-8") for path in (ASSIGNMENT / "hidden_tests" / "judge").glob("*.py"))
    threshold = re.search(r"^HELDOUT_LOSS_MAX = ([0-9.]+)", judge, flags=re.MULTILINE).group(1)
    visible = [
        ASSIGNMENT / "README.md",
        *sorted((ASSIGNMENT / "starter").rglob("*.py")),
        *sorted((ASSIGNMENT / "public_tests").rglob("*.py")),
    ]
    text = "\n".join(path.read_text(encoding="utf-8") for path in visible)
    assert f"**{threshold}**" in text  # the bar a student is graded against is printed (issue 18)
    for hidden_name in (
        "heldout.txt",
        "messy_unique.txt",
        "unseen.txt",
        "expected.json",
        "Proverbs",
        "Ecclesiastes",
        "Song of Solomon",
        "Ruth",
    ):
        assert hidden_name not in text
