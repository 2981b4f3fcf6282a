"""Project 4: an autonomous multimodal multi-agent system. Fill in every `raise NotImplementedError`.

Read the handout (README.md) first: it fixes the action format, the memory format, the log schema and the
caption grammar. You may split your code into several modules; keep these names importable from solution.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np


class LLMBackend(Protocol):
    def complete(self, messages: list[dict[str, str]]) -> str:
        """Given an agent's memory (dicts with at least 'role' and 'content'), return the reply text: one JSON action."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    function: Callable[..., Any]  # called with the action's "arguments" as keyword arguments


@dataclass
class RunResult:
    status: str  # "done" | "turn_limit" (| "invalid_action")
    answer: str | None  # the final answer when status == "done", else None
    turns: int  # model calls made in this run
    log: list[dict[str, Any]] = field(default_factory=list)  # see "The message log" in the handout


class Agent:
    def __init__(self, name: str, role: str, backend: LLMBackend, tools: list[Tool] | None = None) -> None:
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = {tool.name: tool for tool in tools or []}
        self.memory: list[dict[str, str]] = []
        raise NotImplementedError

    def receive(self, sender: str, content: str) -> None:
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        raise NotImplementedError


class MultiAgentSystem:
    def __init__(self, agents: list[Agent], entry: str, max_turns: int = 20) -> None:
        raise NotImplementedError

    def run(self, task: str) -> RunResult:
        """Deliver `task` from "user" to the entry agent, then let agents act until a final answer or max_turns
        model calls. One turn = one call of an agent's backend."""
        raise NotImplementedError


def image_tool(captioner: Any, images: dict[str, np.ndarray]) -> Tool:
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""
    raise NotImplementedError


def load_captioner(device: str = "auto") -> Any:
    """Your trained image-to-text model: an object with caption(image: uint8 array (32, 32, 3)) -> str.
    device: "auto" (CUDA when present, else CPU), "cpu" or "cuda"."""
    raise NotImplementedError
