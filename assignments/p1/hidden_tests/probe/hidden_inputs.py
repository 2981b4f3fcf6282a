"""What every step of p1's probe shares: the hidden corpus with the handout's id assignment, the small block the
steps' models use, windows of the corpus, and the steps' time limits."""

import grader_probe as gp
import torch

# Step timeouts only stop a hung step; they are generous because graders often share busy machines (the sandbox's
# own time limit bounds the whole run).
QUICK_STEP_S = 30
SLOW_STEP_S = 60

CORPUS = gp.read_text("corpus.txt")
HELDOUT = gp.read_text("heldout.txt")
VOCABULARY = sorted(set(CORPUS))
ID_OF = {char: index + 1 for index, char in enumerate(VOCABULARY)}  # the handout's id assignment, 0 = unknown
VOCAB_SIZE = len(VOCABULARY) + 1
CORPUS_IDS = [ID_OF[char] for char in CORPUS]
SMALL_BLOCK = 16


def raw_text(name: str) -> str:
    """The file exactly as stored: CRLF line endings are part of the messy input, not to be translated."""
    return gp.data_path(name).read_bytes().decode("utf-8")


def windows(start: int, count: int, length: int) -> torch.Tensor:
    """`count` consecutive slices of the hidden corpus, each `length` ids long (a fresh, contiguous tensor)."""
    ids = CORPUS_IDS[start : start + count * length]
    return torch.tensor(ids, dtype=torch.long).view(count, length)
