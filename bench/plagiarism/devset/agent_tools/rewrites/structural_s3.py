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


def _event(sender, receiver, content="", tool_calls=()):
    return {"sender": sender, "receiver": receiver, "content": content, "tool_calls": list(tool_calls)}


def image_tool(captioner, images):
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""
    def describe(image_id):
        return captioner.caption(np.asarray(images[image_id]))
    return Tool("describe_image", "describe_image(image_id): a caption of that image", describe)


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    registry = {tool.name: tool for tool in tools}
    if len(registry) != len(tools):
        raise ValueError("tool names must be unique within one agent")
    return registry


def _shape_ok(decoded):
    if not isinstance(decoded, dict):
        return False
    if len(decoded) == 1:
        return isinstance(decoded.get("final"), str)
    if len(decoded) == 2 and "tool" in decoded:
        return isinstance(decoded["tool"], str) and isinstance(decoded.get("arguments"), dict)
    if len(decoded) == 2 and "send" in decoded:
        return isinstance(decoded["send"], str) and isinstance(decoded.get("content"), str)
    return False


def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    try:
        decoded = json.loads(text)
    except (TypeError, ValueError):
        return None
    return decoded if _shape_ok(decoded) else None


class ScriptedBackend:
    """A deterministic stand-in for a language model: returns `replies` in order and keeps a copy of every memory it
    was shown in `seen`. Raises RuntimeError when asked for more replies than it has."""

    def __init__(self, replies):
        self._pending = iter(list(replies))
        self.seen = []

    def complete(self, messages):
        reply = next(self._pending, None)
        if reply is not None:
            self.seen.append(json.loads(json.dumps(messages)))
            return reply
        raise RuntimeError("ScriptedBackend ran out of replies: give it a longer script")


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = tool_registry(list(tools or ()))
        names = ", ".join(sorted(self.tools))
        if not names:
            names = "none"
        self.memory = [{"role": "system", "content": role + f"\nYou are agent '{name}'. Tools you may call: {names}."}]

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
                raise UnknownTool(f"{name!r} is not a tool of {self.name}; its tools: {sorted(self.tools)}")
            record["result"] = str(self.tools[name].function(**arguments))
            shown = record["result"]
        except Exception as failure:  # a failing tool is reported to the agent, never ends the run
            record["error"] = f"{failure.__class__.__name__}: {failure}"
            shown = f"error: {record['error']}"
        self.memory.append({"role": "tool", "name": name, "content": shown})
        return record


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        self.agents = {agent.name: agent for agent in agents}
        problems = [
            message
            for failed, message in (
                (len(self.agents) != len(agents), "agent names repeat"),
                (entry not in self.agents, f"entry {entry!r} is not an agent"),
                (not max_turns >= 1, "max_turns is below 1"),
            )
            if failed
        ]
        if problems:
            raise ValueError("MultiAgentSystem: " + "; ".join(problems))
        self.entry = entry
        self.max_turns = max_turns

    def _send(self, agent, receiver, content):
        if receiver not in self.agents:
            agent.receive("bus", f"error: no agent called {receiver!r} on the bus")
            return agent
        self.agents[receiver].receive(agent.name, content)
        return self.agents[receiver]

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        holder = self.agents[self.entry]
        holder.receive("user", task)
        log = [_event("user", self.entry, task)]
        for turns in range(1, self.max_turns + 1):
            reply = holder.backend.complete(holder.memory)
            holder.memory.append({"role": "assistant", "content": reply})
            action = parse_action(reply)
            if action is None:
                return RunResult("invalid_action", None, turns, log)
            if "final" in action:
                log.append(_event(holder.name, "user", action["final"]))
                return RunResult("done", action["final"], turns, log)
            if "tool" in action:
                log.append(_event(holder.name, "tools", tool_calls=[holder.call_tool(action["tool"], action["arguments"])]))
            else:
                log.append(_event(holder.name, action["send"], action["content"]))
                holder = self._send(holder, action["send"], action["content"])
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
