"""p1's hidden checks of the model: forward's logits and loss, causality, positions, dropout, the parameter limit and
GPTConfig's defaults."""

import math

import numpy as np
from expected import DIFFERENT_LOGITS, LOSS_TOLERANCE, SAME_LOGITS, same_logits

from grader.judge import Failed, ProbeData, check

MAX_PARAMETERS = 250_000
# GPTConfig(vocab_size) alone: the defaults the handout's interface gives (R24).
STATED_CONFIG_DEFAULTS = {"block_size": 64, "n_layer": 2, "n_head": 4, "n_embd": 64, "dropout": 0.0}
INITIAL_LOSS_TOLERANCE = 0.3  # nats around ln(vocab_size)


def cross_entropy(logits: np.ndarray, targets: np.ndarray) -> float:
    logits = logits.astype(np.float64).reshape(-1, logits.shape[-1])
    log_norm = np.log(np.exp(logits - logits.max(axis=1, keepdims=True)).sum(axis=1)) + logits.max(axis=1)
    return float(np.mean(log_norm - logits[np.arange(len(logits)), targets.reshape(-1)]))


@check("logits_shape")
def logits_shape(probe: ProbeData) -> None:
    step = probe.step("forward")
    targets = step.array("targets")
    if step.array("logits").shape != (*targets.shape, step.value("vocab_size")):
        raise Failed("logits must have shape (batch, time, vocab_size)")
    if step.value("loss_without_targets_is_none") is not True:
        raise Failed("without targets, forward must return (logits, None)")


@check("loss_matches_logits")
def loss_matches_logits(probe: ProbeData) -> None:
    step = probe.step("forward_loss")
    if not np.allclose(step.array("logits_without_targets"), step.array("logits"), atol=SAME_LOGITS):
        raise Failed("passing targets must not change the logits")
    expected = cross_entropy(step.array("logits"), step.array("targets"))
    if not abs(step.value("loss") - expected) <= LOSS_TOLERANCE:
        raise Failed("the loss must be the mean cross-entropy of the logits against the targets")


@check("initial_loss")
def initial_loss(probe: ProbeData) -> None:
    step = probe.step("forward")
    loss = cross_entropy(step.array("logits"), step.array("targets"))
    if not abs(loss - math.log(step.value("vocab_size"))) <= INITIAL_LOSS_TOLERANCE:
        raise Failed(
            "an untrained model should predict close to uniformly (loss near ln(vocab_size)): "
            "check the weight initialisation"
        )


@check("causal_mask")
def causal_mask(probe: ProbeData) -> None:
    step = probe.step("causality")
    last_same = step.value("changed_after")
    original, changed = step.array("logits_original"), step.array("logits_changed")
    if original.shape != changed.shape or original.ndim != 3:
        raise Failed("logits must have shape (batch, time, vocab_size)")
    if not same_logits(original[:, : last_same + 1], changed[:, : last_same + 1]):
        raise Failed("changing later tokens changed the logits at earlier positions: the model sees the future")
    if not np.abs(original[:, last_same + 1 :] - changed[:, last_same + 1 :]).max() > DIFFERENT_LOGITS:
        raise Failed("changing tokens did not change the logits at their own positions")
    prefix = step.array("logits_prefix")
    if not same_logits(prefix, original[:, : last_same + 1]):
        raise Failed(
            "the first tokens alone give other logits than the same tokens followed by more: a position's logits "
            "must depend only on the tokens up to it, not on the sequence's length"
        )


@check("uses_positions")
def uses_positions(probe: ProbeData) -> None:
    step = probe.step("positions")
    ordered, permuted = step.array("last_logits_ordered"), step.array("last_logits_permuted")
    if ordered.shape != permuted.shape or not np.abs(ordered - permuted).max() > DIFFERENT_LOGITS:
        raise Failed(
            "the same tokens in another order give the same logits: the model has no positional "
            "information (absolute or relative)"
        )


@check("dropout_only_in_training")
def dropout_only_in_training(probe: ProbeData) -> None:
    step = probe.step("dropout")
    if not np.abs(step.array("eval_first") - step.array("eval_second")).max() <= SAME_LOGITS:
        raise Failed("in eval mode two forward passes on the same input differ: dropout must be off in eval()")
    if not np.abs(step.array("train_first") - step.array("train_second")).max() > DIFFERENT_LOGITS:
        raise Failed("with dropout > 0 in the config, training-mode forward passes never differ: dropout is unused")


@check("dropout_follows_config")
def dropout_follows_config(probe: ProbeData) -> None:
    """Dropout uses config.dropout as its rate, wherever the architecture applies it.

    With config.dropout = 0 nothing is dropped: every train-mode pass equals the eval-mode one. With a rare rate p
    (the probe's 1e-6) a pass drops nothing, and then equals eval mode up to the 1 / (1 - p) rescaling (far below
    SAME_LOGITS), with probability (1 - p)^U for U dropout draws per pass; the probe's (1, 4) input through 2 layers
    of width 32 makes a few thousand at most, and even U = 100,000 leaves (1 - 1e-6)^100000 > 0.9. A correct model
    fails only when every one of the probe's 10 passes drops something: probability below 0.1^10 = 1e-10. A fixed
    rate, or the keep probability 1 - p, drops something in (nearly) every pass."""
    step = probe.step("dropout_rate")
    off = step.array("off_eval")
    if not max(np.abs(passed - off).max() for passed in step.array("off_train")) <= SAME_LOGITS:
        raise Failed(
            "with config.dropout = 0 the model gives different logits in train() and eval() mode: dropout must use "
            "the rate config.dropout, not a fixed one"
        )
    rare = step.array("rare_eval")
    if not min(np.abs(passed - rare).max() for passed in step.array("rare_train")) <= SAME_LOGITS:
        raise Failed(
            f"with config.dropout = {step.value('rare_rate'):g} every train()-mode pass dropped something: dropout "
            "must use config.dropout as the probability of dropping (not of keeping, not a fixed rate)"
        )


@check("parameter_limit")
def parameter_limit(probe: ProbeData) -> None:
    count = probe.step("parameters").value("count")
    if type(count) is not int or not 0 < count <= MAX_PARAMETERS:
        raise Failed(f"default_config(vocab_size) must give a model with at most {MAX_PARAMETERS:,} parameters")


@check("config_defaults")
def config_defaults(probe: ProbeData) -> None:
    fields = probe.step("config_defaults").value("fields")
    wrong = [
        name
        for name, stated in STATED_CONFIG_DEFAULTS.items()
        if type(fields.get(name)) not in (int, float) or fields[name] != stated
    ]
    if wrong:
        raise Failed(
            f"GPTConfig(vocab_size) alone must give the defaults of the handout's interface; wrong: {', '.join(wrong)}"
        )
    step = probe.step("config_defaults")
    if not step.value("parameters") == step.value("spelt_out_parameters") > 0:
        raise Failed(
            "GPT(GPTConfig(vocab_size)) must build the model its defaults describe, the same as a GPTConfig with "
            "those values written out"
        )
