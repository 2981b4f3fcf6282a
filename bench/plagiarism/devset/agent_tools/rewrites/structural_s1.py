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

def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    try:
        action = json.loads(text)
    except (TypeError, ValueError):
        action = None
    if isinstance(action, dict) and _well_typed(action):
        return action
    return None


def _well_typed(action):
    keys = set(action)
    if keys == {"final"}:
        return isinstance(action["final"], str)
    if keys == {"send", "content"}:
        return isinstance(action["send"], str) and isinstance(action["content"], str)
    if keys == {"tool", "arguments"}:
        return isinstance(action["tool"], str) and isinstance(action["arguments"], dict)
    return False


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    registry = {}
    for tool in tools:
        if tool.name not in registry:
            registry[tool.name] = tool
            continue
        raise ValueError(f"two tools are named {tool.name!r}")
    return registry


class ScriptedBackend:
    """A deterministic stand-in for a language model: returns `replies` in order and keeps a copy of every memory it
    was shown in `seen`. Raises RuntimeError when asked for more replies than it has."""

    def __init__(self, replies):
        self.replies = [reply for reply in replies]
        self.seen = []

    def complete(self, messages):
        if len(self.seen) < len(self.replies):
            reply = self.replies[len(self.seen)]
            self.seen.append([dict(message) for message in messages])
            return reply
        raise RuntimeError("the scripted backend has no replies left")


def image_tool(captioner, images):
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""
    def describe_image(image_id):
        image = images[image_id]
        return captioner.caption(image)

    return Tool("describe_image", "Describe the image with this id in one caption.", describe_image)


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = tool_registry(tools or [])
        self.memory = [{"role": "system", "content": self._prompt()}]

    def _prompt(self):
        tool_lines = "\n".join([f"- {tool.name}: {tool.description}" for tool in self.tools.values()])
        if not tool_lines:
            tool_lines = "(none)"
        return f"You are {self.name}. {self.role}\nTools:\n{tool_lines}\nReply with one JSON action."

    def receive(self, sender, content):
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        self.memory.append({"role": "user", "sender": sender, "content": content})

    def call_tool(self, name, arguments):
        """Call one of this agent's tools and remember the outcome as {"role": "tool", "name": name, "content": ...}:
        str(result), or "error: <ExceptionType>: <message>" when it raised or is unknown (type UnknownTool).
        Returns the log's record {"name", "arguments", "result", "error"} (exactly one of result/error is a str)."""
        record = {"name": name, "arguments": arguments, "result": None, "error": None}
        try:
            if name not in self.tools:
                record["error"] = f"UnknownTool: {self.name} has no tool named {name!r}"
            else:
                record["result"] = str(self.tools[name].function(**arguments))
        except Exception as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"
        if record["error"] is None:
            self.memory.append({"role": "tool", "name": name, "content": record["result"]})
        else:
            self.memory.append({"role": "tool", "name": name, "content": "error: " + record["error"]})
        return record


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        self.agents = {}
        for agent in agents:
            if agent.name in self.agents:
                raise ValueError(f"two agents are named {agent.name!r}")
            self.agents[agent.name] = agent
        if entry not in self.agents:
            raise ValueError(f"entry agent {entry!r} is not one of the agents")
        if max_turns < 1:
            raise ValueError("max_turns must be at least 1")
        self.entry = entry
        self.max_turns = max_turns

    def _deliver(self, current, receiver, content, log):
        log.append({"sender": current.name, "receiver": receiver, "content": content, "tool_calls": []})
        if receiver not in self.agents:
            current.receive("bus", f"error: there is no agent named {receiver!r}")
            return current
        self.agents[receiver].receive(current.name, content)
        return self.agents[receiver]

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        log = [{"sender": "user", "receiver": self.entry, "content": task, "tool_calls": []}]
        current = self.agents[self.entry]
        current.receive("user", task)
        for turns in range(1, self.max_turns + 1):
            reply = current.backend.complete(current.memory)
            current.memory.append({"role": "assistant", "content": reply})
            action = parse_action(reply)
            if action is None:
                return RunResult("invalid_action", None, turns, log)
            if "final" in action:
                log.append({"sender": current.name, "receiver": "user", "content": action["final"], "tool_calls": []})
                return RunResult("done", action["final"], turns, log)
            if "tool" in action:
                record = current.call_tool(action["tool"], action["arguments"])
                log.append({"sender": current.name, "receiver": "tools", "content": "", "tool_calls": [record]})
            else:
                current = self._deliver(current, action["send"], action["content"], log)
        return RunResult("turn_limit", None, self.max_turns, log)


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
