"""Hidden probe of p1. It runs in the sandbox's trusted driver, never in the student's process: `solution` and every
model built from it are remote objects, called over the grader's channel. The probe chooses every input, times every
call with its own clock, and computes what is verified (held-out log-probabilities, parameter counts, weight changes)
from raw outputs; it decides nothing, the judge compares on the host.

Every step builds what it needs itself, so one broken function fails only the checks that use it.
"""

import math
import time

import grader_probe as gp
import numpy
import torch
import torch.nn.functional as F

# One thread, here and in the student's process: step durations, and how much a time budget allows, must not depend
# on how busy other cores are (the handout promises one CPU thread).
torch.set_num_threads(1)
# Step timeouts only stop a hung step; they are generous because graders often share busy machines (the sandbox's
# own time limit bounds the whole run).
QUICK_STEP_S = 30
SLOW_STEP_S = 60

gp.use_torch_threads(1)
solution = gp.load_solution()

CORPUS = gp.read_text("corpus.txt")
HELDOUT = gp.read_text("heldout.txt")
VOCABULARY = sorted(set(CORPUS))
ID_OF = {char: index + 1 for index, char in enumerate(VOCABULARY)}  # the handout's id assignment, 0 = unknown
VOCAB_SIZE = len(VOCABULARY) + 1
CORPUS_IDS = [ID_OF[char] for char in CORPUS]
SMALL_BLOCK = 16
TRAINING_STEPS = 400
TRAINING_BUDGET_S = gp.budget("training")  # assignment.yaml's, for the device this run got
SHORT_BUDGET_S = 2.0
TOP_K = 3
CONFIG_DEFAULT_FIELDS = ("block_size", "n_layer", "n_head", "n_embd", "dropout")
# Draws per sampling distribution, one generate call each: the judge's false-failure bound holds for any number, more
# draws catch smaller departures.
SAMPLING_DRAWS = 600
SAMPLING_CONTEXTS = 32
# The driver picks each test's temperature so that the most likely token gets this probability (among the top k for
# the top-k test): spread enough that every count says something, and far from temperature 1 on these weights.
TEMPERATURE_TOP_MASS = 0.35
TOP_K_TOP_MASS = 0.6
# Dropout rates whose effect any architecture shows: none at 0, and at 1e-6 passes that drop nothing (the judge's
# dropout_follows_config says how rare a pass that drops something is).
DROPOUT_RATES = {"off": 0.0, "rare": 1e-6}
DROPOUT_PASSES = 10
# train's windows, read from its losses (the judge's window_statistics): learning rate 0 on a stream whose halves are
# two tokens, long enough that windows straddling the middle are rare.
WINDOW_HALF = 2**16
# Few large batches: a step's fixed cost dominates on this small model, the bound counts windows (steps * batch).
WINDOW_STEPS = 80
WINDOW_BATCH = 64
WINDOW_TOKEN_PAIRS = tuple((token, token + 1) for token in range(1, 17, 2))


def raw_text(name: str) -> str:
    """The file exactly as stored: CRLF line endings are part of the messy input, not to be translated."""
    return gp.data_path(name).read_bytes().decode("utf-8")


def small_model(dropout: float = 0.0, n_layer: int = 2):
    config = solution.GPTConfig(
        vocab_size=VOCAB_SIZE, block_size=SMALL_BLOCK, n_layer=n_layer, n_head=2, n_embd=32, dropout=dropout
    )
    return solution.GPT(config)


def default_model():
    return solution.GPT(solution.default_config(VOCAB_SIZE))


def windows(start: int, count: int, length: int) -> torch.Tensor:
    """`count` consecutive slices of the hidden corpus, each `length` ids long (a fresh, contiguous tensor)."""
    ids = CORPUS_IDS[start : start + count * length]
    return torch.tensor(ids, dtype=torch.long).view(count, length)


def tensor_of(value, what: str) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{what} must be a torch tensor, got {type(value).__name__}")
    return value


