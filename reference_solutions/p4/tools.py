"""Tools an agent may call: a name, a description for the model, and a plain Python function returning text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol

import numpy as np


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    function: Callable[..., Any]


@dataclass(frozen=True)
class ToolCall:
    """One call as the message log records it: exactly one of result / error is set."""

    name: str
    arguments: dict[str, Any]
    result: str | None
    error: str | None

    def as_log(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": dict(self.arguments), "result": self.result, "error": self.error}

    def as_memory(self) -> dict[str, str]:
        content = self.result if self.error is None else f"error: {self.error}"
        return {"role": "tool", "name": self.name, "content": content}


def call_tool(tools: dict[str, Tool], name: str, arguments: dict[str, Any]) -> ToolCall:
    """Run a tool; whatever it raises (or an unknown name) becomes an error the agent reads, never a crash of the run."""
    if name not in tools:
        return ToolCall(name, arguments, None, f"UnknownTool: no tool named {name!r}")
    try:
        return ToolCall(name, arguments, str(tools[name].function(**arguments)), None)
    except Exception as error:  # the agent must be told, so it can try something else
        return ToolCall(name, arguments, None, f"{type(error).__name__}: {error}")


class ImageCaptioner(Protocol):
    def caption(self, image: np.ndarray) -> str: ...


def image_tool(captioner: ImageCaptioner, images: dict[str, np.ndarray]) -> Tool:
    """The agents' only access to pixels: `describe_image(image_id=...)` returns the captioner's text."""

    def describe_image(image_id: str) -> str:
        return captioner.caption(images[image_id])

    return Tool("describe_image", "Describe the image with the given image_id in one sentence.", describe_image)
