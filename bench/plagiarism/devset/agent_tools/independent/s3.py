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
        self._pending = iter(list(replies))
        self.seen = []

    def complete(self, messages):
        reply = next(self._pending, None)
        if reply is None:
            raise RuntimeError("ScriptedBackend ran out of replies: give it a longer script")
        self.seen.append(json.loads(json.dumps(messages)))
        return reply


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    registry = dict((tool.name, tool) for tool in tools)
    if len(registry) < len(tools):
        raise ValueError("tool names must be unique within one agent")
    return registry


def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    try:
        decoded = json.loads(text)
    except (TypeError, ValueError):
        return None
    match decoded:
        case {"tool": str(), "arguments": dict()} if len(decoded) == 2:
            return decoded
        case {"send": str(), "content": str()} if len(decoded) == 2:
            return decoded
        case {"final": str()} if len(decoded) == 1:
            return decoded
    return None


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name, self.role, self.backend = name, role, backend
        self.tools = tool_registry(list(tools or ()))
        names = ", ".join(sorted(self.tools)) or "none"
        self.memory = [{"role": "system", "content": f"{role}\nYou are agent '{name}'. Tools you may call: {names}."}]

    def receive(self, sender, content):
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        self.memory += [{"role": "user", "sender": sender, "content": content}]

    def _invoke(self, name, arguments):
        if name not in self.tools:
            raise UnknownTool(f"{name!r} is not a tool of {self.name}; its tools: {sorted(self.tools)}")
        return self.tools[name].function(**arguments)

    def call_tool(self, name, arguments):
        """Call one of this agent's tools and remember the outcome as {"role": "tool", "name": name, "content": ...}:
        str(result), or "error: <ExceptionType>: <message>" when it raised or is unknown (type UnknownTool).
        Returns the log's record {"name", "arguments", "result", "error"} (exactly one of result/error is a str)."""
        try:
            outcome = {"result": str(self._invoke(name, arguments)), "error": None}
            shown = outcome["result"]
        except Exception as failure:  # a failing tool is reported to the agent, never ends the run
            outcome = {"result": None, "error": f"{failure.__class__.__name__}: {failure}"}
            shown = "error: " + outcome["error"]
        self.memory.append({"role": "tool", "name": name, "content": shown})
        return {"name": name, "arguments": arguments, **outcome}


def _event(sender, receiver, content="", tool_calls=()):
    return {"sender": sender, "receiver": receiver, "content": content, "tool_calls": list(tool_calls)}


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        self.agents = {agent.name: agent for agent in agents}
        problems = []
        if len(self.agents) != len(agents):
            problems.append("agent names repeat")
        if entry not in self.agents:
            problems.append(f"entry {entry!r} is not an agent")
        if not max_turns >= 1:
            problems.append("max_turns is below 1")
        if problems:
            raise ValueError("MultiAgentSystem: " + "; ".join(problems))
        self.entry, self.max_turns = entry, max_turns

    def _step(self, agent, action):
        """One action's events and who holds the turn next."""
        match action:
            case {"tool": tool, "arguments": arguments}:
                return [_event(agent.name, "tools", tool_calls=[agent.call_tool(tool, arguments)])], agent
            case {"send": receiver, "content": content} if receiver in self.agents:
                self.agents[receiver].receive(agent.name, content)
                return [_event(agent.name, receiver, content)], self.agents[receiver]
            case {"send": receiver, "content": content}:
                agent.receive("bus", f"error: no agent called {receiver!r} on the bus")
                return [_event(agent.name, receiver, content)], agent

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        holder = self.agents[self.entry]
        holder.receive("user", task)
        log = [_event("user", self.entry, task)]
        turns = 0
        while True:
            if turns == self.max_turns:
                return RunResult("turn_limit", None, turns, log)
            reply = holder.backend.complete(holder.memory)
            turns += 1
            holder.memory.append({"role": "assistant", "content": reply})
            action = parse_action(reply)
            if action is None:
                return RunResult("invalid_action", None, turns, log)
            if "final" in action:
                log.append(_event(holder.name, "user", action["final"]))
                return RunResult("done", action["final"], turns, log)
            events, holder = self._step(holder, action)
            log.extend(events)


def image_tool(captioner, images):
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""
    def describe(image_id):
        pixels = np.asarray(images[image_id])
        return captioner.caption(pixels)
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
