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
        self.replies = list(replies)
        self.index = 0
        self.seen = []

    def complete(self, messages):
        if self.index == len(self.replies):
            raise RuntimeError(f"ScriptedBackend: all {len(self.replies)} replies were used")
        self.seen.append([m.copy() for m in messages])
        reply = self.replies[self.index]
        self.index += 1
        return reply


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    names = [t.name for t in tools]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError("duplicate tool names: " + ", ".join(duplicates))
    return {t.name: t for t in tools}


def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if type(data) is not dict:
        return None
    if sorted(data) == ["arguments", "tool"] and type(data["tool"]) is str and type(data["arguments"]) is dict:
        return data
    if sorted(data) == ["content", "send"] and type(data["send"]) is str and type(data["content"]) is str:
        return data
    if list(data) == ["final"] and type(data["final"]) is str:
        return data
    return None


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = tool_registry(tools if tools is not None else [])
        if self.tools:
            listing = "; ".join(f"{t.name} ({t.description})" for t in self.tools.values())
        else:
            listing = "no tools"
        system = (f"Your name is {name}. {role} Available tools: {listing}. "
                  'Answer with exactly one JSON object: {"tool", "arguments"}, {"send", "content"} or {"final"}.')
        self.memory = [{"role": "system", "content": system}]

    def receive(self, sender, content):
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        self.memory.append({"role": "user", "sender": sender, "content": content})

    def call_tool(self, name, arguments):
        """Call one of this agent's tools and remember the outcome as {"role": "tool", "name": name, "content": ...}:
        str(result), or "error: <ExceptionType>: <message>" when it raised or is unknown (type UnknownTool).
        Returns the log's record {"name", "arguments", "result", "error"} (exactly one of result/error is a str)."""
        result, error = None, None
        tool = self.tools.get(name)
        if tool is None:
            error = f"UnknownTool: no tool called {name}"
        else:
            try:
                result = str(tool.function(**arguments))
            except Exception as e:
                error = type(e).__name__ + ": " + str(e)
        self.memory.append({"role": "tool", "name": name, "content": result if error is None else f"error: {error}"})
        return {"name": name, "arguments": arguments, "result": result, "error": error}


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        names = [a.name for a in agents]
        if len(set(names)) != len(names):
            raise ValueError("agent names must be unique")
        if entry not in names:
            raise ValueError(f"unknown entry agent: {entry}")
        if max_turns < 1:
            raise ValueError(f"max_turns must be >= 1, got {max_turns}")
        self.agents = dict(zip(names, agents))
        self.entry = entry
        self.max_turns = max_turns

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        log = []

        def record(sender, receiver, content, tool_calls=None):
            log.append({"sender": sender, "receiver": receiver, "content": content, "tool_calls": tool_calls or []})

        record("user", self.entry, task)
        self.agents[self.entry].receive("user", task)
        speaker = self.agents[self.entry]
        for turn in range(1, self.max_turns + 1):
            text = speaker.backend.complete(speaker.memory)
            speaker.memory.append({"role": "assistant", "content": text})
            action = parse_action(text)
            if action is None:
                return RunResult(status="invalid_action", answer=None, turns=turn, log=log)
            if "final" in action:
                record(speaker.name, "user", action["final"])
                return RunResult(status="done", answer=action["final"], turns=turn, log=log)
            if "tool" in action:
                call = speaker.call_tool(action["tool"], action["arguments"])
                record(speaker.name, "tools", "", [call])
            else:
                target = action["send"]
                record(speaker.name, target, action["content"])
                if target not in self.agents:
                    speaker.receive("bus", f"error: unknown agent {target}")
                else:
                    self.agents[target].receive(speaker.name, action["content"])
                    speaker = self.agents[target]
        return RunResult(status="turn_limit", answer=None, turns=self.max_turns, log=log)


def image_tool(captioner, images):
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""
    return Tool(
        name="describe_image",
        description="Caption of the image with the given image_id.",
        function=lambda image_id: captioner.caption(images[image_id]),
    )


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
