"""p1's hidden checks of save_checkpoint and load_checkpoint (R23)."""

from expected import same_logits

from grader.judge import Failed, ProbeData, check


@check("checkpoint_roundtrip")
def checkpoint_roundtrip(probe: ProbeData) -> None:
    step = probe.step("checkpoint")
    saved, loaded = step.array("logits_saved"), step.array("logits_loaded")
    if not same_logits(saved, loaded):
        raise Failed("a loaded checkpoint gives different logits from the model that was saved")
    if step.value("ids_loaded") != step.value("ids_saved"):
        raise Failed("the tokenizer from a loaded checkpoint encodes differently from the one that was saved")


@check("checkpoint_loads_in_eval_mode")
def checkpoint_loads_in_eval_mode(probe: ProbeData) -> None:
    step = probe.step("checkpoint")
    first, second = step.array("logits_as_loaded_first"), step.array("logits_as_loaded_second")
    if not same_logits(first, second):
        raise Failed(
            "a model with dropout, as load_checkpoint returns it, gives different logits on the same input: "
            "return it in eval mode"
        )
