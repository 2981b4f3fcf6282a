"""Interface checks on public data. Passing them does not mean full marks: the hidden tests use other texts and
check the behaviour more closely (see README.md, "How you are graded")."""

import math
import os

import torch

import solution

TEXT = "In the beginning God created the heaven and the earth.\n"


def read(data_dir: str, name: str) -> str:
    with open(os.path.join(data_dir, name), encoding="utf-8", newline="") as handle:
        return handle.read()


def small_model(vocab_size: int, dropout: float = 0.0) -> solution.GPT:
    return solution.GPT(solution.GPTConfig(vocab_size=vocab_size, block_size=16, n_layer=2, n_head=2, n_embd=32,
                                           dropout=dropout))


def test_clean_corpus_matches_the_public_example(data_dir):
    assert solution.clean_corpus(read(data_dir, "messy_sample.txt")) == read(data_dir, "messy_sample_cleaned.txt")


def test_clean_corpus_of_nothing_is_empty():
    assert solution.clean_corpus(" \n\t\n") == ""


def test_tokenizer_round_trip_and_unknown_characters():
    tokenizer = solution.CharTokenizer(TEXT)
    assert tokenizer.vocab_size == len(set(TEXT)) + 1
    ids = tokenizer.encode(TEXT)
    assert len(ids) == len(TEXT) and tokenizer.decode(ids) == TEXT
    assert tokenizer.encode("I") == [sorted(set(TEXT)).index("I") + 1]
    assert tokenizer.encode("Z€") == [0, 0]
    assert tokenizer.decode([0]) == "\ufffd"


def test_forward_returns_logits_and_loss():
    model = small_model(20)
    idx = torch.randint(20, (3, 16))
    logits, loss = model(idx, idx)
    assert logits.shape == (3, 16, 20)
    assert loss.shape == () and math.isfinite(loss.item())
    assert model(idx)[1] is None


def test_default_config_is_within_the_parameter_limit():
    model = solution.GPT(solution.default_config(65))
    assert sum(parameter.numel() for parameter in model.parameters()) <= 250_000


def test_train_returns_one_loss_per_step(data_dir):
    tokenizer = solution.CharTokenizer(read(data_dir, "public_corpus.txt"))
    data = tokenizer.encode(read(data_dir, "public_corpus.txt")[:20_000])
    model = small_model(tokenizer.vocab_size)
    losses = solution.train(model, data, max_steps=3, time_budget_s=60, seed=0)
    assert len(losses) == 3 and all(type(loss) is float for loss in losses)


def test_generate_returns_prompt_and_new_tokens():
    model = small_model(20)
    output = solution.generate(model, [1, 2, 3], 30, temperature=1.0, top_k=5, seed=0)
    assert len(output) == 33 and output[:3] == [1, 2, 3]
    assert all(0 <= index < 20 for index in output)
    assert solution.generate(model, [1, 2, 3], 5, temperature=0) == solution.generate(model, [1, 2, 3], 5, temperature=0)


def test_checkpoint_round_trip(tmp_path):
    tokenizer = solution.CharTokenizer(TEXT)
    model = small_model(tokenizer.vocab_size)
    model.eval()
    idx = torch.tensor([tokenizer.encode(TEXT[:16])])
    solution.save_checkpoint(tmp_path / "model.pt", model, tokenizer)
    loaded, loaded_tokenizer = solution.load_checkpoint(tmp_path / "model.pt")
    assert torch.equal(loaded(idx)[0], model(idx)[0])
    assert loaded_tokenizer.encode(TEXT) == tokenizer.encode(TEXT)
