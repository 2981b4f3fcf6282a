"""The student's model as the driver handles it: built from the student's GPTConfig, called for logits and losses,
its weights set and read. Every value that comes back is checked for its type before it is used."""

import grader_probe as gp
import numpy
import torch
from hidden_inputs import SMALL_BLOCK, VOCAB_SIZE


def small_model(solution, dropout: float = 0.0, n_layer: int = 2):
    config = solution.GPTConfig(
        vocab_size=VOCAB_SIZE, block_size=SMALL_BLOCK, n_layer=n_layer, n_head=2, n_embd=32, dropout=dropout
    )
    return solution.GPT(config)


def default_model(solution):
    return solution.GPT(solution.default_config(VOCAB_SIZE))


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
