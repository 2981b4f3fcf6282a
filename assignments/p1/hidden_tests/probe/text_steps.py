"""p1's probe steps of the text pipeline: clean_corpus on three messy corpora, CharTokenizer on held-out and unseen
text."""

import grader_probe as gp
from hidden_inputs import CORPUS, HELDOUT, QUICK_STEP_S, raw_text


def cleaning_steps(solution) -> None:
    for name, file in (("unique", "messy_unique.txt"), ("duplicates", "messy.txt"), ("edges", "messy_edges.txt")):
        with gp.step(f"cleaning_{name}", timeout_s=QUICK_STEP_S) as s:
            s.emit("cleaned", solution.clean_corpus(raw_text(file)))


def tokenizer_steps(solution) -> None:
    for name, text in (("tokenizer", HELDOUT[:3000]), ("tokenizer_unseen", gp.read_text("unseen.txt"))):
        with gp.step(name, timeout_s=QUICK_STEP_S) as s:
            tokenizer = solution.CharTokenizer(CORPUS)
            ids = tokenizer.encode(text)
            s.emit("vocab_size", gp.fetch(tokenizer.vocab_size))
            s.emit("ids", ids)
            s.emit("decoded", tokenizer.decode(ids))


def run(solution) -> None:
    for step in (cleaning_steps, tokenizer_steps):
        step(solution)
