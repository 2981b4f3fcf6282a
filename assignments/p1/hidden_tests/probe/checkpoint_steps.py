"""p1's probe step of save_checkpoint and load_checkpoint: the round trip, in another random state."""

import grader_probe as gp
from hidden_inputs import CORPUS, HELDOUT, QUICK_STEP_S, SMALL_BLOCK, windows
from remote_model import logits_of, small_model, with_new_weights


def checkpoint(solution) -> None:
    with gp.step("checkpoint", timeout_s=QUICK_STEP_S) as s:
        tokenizer = solution.CharTokenizer(CORPUS)
        model = small_model(solution, dropout=0.5)  # dropout shows whether the loaded model comes back in eval mode
        # Away from any fixed initialisation, so a load that skips the weights shows.
        with_new_weights(model, noise=0.05)
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


def run(solution) -> None:
    checkpoint(solution)
