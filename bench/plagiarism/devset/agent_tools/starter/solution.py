"""Project 4, part 1: agents that call tools and message each other, driven by a pluggable language model.

A backend is any object with complete(messages) -> str that returns one JSON action per call; the grader plugs in
a scripted one. Only the standard library and numpy.
"""
import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    function: Callable[..., Any]  # called as function(**arguments); the result is logged as str(result)


@dataclass
class RunResult:
    status: str  # "done" | "turn_limit" | "invalid_action"
    answer: str | None  # the final answer when status == "done", else None
    turns: int  # backend calls made in this run
    log: list = field(default_factory=list)  # one {"sender", "receiver", "content", "tool_calls"} dict per event


class ScriptedBackend:
    """A deterministic stand-in for a language model: returns `replies` in order and keeps a copy of every memory it
    was shown in `seen`. Raises RuntimeError when asked for more replies than it has."""

    def __init__(self, replies):
        raise NotImplementedError  # TODO

    def complete(self, messages):
        raise NotImplementedError  # TODO


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    raise NotImplementedError  # TODO


def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    raise NotImplementedError  # TODO


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        raise NotImplementedError  # TODO

    def receive(self, sender, content):
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        raise NotImplementedError  # TODO

    def call_tool(self, name, arguments):
        """Call one of this agent's tools and remember the outcome as {"role": "tool", "name": name, "content": ...}:
        str(result), or "error: <ExceptionType>: <message>" when it raised or is unknown (type UnknownTool).
        Returns the log's record {"name", "arguments", "result", "error"} (exactly one of result/error is a str)."""
        raise NotImplementedError  # TODO


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        raise NotImplementedError  # TODO

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        raise NotImplementedError  # TODO


def image_tool(captioner, images):
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""
    raise NotImplementedError  # TODO


def main():
    images = {"img1": np.zeros((32, 32, 3), dtype=np.uint8)}
    captioner = type("Constant", (), {"caption": lambda self, image: "1 red circle on the left"})()
    looker = Agent("looker", "You describe images.", ScriptedBackend([
        json.dumps({"tool": "describe_image", "arguments": {"image_id": "img1"}}),
        json.dumps({"send": "writer", "content": "1 red circle on the left"}),
    ]), [image_tool(captioner, images)])
    writer = Agent("writer", "You answer the user.", ScriptedBackend([json.dumps({"final": "A red circle."})]))
    result = MultiAgentSystem([looker, writer], entry="looker", max_turns=5).run("What is in img1?")
    print(result.status, result.answer, result.turns)
    for event in result.log:
        print(event)


if __name__ == "__main__":
    main()
