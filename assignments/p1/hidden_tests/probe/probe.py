"""Hidden probe of p1 (runs inside the sandbox, beside the student's code): calls the interface on hidden inputs and
emits what it returns. It decides nothing; the judge compares on the host.

Every step builds what it needs itself, so one broken function fails only the checks that use it.
"""

import random
import tempfile
import time
from pathlib import Path

import numpy
import torch
import torch.nn.functional as F

import grader_probe as gp

# One thread: the step durations (and how much a time budget allows) must not depend on how busy other cores are.
torch.set_num_threads(1)
# Step timeouts only stop a hung step; they are generous because graders often share busy machines (the sandbox's
# own time limit bounds the whole run).
QUICK_STEP_S = 30
SLOW_STEP_S = 60

solution = gp.load_solution()

CORPUS = gp.read_text("corpus.txt")
HELDOUT = gp.read_text("heldout.txt")
VOCABULARY = sorted(set(CORPUS))
ID_OF = {char: index + 1 for index, char in enumerate(VOCABULARY)}  # the handout's id assignment, 0 = unknown
VOCAB_SIZE = len(VOCABULARY) + 1
CORPUS_IDS = [ID_OF[char] for char in CORPUS]
SMALL_BLOCK = 16
TRAINING_STEPS = 400
TRAINING_BUDGET_S = 40.0
SHORT_BUDGET_S = 2.0
TOP_K = 3
TEMPERATURE_SAMPLES = 300
LOW_TEMPERATURE = 0.05


def raw_text(name: str) -> str:
    """The file exactly as stored: CRLF line endings are part of the messy input, not to be translated."""
    return gp.data_path(name).read_bytes().decode("utf-8")


def small_model(dropout: float = 0.0):
    config = solution.GPTConfig(vocab_size=VOCAB_SIZE, block_size=SMALL_BLOCK, n_layer=2, n_head=2, n_embd=32,
                                dropout=dropout)
    return solution.GPT(config)


def default_model():
    return solution.GPT(solution.default_config(VOCAB_SIZE))


def windows(start: int, count: int, length: int) -> torch.Tensor:
    """`count` consecutive slices of the hidden corpus, each `length` ids long."""
    ids = CORPUS_IDS[start:start + count * length]
    return torch.tensor(ids, dtype=torch.long).view(count, length)