def forward(model, idx: torch.Tensor, targets: torch.Tensor | None = None):
    """One inference pass in the student's process: (logits tensor, loss) back, nothing else."""
    output = gp.without_grad(model)(idx) if targets is None else gp.without_grad(model)(idx, targets)
    if type(output) is not tuple or len(output) != 2:
        raise TypeError("forward must return a tuple (logits, loss)")
    return tensor_of(output[0], "logits").float(), output[1]


def logits_of(model, idx: torch.Tensor) -> torch.Tensor:
    return forward(model, idx)[0]


def loss_value(loss) -> tuple[float, str]:
    """The student's loss as a number, and what it was (a one-element tensor or a Python float)."""
    if isinstance(loss, torch.Tensor) and loss.numel() == 1:
        return float(loss.reshape(())), "tensor"
    if type(loss) is float:
        return loss, "float"
    raise TypeError(f"the loss must be a tensor holding one number, got {type(loss).__name__}")


def loss_numbers(returned) -> list[float]:
    """train's losses as numbers, floats or one-element tensors (the type the handout asks for is checked apart)."""
    if type(returned) is not list:
        raise TypeError(f"train must return a list of losses, got {type(returned).__name__}")
    return [loss_value(loss)[0] for loss in returned]


def ids_list(returned) -> list[int]:
    if type(returned) is not list or not all(type(index) is int for index in returned):
        raise TypeError("generate must return a list of int ids")
    return returned


def with_new_weights(model, noise: float, keep: float = 1.0) -> None:
    """Set every parameter (not buffers, such as a causal mask) to keep * itself + noise * N(0, 1), in place."""
    state = model.state_dict()
    if type(state) is not dict:
        raise TypeError("state_dict() must return a dict of tensors")
    names = {pair[0] for pair in gp.as_list(model.named_parameters()) if type(pair) is tuple and len(pair) == 2}
    generator = torch.Generator().manual_seed(gp.SEED)
    model.load_state_dict(
        {
            key: keep * value + torch.randn(value.shape, generator=generator) * noise if key in names else value
            for key, value in ((key, tensor_of(value, "a state_dict entry")) for key, value in state.items())
        }
    )


def weights_of(model) -> list[numpy.ndarray]:
    return [
        tensor_of(parameter, "a parameter").detach().float().numpy().copy()
        for parameter in gp.as_list(model.parameters())
    ]


def weights_changed(before: list[numpy.ndarray], after: list[numpy.ndarray]) -> bool:
    return len(before) != len(after) or any(
        a.shape != b.shape or not numpy.array_equal(a, b) for a, b in zip(before, after)
    )


def sampling_context(model) -> tuple[list[int], numpy.ndarray]:
    """Of SAMPLING_CONTEXTS windows of the corpus, the one where the k-th and (k+1)-th largest next-token logits are
    farthest apart (which tokens are the top k is then no near tie), and its next-token logits, computed here."""
    contexts = windows(4000, SAMPLING_CONTEXTS, SMALL_BLOCK)
    last = logits_of(model, contexts)[:, -1].double().numpy()
    ranked = -numpy.sort(-last, axis=1)
    best = int(numpy.argmax(ranked[:, TOP_K - 1] - ranked[:, TOP_K]))
    return contexts[best].tolist(), last[best]


def temperature_for(logits: numpy.ndarray, top_mass: float, top_k: int | None = None) -> float:
    """The temperature at which the most likely token has probability `top_mass` (among the top k when given),
    found by bisection on log T; that probability falls as T rises."""
    kept = numpy.sort(logits)[::-1][:top_k] if top_k else logits
    low, high = math.log(1e-4), math.log(1e4)
    for _ in range(60):
        middle = (low + high) / 2
        weights = numpy.exp((kept - kept.max()) / math.exp(middle))
        low, high = (middle, high) if 1 / weights.sum() > top_mass else (low, middle)
    return math.exp((low + high) / 2)


def sampled_tokens(model, context: list[int], temperature: float, top_k: int | None) -> list[int]:
    """SAMPLING_DRAWS next tokens after `context`, one generate call per seed."""
    return [
        ids_list(solution.generate(model, context, 1, temperature=temperature, top_k=top_k, seed=seed))[-1]
        for seed in range(SAMPLING_DRAWS)
    ]


