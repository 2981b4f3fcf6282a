"""p1's probe steps of the model: forward's logits and loss, causality, positions, dropout, the parameter count and
GPTConfig's defaults."""

import grader_probe as gp
import torch
from hidden_inputs import QUICK_STEP_S, SMALL_BLOCK, VOCAB_SIZE, windows
from remote_model import default_model, forward, logits_of, loss_value, small_model, weights_of, with_new_weights

CONFIG_DEFAULT_FIELDS = ("block_size", "n_layer", "n_head", "n_embd", "dropout")
# Dropout rates whose effect any architecture shows: none at 0, and at 1e-6 passes that drop nothing (the judge's
# dropout_follows_config says how rare a pass that drops something is).
DROPOUT_RATES = {"off": 0.0, "rare": 1e-6}
DROPOUT_PASSES = 10
FORWARD_X = windows(0, 4, SMALL_BLOCK + 1)[:, :-1].contiguous()
FORWARD_Y = windows(0, 4, SMALL_BLOCK + 1)[:, 1:].contiguous()


def forward_step(solution) -> None:
    with gp.step("forward", timeout_s=QUICK_STEP_S) as s:
        model = small_model(solution)
        model.eval()
        logits, no_loss = forward(model, FORWARD_X)
        s.emit("vocab_size", VOCAB_SIZE)
        s.emit_array("logits", logits)
        s.emit_array("targets", FORWARD_Y)
        s.emit("loss_without_targets_is_none", no_loss is None)


def forward_loss(solution) -> None:
    with gp.step("forward_loss", timeout_s=QUICK_STEP_S) as s:
        model = small_model(solution)
        model.eval()
        logits, loss = forward(model, FORWARD_X, FORWARD_Y)
        logits_alone, _ = forward(model, FORWARD_X)
        value, kind = loss_value(loss)
        s.emit_array("logits", logits)
        s.emit_array("logits_without_targets", logits_alone)
        s.emit_array("targets", FORWARD_Y)
        s.emit("loss", value)
        s.emit("loss_type", kind)


def causality(solution) -> None:
    with gp.step("causality", timeout_s=QUICK_STEP_S) as s:
        model = small_model(solution)
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
        # The positions up to the cut alone: their logits must not depend on how many tokens follow either (R11).
        s.emit_array("logits_prefix", logits_of(model, original[:, : changed_after + 1].contiguous()))


# A step of its own: it sets the weights through state_dict, which the causality check does not need.
def positions(solution) -> None:
    with gp.step("positions", timeout_s=QUICK_STEP_S) as s:
        # The same distinct tokens with all but the last one in another order, through ONE layer: without positional
        # information (absolute, rotary, ALiBi, ...) the last position attends to the same set of tokens and gets the same
        # logits. (With two layers, causal masking alone already makes the order matter.) Large random weights make the
        # attention far from uniform, so relative schemes show their effect as clearly as absolute ones.
        one_layer = small_model(solution, n_layer=1)
        with_new_weights(one_layer, noise=0.5, keep=0.0)
        one_layer.eval()
        distinct = torch.tensor([list(range(1, SMALL_BLOCK + 1))], dtype=torch.long)
        permuted = distinct.clone()
        permuted[0, :-1] = distinct[0, :-1].flip(0)
        s.emit_array("last_logits_ordered", logits_of(one_layer, distinct)[0, -1])
        s.emit_array("last_logits_permuted", logits_of(one_layer, permuted)[0, -1])


def dropout(solution) -> None:
    with gp.step("dropout", timeout_s=QUICK_STEP_S) as s:
        model = small_model(solution, dropout=0.5)
        x = windows(2000, 2, SMALL_BLOCK)
        model.eval()
        s.emit_array("eval_first", logits_of(model, x))
        s.emit_array("eval_second", logits_of(model, x))
        model.train()
        s.emit_array("train_first", logits_of(model, x))
        s.emit_array("train_second", logits_of(model, x))


def dropout_rate(solution) -> None:
    with gp.step("dropout_rate", timeout_s=QUICK_STEP_S) as s:
        x = windows(2000, 1, 4)
        for label, rate in DROPOUT_RATES.items():
            model = small_model(solution, dropout=rate)
            with_new_weights(model, noise=0.2, keep=0.0)  # large weights: a dropped unit moves the logits visibly
            model.eval()
            s.emit_array(f"{label}_eval", logits_of(model, x))
            model.train()
            s.emit_array(f"{label}_train", torch.stack([logits_of(model, x) for _ in range(DROPOUT_PASSES)]))
        s.emit("rare_rate", DROPOUT_RATES["rare"])


def parameters(solution) -> None:
    with gp.step("parameters", timeout_s=QUICK_STEP_S) as s:
        s.emit("count", sum(int(weights.size) for weights in weights_of(default_model(solution))))


# A step of its own: every other step passes all of GPTConfig's fields, so only here do its defaults (R24) show. The
# model built from them must be the one those values describe (the same parameters as one built from them spelt out).
def config_defaults(solution) -> None:
    with gp.step("config_defaults", timeout_s=QUICK_STEP_S) as s:
        config = solution.GPTConfig(VOCAB_SIZE)
        fields = {name: gp.fetch(getattr(config, name)) for name in CONFIG_DEFAULT_FIELDS}
        s.emit("fields", fields)
        s.emit("parameters", sum(int(weights.size) for weights in weights_of(solution.GPT(config))))
        spelt_out = solution.GPTConfig(vocab_size=VOCAB_SIZE, **fields)
        s.emit("spelt_out_parameters", sum(int(weights.size) for weights in weights_of(solution.GPT(spelt_out))))


def run(solution) -> None:
    for step in (forward_step, forward_loss, causality, positions, dropout, dropout_rate, parameters, config_defaults):
        step(solution)
