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

class UnknownTool(Exception):
    """Raised (and reported to the agent) when a reply names a tool the agent does not have."""


class ScriptedBackend:
    """A deterministic stand-in for a language model: returns `replies` in order and keeps a copy of every memory it
    was shown in `seen`. Raises RuntimeError when asked for more replies than it has."""

    def __init__(self, replies):
        self._stream = iter([*replies])
        self.seen = []

    def complete(self, messages):
        nxt = next(self._stream, None)
        if nxt is None:
            raise RuntimeError("ScriptedBackend ran out of replies: give it a longer script")
        snapshot = json.dumps(messages)
        self.seen.append(json.loads(snapshot))
        return nxt


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    table = {t.name: t for t in tools}
    if len(tools) > len(table):
        raise ValueError("tool names must be unique within one agent")
    return table


def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    try:
        obj = json.loads(text)
    except (TypeError, ValueError):
        return None
    match obj:
        case {"final": str()} if len(obj) == 1:
            return obj
        case {"send": str(), "content": str()} if len(obj) == 2:
            return obj
        case {"tool": str(), "arguments": dict()} if len(obj) == 2:
            return obj
        case _:
            return None


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = tool_registry(list(tools) if tools else [])
        toolnames = ", ".join(sorted(self.tools.keys())) or "none"
        self.memory = [{"role": "system", "content": "%s\nYou are agent '%s'. Tools you may call: %s." % (role, name, toolnames)}]

    def receive(self, sender, content):
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        self.memory.append({"role": "user", "sender": sender, "content": content})

    def call_tool(self, name, arguments):
        """Call one of this agent's tools and remember the outcome as {"role": "tool", "name": name, "content": ...}:
        str(result), or "error: <ExceptionType>: <message>" when it raised or is unknown (type UnknownTool).
        Returns the log's record {"name", "arguments", "result", "error"} (exactly one of result/error is a str)."""
        res = err = None
        try:
            chosen = self.tools.get(name)
            if chosen is None:
                raise UnknownTool(f"{name!r} is not a tool of {self.name}; its tools: {sorted(self.tools)}")
            res = str(chosen.function(**arguments))
        except Exception as exc:  # tools may fail; the agent hears about it and carries on
            err = type(exc).__name__ + ": " + str(exc)
        self.memory.append({"role": "tool", "name": name, "content": res if err is None else "error: " + err})
        return {"name": name, "arguments": arguments, "result": res, "error": err}


def _entry(src, dst, text="", calls=()):
    return dict(sender=src, receiver=dst, content=text, tool_calls=[*calls])


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        self.agents = dict((a.name, a) for a in agents)
        issues = []
        if len(agents) != len(self.agents):
            issues.append("agent names repeat")
        if entry not in self.agents:
            issues.append(f"entry {entry!r} is not an agent")
        if max_turns < 1 or max_turns != max_turns:
            issues.append("max_turns is below 1")
        if len(issues) > 0:
            raise ValueError("MultiAgentSystem: " + "; ".join(issues))
        self.entry = entry
        self.max_turns = max_turns

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        trail = [_entry("user", self.entry, task)]
        active = self.agents[self.entry]
        active.receive("user", task)
        count = 0
        while count < self.max_turns:
            raw = active.backend.complete(active.memory)
            count += 1
            active.memory.append({"role": "assistant", "content": raw})
            act = parse_action(raw)
            if act is None:
                return RunResult("invalid_action", None, count, trail)
            if "final" in act:
                trail.append(_entry(active.name, "user", act["final"]))
                return RunResult("done", act["final"], count, trail)
            if "tool" in act:
                trail.append(_entry(active.name, "tools", calls=[active.call_tool(act["tool"], act["arguments"])]))
                continue
            who, said = act["send"], act["content"]
            trail.append(_entry(active.name, who, said))
            if who in self.agents:
                self.agents[who].receive(active.name, said)
                active = self.agents[who]
            else:
                active.receive("bus", f"error: no agent called {who!r} on the bus")
        return RunResult("turn_limit", None, count, trail)


def image_tool(captioner, images):
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""
    def describe(image_id):
        arr = np.asarray(images[image_id])
        return captioner.caption(arr)
    return Tool("describe_image", "describe_image(image_id): a caption of that image", describe)


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