def window_losses(model, stream: torch.Tensor, starts: list[int]) -> list[float]:
    """The driver's own mean cross-entropy of each window of SMALL_BLOCK inputs (and next ids) at `starts`."""
    x = torch.stack([stream[start : start + SMALL_BLOCK] for start in starts])
    y = torch.stack([stream[start + 1 : start + SMALL_BLOCK + 1] for start in starts])
    logits = logits_of(model, x).double()
    return F.cross_entropy(logits.transpose(1, 2), y, reduction="none").mean(dim=1).tolist()


def two_halves(model) -> tuple[torch.Tensor, list[float]]:
    """Of WINDOW_TOKEN_PAIRS, the stream (first token, then second) whose first-half and second-half windows this
    model tells apart best relative to the straddling ones, and the losses of the first-half window, the
    second-half window and the SMALL_BLOCK straddling windows."""
    starts = [0, WINDOW_HALF, *range(WINDOW_HALF - SMALL_BLOCK, WINDOW_HALF)]
    best, best_score = None, -1.0
    for first, second in WINDOW_TOKEN_PAIRS:
        stream = torch.tensor([first] * WINDOW_HALF + [second] * WINDOW_HALF, dtype=torch.long)
        losses = window_losses(model, stream, starts)
        gap = losses[0] - losses[1]
        shares = [(loss - losses[1]) / gap for loss in losses[2:]] if gap else [math.inf]
        score = abs(gap) / (max(1.0, *shares) - min(0.0, *shares))
        if score > best_score:
            best, best_score = (stream, losses), score
    return best


def heldout_windows(block: int) -> tuple[torch.Tensor, torch.Tensor]:
    ids = torch.tensor([ID_OF[char] for char in HELDOUT], dtype=torch.long)
    count = (len(ids) - 1) // block
    return ids[: count * block].view(count, block).contiguous(), ids[1 : count * block + 1].view(
        count, block
    ).contiguous()


def heldout_evaluation(model) -> dict[str, numpy.ndarray]:
    """Log-probabilities of each next held-out character, computed here from the model's logits, plus a causality
    guard on the same windows: the inputs after a cut drawn anew for every grading are replaced, and the logits up
    to the cut must not change (a model that peeks at the next character would otherwise score a low loss)."""
    block = min(int(gp.fetch(model.config.block_size)), 256)
    x, y = heldout_windows(block)
    logits = logits_of(model, x)
    log_probs = F.log_softmax(logits, dim=-1).gather(-1, y.unsqueeze(-1)).squeeze(-1)
    generator = numpy.random.default_rng(gp.fresh_seed())
    cut = int(generator.integers(0, block - 1))
    changed = x.clone()
    changed[:, cut + 1 :] = torch.from_numpy(generator.integers(1, VOCAB_SIZE, size=(len(x), block - cut - 1)))
    guard = logits_of(model, changed)
    return {"log_probs": log_probs, "guard_difference": (guard[:, : cut + 1] - logits[:, : cut + 1]).abs().amax()}


for name, file in (("unique", "messy_unique.txt"), ("duplicates", "messy.txt"), ("edges", "messy_edges.txt")):
    with gp.step(f"cleaning_{name}", timeout_s=QUICK_STEP_S) as s:
        s.emit("cleaned", solution.clean_corpus(raw_text(file)))

for name, text in (("tokenizer", HELDOUT[:3000]), ("tokenizer_unseen", gp.read_text("unseen.txt"))):
    with gp.step(name, timeout_s=QUICK_STEP_S) as s:
        tokenizer = solution.CharTokenizer(CORPUS)
        ids = tokenizer.encode(text)
        s.emit("vocab_size", gp.fetch(tokenizer.vocab_size))
        s.emit("ids", ids)
        s.emit("decoded", tokenizer.decode(ids))

FORWARD_X = windows(0, 4, SMALL_BLOCK + 1)[:, :-1].contiguous()
FORWARD_Y = windows(0, 4, SMALL_BLOCK + 1)[:, 1:].contiguous()

