"""Hidden checks of p1, run on the host over what the probe emitted. Expected values and thresholds live only in this
folder: one module per part of the handout, each check beside the bars it compares with (`expected.py` holds what
several share). The grader collects the checks named here.

Thresholds were set from the reference solution's measured results with margins (see bench/RESULTS.md).
"""

from checkpoint_checks import checkpoint_loads_in_eval_mode, checkpoint_roundtrip
from generation_checks import generate_greedy, generate_length, generate_sampling, generate_top_k
from model_checks import (
    causal_mask,
    config_defaults,
    dropout_follows_config,
    dropout_only_in_training,
    initial_loss,
    logits_shape,
    loss_matches_logits,
    parameter_limit,
    uses_positions,
)
from text_checks import (
    cleaning_deduplicated,
    cleaning_edge_cases,
    cleaning_normalised,
    tokenizer_roundtrip,
    tokenizer_unknown_characters,
)
from training_checks import (
    training_leaves_eval_mode,
    training_random_windows,
    training_reduces_loss,
    training_seeded,
    training_step_limit,
    training_time_budget,
)

__all__ = [
    "cleaning_normalised",
    "cleaning_deduplicated",
    "cleaning_edge_cases",
    "tokenizer_roundtrip",
    "tokenizer_unknown_characters",
    "logits_shape",
    "loss_matches_logits",
    "initial_loss",
    "causal_mask",
    "uses_positions",
    "dropout_only_in_training",
    "dropout_follows_config",
    "parameter_limit",
    "config_defaults",
    "checkpoint_roundtrip",
    "checkpoint_loads_in_eval_mode",
    "generate_length",
    "generate_greedy",
    "generate_top_k",
    "generate_sampling",
    "training_step_limit",
    "training_time_budget",
    "training_leaves_eval_mode",
    "training_seeded",
    "training_random_windows",
    "training_reduces_loss",
]