def logits_of(model, idx: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        logits, _ = model(idx)
    return logits


def stir_global_rng() -> None:
    """Draw from every global generator, so code that relies on the caller's RNG state stops being reproducible."""
    torch.rand(97)
    random.random()
    numpy.random.rand(3)


def heldout_log_probs(model) -> torch.Tensor:
    """Log-probability the model gives each next character of the held-out text (windows of its block size)."""
    block = min(int(model.config.block_size), 256)
    ids = torch.tensor([ID_OF[char] for char in HELDOUT], dtype=torch.long)
    count = (len(ids) - 1) // block
    x = ids[:count * block].view(count, block)
    y = ids[1:count * block + 1].view(count, block)
    device = next(model.parameters()).device
    model.eval()
    with torch.no_grad():
        logits, _ = model(x.to(device))
    return F.log_softmax(logits.float(), dim=-1).gather(-1, y.to(device).unsqueeze(-1)).squeeze(-1).cpu()


for name in ("unique", "duplicates"):
    with gp.step(f"cleaning_{name}", timeout_s=QUICK_STEP_S) as s:
        s.emit("cleaned", solution.clean_corpus(raw_text("messy_unique.txt" if name == "unique" else "messy.txt")))

for name, text in (("tokenizer", HELDOUT[:3000]), ("tokenizer_unseen", gp.read_text("unseen.txt"))):
    with gp.step(name, timeout_s=QUICK_STEP_S) as s:
        tokenizer = solution.CharTokenizer(CORPUS)
        ids = tokenizer.encode(text)
        s.emit("vocab_size", tokenizer.vocab_size)
        s.emit("ids", list(ids))
        s.emit("decoded", tokenizer.decode(list(ids)))

with gp.step("forward", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    x, y = windows(0, 4, SMALL_BLOCK + 1)[:, :-1], windows(0, 4, SMALL_BLOCK + 1)[:, 1:]
    with torch.no_grad():
        logits, loss = model(x, y)
        logits_alone, no_loss = model(x)
    s.emit("vocab_size", VOCAB_SIZE)
    s.emit_array("logits", logits)
    s.emit_array("targets", y)
    s.emit("loss", float(loss))
    s.emit_array("logits_without_targets", logits_alone)
    s.emit("loss_without_targets_is_none", no_loss is None)

with gp.step("causality", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    changed_after = 6
    original = windows(1000, 1, SMALL_BLOCK)
    changed = original.clone()
    changed[0, changed_after + 1:] = windows(5000, 1, SMALL_BLOCK)[0, changed_after + 1:]
    repeated = torch.full((1, SMALL_BLOCK), ID_OF["e"], dtype=torch.long)
    s.emit("changed_after", changed_after)
    s.emit_array("original", original)
    s.emit_array("changed", changed)
    s.emit_array("logits_original", logits_of(model, original))
    s.emit_array("logits_changed", logits_of(model, changed))
    s.emit_array("logits_repeated", logits_of(model, repeated))

with gp.step("dropout", timeout_s=QUICK_STEP_S) as s:
    model = small_model(dropout=0.5)
    x = windows(2000, 2, SMALL_BLOCK)
    model.eval()
    s.emit_array("eval_first", logits_of(model, x))
    s.emit_array("eval_second", logits_of(model, x))
    model.train()
    s.emit_array("train_first", logits_of(model, x))
    s.emit_array("train_second", logits_of(model, x))

with gp.step("parameters", timeout_s=QUICK_STEP_S) as s:
    model = default_model()
    s.emit("count", sum(int(parameter.numel()) for parameter in model.parameters()))

with gp.step("checkpoint", timeout_s=QUICK_STEP_S) as s:
    tokenizer = solution.CharTokenizer(CORPUS)
    model = small_model()
    with torch.no_grad():  # moved away from any fixed initialisation, so a load that skips the weights shows
        for parameter in model.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    model.eval()
    x = windows(3000, 2, SMALL_BLOCK)
    s.emit_array("logits_saved", logits_of(model, x))
    path = Path(tempfile.mkdtemp()) / "checkpoint.pt"
    solution.save_checkpoint(path, model, tokenizer)
    del model
    stir_global_rng()
    loaded, loaded_tokenizer = solution.load_checkpoint(path)
    loaded.eval()
    s.emit_array("logits_loaded", logits_of(loaded, x))
    s.emit("ids_saved", list(tokenizer.encode(HELDOUT[:500])))
    s.emit("ids_loaded", list(loaded_tokenizer.encode(HELDOUT[:500])))

PROMPT = CORPUS_IDS[200:205]

with gp.step("generation_length", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    s.emit("prompt", PROMPT)
    s.emit("max_new_tokens", 3 * SMALL_BLOCK)
    s.emit("generated", list(solution.generate(model, PROMPT, 3 * SMALL_BLOCK, temperature=1.0, seed=11)))

with gp.step("generation_greedy", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    first = list(solution.generate(model, PROMPT, SMALL_BLOCK - len(PROMPT), temperature=0.0, seed=1))
    stir_global_rng()
    second = list(solution.generate(model, PROMPT, SMALL_BLOCK - len(PROMPT), temperature=0.0, seed=2))
    s.emit("prompt", PROMPT)
    s.emit("first", first)
    s.emit("second", second)
    s.emit_array("logits", logits_of(model, torch.tensor([first[:-1]], dtype=torch.long))[0])

with gp.step("generation_top_k", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    outputs = [list(solution.generate(model, PROMPT, SMALL_BLOCK - len(PROMPT), temperature=2.0, top_k=TOP_K,
                                      seed=seed)) for seed in range(20)]
    s.emit("prompt", PROMPT)
    s.emit("top_k", TOP_K)
    s.emit("outputs", outputs)
    s.emit_array("logits", logits_of(model, torch.tensor([output[:-1] for output in outputs], dtype=torch.long)))

with gp.step("generation_seed", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    s.emit("first", list(solution.generate(model, PROMPT, 30, temperature=1.0, seed=21)))
    stir_global_rng()
    s.emit("second", list(solution.generate(model, PROMPT, 30, temperature=1.0, seed=21)))
    s.emit("other_seed", list(solution.generate(model, PROMPT, 30, temperature=1.0, seed=22)))

with gp.step("generation_temperature", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    s.emit("temperature", LOW_TEMPERATURE)
    s.emit_array("next_logits", logits_of(model, torch.tensor([PROMPT], dtype=torch.long))[0, -1])
    s.emit("samples", [list(solution.generate(model, PROMPT, 1, temperature=LOW_TEMPERATURE, seed=seed))[-1]
                       for seed in range(TEMPERATURE_SAMPLES)])

with gp.step("training_steps", timeout_s=SLOW_STEP_S) as s:
    losses = solution.train(default_model(), CORPUS_IDS, max_steps=5, time_budget_s=60.0, seed=3)
    s.emit("losses", [float(loss) for loss in losses])

with gp.step("training_seed", timeout_s=SLOW_STEP_S) as s:
    initial = {key: value.clone() for key, value in default_model().state_dict().items()}
    runs = {}
    for label, seed in (("first", 5), ("second", 5), ("other_seed", 6)):
        stir_global_rng()
        model = default_model()
        model.load_state_dict(initial)
        runs[label] = [float(loss) for loss in solution.train(model, CORPUS_IDS, max_steps=4, time_budget_s=60.0,
                                                              seed=seed)]
    for label, losses in runs.items():
        s.emit(label, losses)

with gp.step("training_time", timeout_s=QUICK_STEP_S) as s:
    model = default_model()
    started = time.perf_counter()
    losses = solution.train(model, CORPUS_IDS, max_steps=10**9, time_budget_s=SHORT_BUDGET_S, seed=3)
    s.emit("elapsed_s", time.perf_counter() - started)
    s.emit("budget_s", SHORT_BUDGET_S)
    s.emit("steps", len(losses))

with gp.step("training", timeout_s=TRAINING_BUDGET_S + SLOW_STEP_S) as s:
    model = default_model()
    s.emit_array("log_probs_before", heldout_log_probs(model))
    started = time.perf_counter()
    losses = solution.train(model, CORPUS_IDS, max_steps=TRAINING_STEPS, time_budget_s=TRAINING_BUDGET_S,
                            seed=gp.SEED, device=gp.device())
    s.emit("elapsed_s", time.perf_counter() - started)
    s.emit("steps", len(losses))
    s.emit("max_steps", TRAINING_STEPS)
    s.emit_array("log_probs_after", heldout_log_probs(model))

gp.done()