with gp.step("forward", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    logits, no_loss = forward(model, FORWARD_X)
    s.emit("vocab_size", VOCAB_SIZE)
    s.emit_array("logits", logits)
    s.emit_array("targets", FORWARD_Y)
    s.emit("loss_without_targets_is_none", no_loss is None)

with gp.step("forward_loss", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    logits, loss = forward(model, FORWARD_X, FORWARD_Y)
    logits_alone, _ = forward(model, FORWARD_X)
    value, kind = loss_value(loss)
    s.emit_array("logits", logits)
    s.emit_array("logits_without_targets", logits_alone)
    s.emit_array("targets", FORWARD_Y)
    s.emit("loss", value)
    s.emit("loss_type", kind)

with gp.step("causality", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    changed_after = 6
    original = windows(1000, 1, SMALL_BLOCK)
    changed = original.clone()
    changed[0, changed_after + 1 :] = windows(5000, 1, SMALL_BLOCK)[0, changed_after + 1 :]
    s.emit("changed_after", changed_after)
    s.emit_array("original", original)
    s.emit_array("changed", changed)
    s.emit_array("logits_original", logits_of(model, original))
    s.emit_array("logits_changed", logits_of(model, changed))

# A step of its own: it sets the weights through state_dict, which the causality check does not need.
with gp.step("positions", timeout_s=QUICK_STEP_S) as s:
    # The same distinct tokens with all but the last one in another order, through ONE layer: without positional
    # information (absolute, rotary, ALiBi, ...) the last position attends to the same set of tokens and gets the same
    # logits. (With two layers, causal masking alone already makes the order matter.) Large random weights make the
    # attention far from uniform, so relative schemes show their effect as clearly as absolute ones.
    one_layer = small_model(n_layer=1)
    with_new_weights(one_layer, noise=0.5, keep=0.0)
    one_layer.eval()
    distinct = torch.tensor([list(range(1, SMALL_BLOCK + 1))], dtype=torch.long)
    permuted = distinct.clone()
    permuted[0, :-1] = distinct[0, :-1].flip(0)
    s.emit_array("last_logits_ordered", logits_of(one_layer, distinct)[0, -1])
    s.emit_array("last_logits_permuted", logits_of(one_layer, permuted)[0, -1])

with gp.step("dropout", timeout_s=QUICK_STEP_S) as s:
    model = small_model(dropout=0.5)
    x = windows(2000, 2, SMALL_BLOCK)
    model.eval()
    s.emit_array("eval_first", logits_of(model, x))
    s.emit_array("eval_second", logits_of(model, x))
    model.train()
    s.emit_array("train_first", logits_of(model, x))
    s.emit_array("train_second", logits_of(model, x))

with gp.step("dropout_rate", timeout_s=QUICK_STEP_S) as s:
    x = windows(2000, 1, 4)
    for label, rate in DROPOUT_RATES.items():
        model = small_model(dropout=rate)
        with_new_weights(model, noise=0.2, keep=0.0)  # large weights: a dropped unit moves the logits visibly
        model.eval()
        s.emit_array(f"{label}_eval", logits_of(model, x))
        model.train()
        s.emit_array(f"{label}_train", torch.stack([logits_of(model, x) for _ in range(DROPOUT_PASSES)]))
    s.emit("rare_rate", DROPOUT_RATES["rare"])

with gp.step("parameters", timeout_s=QUICK_STEP_S) as s:
    s.emit("count", sum(int(weights.size) for weights in weights_of(default_model())))

# A step of its own: every other step passes all of GPTConfig's fields, so only here do its defaults (R24) show. The
# model built from them must be the one those values describe (the same parameters as one built from them spelt out).
with gp.step("config_defaults", timeout_s=QUICK_STEP_S) as s:
    config = solution.GPTConfig(VOCAB_SIZE)
    fields = {name: gp.fetch(getattr(config, name)) for name in CONFIG_DEFAULT_FIELDS}
    s.emit("fields", fields)
    s.emit("parameters", sum(int(weights.size) for weights in weights_of(solution.GPT(config))))
    spelt_out = solution.GPTConfig(vocab_size=VOCAB_SIZE, **fields)
    s.emit("spelt_out_parameters", sum(int(weights.size) for weights in weights_of(solution.GPT(spelt_out))))

with gp.step("checkpoint", timeout_s=QUICK_STEP_S) as s:
    tokenizer = solution.CharTokenizer(CORPUS)
    model = small_model(dropout=0.5)  # dropout shows whether the loaded model comes back in eval mode
    with_new_weights(model, noise=0.05)  # away from any fixed initialisation, so a load that skips the weights shows
    model.eval()
    x = windows(3000, 2, SMALL_BLOCK)
    s.emit_array("logits_saved", logits_of(model, x))
    path = gp.scratch_folder("checkpoint-") / "checkpoint.pt"
    solution.save_checkpoint(path, model, tokenizer)
    del model
    gp.scramble_random_state()
    loaded = solution.load_checkpoint(path)
    if type(loaded) is not tuple or len(loaded) != 2:
        raise TypeError("load_checkpoint must return a tuple (model, tokenizer)")
    loaded_model, loaded_tokenizer = loaded
    s.emit_array("logits_as_loaded_first", logits_of(loaded_model, x))
    s.emit_array("logits_as_loaded_second", logits_of(loaded_model, x))
    loaded_model.eval()
    s.emit_array("logits_loaded", logits_of(loaded_model, x))
    s.emit("ids_saved", tokenizer.encode(HELDOUT[:500]))
    s.emit("ids_loaded", loaded_tokenizer.encode(HELDOUT[:500]))

PROMPT = CORPUS_IDS[200:205]

with gp.step("generation_length", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    s.emit("prompt", PROMPT)
    s.emit("max_new_tokens", 3 * SMALL_BLOCK)
    s.emit("generated", solution.generate(model, PROMPT, 3 * SMALL_BLOCK, temperature=1.0, seed=11))

with gp.step("generation_greedy", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    first = solution.generate(model, PROMPT, SMALL_BLOCK - len(PROMPT), temperature=0.0, seed=1)
    gp.scramble_random_state()
    second = solution.generate(model, PROMPT, SMALL_BLOCK - len(PROMPT), temperature=0.0, seed=2)
    s.emit("prompt", PROMPT)
    s.emit("first", first)
    s.emit("second", second)
    s.emit_array("logits", logits_of(model, torch.tensor([ids_list(first)[:-1]], dtype=torch.long))[0])

with gp.step("generation_top_k", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    outputs = [
        ids_list(solution.generate(model, PROMPT, SMALL_BLOCK - len(PROMPT), temperature=2.0, top_k=TOP_K, seed=seed))
        for seed in range(20)
    ]
    s.emit("prompt", PROMPT)
    s.emit("top_k", TOP_K)
    s.emit("outputs", outputs)
    s.emit_array("logits", logits_of(model, torch.tensor([output[:-1] for output in outputs], dtype=torch.long)))

with gp.step("generation_seed", timeout_s=QUICK_STEP_S) as s:
    model = small_model()
    model.eval()
    s.emit("first", solution.generate(model, PROMPT, 30, temperature=1.0, seed=21))
    gp.scramble_random_state()
    s.emit("second", solution.generate(model, PROMPT, 30, temperature=1.0, seed=21))
    s.emit("other_seed", solution.generate(model, PROMPT, 30, temperature=1.0, seed=22))

# Distribution tests: many seeded draws of one next token, against probabilities the driver computes from the same
# model's logits. Weights moved away from the student's initialisation give logits that differ clearly.
for name, top_mass, top_k in (
    ("generation_temperature", TEMPERATURE_TOP_MASS, None),
    ("generation_top_k_distribution", TOP_K_TOP_MASS, TOP_K),
):
    with gp.step(name, timeout_s=2 * SLOW_STEP_S) as s:
        model = small_model()
        with_new_weights(model, noise=0.05)
        model.eval()
        context, next_logits = sampling_context(model)
        temperature = temperature_for(next_logits, top_mass, top_k)
        s.emit("temperature", temperature)
        s.emit("top_k", top_k)
        s.emit_array("next_logits", next_logits)
        s.emit("samples", sampled_tokens(model, context, temperature, top_k))

with gp.step("training_steps", timeout_s=SLOW_STEP_S) as s:
    returned = solution.train(default_model(), CORPUS_IDS, max_steps=5, time_budget_s=60.0, seed=3)
    s.emit("losses", loss_numbers(returned))
    s.emit("loss_types", [type(loss).__name__ for loss in returned])

with gp.step("training_mode", timeout_s=QUICK_STEP_S) as s:
    # With dropout, two forward passes agree only in eval mode, where train must leave the model.
    model = small_model(dropout=0.5)
    loss_numbers(solution.train(model, CORPUS_IDS, max_steps=2, time_budget_s=60.0, seed=3))
    x = windows(2000, 2, SMALL_BLOCK)
    s.emit_array("after_first", logits_of(model, x))
    s.emit_array("after_second", logits_of(model, x))

with gp.step("training_seed", timeout_s=SLOW_STEP_S) as s:
    initial = default_model().state_dict()
    runs = {}
    for label, seed in (("first", 5), ("second", 5), ("other_seed", 6)):
        gp.scramble_random_state()
        model = default_model()
        model.load_state_dict(initial)
        runs[label] = loss_numbers(solution.train(model, CORPUS_IDS, max_steps=4, time_budget_s=60.0, seed=seed))
    for label, losses in runs.items():
        s.emit(label, losses)

with gp.step("training_windows", timeout_s=2 * SLOW_STEP_S) as s:
    model = small_model()
    with_new_weights(model, noise=0.2, keep=0.0)  # window losses that differ clearly between the two tokens
    model.eval()
    stream, losses = two_halves(model)
    before = weights_of(model)
    returned = solution.train(
        model,
        stream.tolist(),
        max_steps=WINDOW_STEPS,
        time_budget_s=SLOW_STEP_S,
        seed=gp.SEED,
        batch_size=WINDOW_BATCH,
        learning_rate=0.0,
    )
    s.emit("losses", loss_numbers(returned))
    s.emit("weights_changed", weights_changed(before, weights_of(model)))
    s.emit("batch_size", WINDOW_BATCH)
    s.emit("block_size", SMALL_BLOCK)
    s.emit("half", WINDOW_HALF)
    s.emit("length", len(stream))
    s.emit("first_half_loss", losses[0])
    s.emit("second_half_loss", losses[1])
    s.emit("straddling_losses", losses[2:])

with gp.step("training_time", timeout_s=QUICK_STEP_S) as s:
    model = default_model()
    before = weights_of(model)
    started = time.perf_counter()
    returned = solution.train(model, CORPUS_IDS, max_steps=10**9, time_budget_s=SHORT_BUDGET_S, seed=3)
    s.emit("elapsed_s", time.perf_counter() - started)
    s.emit("budget_s", SHORT_BUDGET_S)
    s.emit("steps", len(loss_numbers(returned)))
    s.emit("weights_changed", weights_changed(before, weights_of(model)))

with gp.step("training", timeout_s=TRAINING_BUDGET_S + SLOW_STEP_S) as s:
    model = default_model()
    model.eval()
    s.emit_array("log_probs_before", heldout_evaluation(model)["log_probs"])
    started = time.perf_counter()
    returned = solution.train(
        model, CORPUS_IDS, max_steps=TRAINING_STEPS, time_budget_s=TRAINING_BUDGET_S, seed=gp.SEED, device=gp.device()
    )
    s.emit("elapsed_s", time.perf_counter() - started)
    s.emit("steps", len(loss_numbers(returned)))
    s.emit("max_steps", TRAINING_STEPS)
    model.eval()
    evaluation = heldout_evaluation(model)
    s.emit_array("log_probs_after", evaluation["log_probs"])
    s.emit("guard_difference", float(evaluation["guard_difference"]))

gp.done()
