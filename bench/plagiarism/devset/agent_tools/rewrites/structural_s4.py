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

ACTION_SCHEMAS = {
    "final": {"final": str},
    "send": {"send": str, "content": str},
    "tool": {"tool": str, "arguments": dict},
}


def action_kind(action):
    """Which schema the decoded reply matches exactly, or None."""
    if isinstance(action, dict):
        matches = [kind for kind, schema in ACTION_SCHEMAS.items()
                   if set(action) == set(schema) and all(isinstance(action[key], expected) for key, expected in schema.items())]
        if matches:
            return matches[0]
    return None


def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    if isinstance(text, (str, bytes, bytearray)):
        try:
            action = json.loads(text)
        except ValueError:
            action = None
        if action_kind(action) is not None:
            return action
    return None


def error_text(exc):
    return f"{type(exc).__name__}: {exc}"


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    out = {}
    for t in tools:
        if out.get(t.name, t) is not t:
            raise ValueError(f"duplicate tool name {t.name}")
        out[t.name] = t
    return out


def image_tool(captioner, images):
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""
    def describe_image(image_id):
        if image_id in images:
            return captioner.caption(images[image_id])
        raise KeyError(f"no image {image_id!r}; known ids: {sorted(images)}")
    return Tool(name="describe_image", description="Caption one image by its id.", function=describe_image)


class ScriptedBackend:
    """A deterministic stand-in for a language model: returns `replies` in order and keeps a copy of every memory it
    was shown in `seen`. Raises RuntimeError when asked for more replies than it has."""

    def __init__(self, replies):
        self.script = tuple(replies)
        self.seen = []

    def complete(self, messages):
        if len(self.seen) >= len(self.script):
            raise RuntimeError(f"script exhausted after {len(self.script)} replies")
        reply = self.script[len(self.seen)]
        self.seen.append([dict(message) for message in messages])
        return reply


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = tool_registry(tools or [])
        menu = "\n".join(["* " + tool.name + " - " + tool.description for tool in self.tools.values()]) or "* none"
        self.memory = [dict(role="system", content=role + "\n\nTools:\n" + menu)]

    def receive(self, sender, content):
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        self.memory.append(dict(role="user", sender=sender, content=content))

    def _outcome(self, name, arguments):
        if name not in self.tools:
            return None, "UnknownTool: " + name + " (known: " + ", ".join(self.tools) + ")"
        try:
            return str(self.tools[name].function(**arguments)), None
        except Exception as exc:
            return None, error_text(exc)

    def call_tool(self, name, arguments):
        """Call one of this agent's tools and remember the outcome as {"role": "tool", "name": name, "content": ...}:
        str(result), or "error: <ExceptionType>: <message>" when it raised or is unknown (type UnknownTool).
        Returns the log's record {"name", "arguments", "result", "error"} (exactly one of result/error is a str)."""
        result, error = self._outcome(name, arguments)
        self.memory.append(dict(role="tool", name=name, content=result if error is None else "error: " + error))
        return dict(name=name, arguments=arguments, result=result, error=error)


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        self.agents = {}
        for agent in agents:
            if self.agents.get(agent.name, agent) is not agent:
                raise ValueError(f"duplicate agent name {agent.name}")
            self.agents[agent.name] = agent
        if entry not in self.agents:
            raise ValueError(f"entry {entry} must be one of {list(self.agents)}")
        if max_turns < 1:
            raise ValueError("max_turns must be a positive number of backend calls")
        self.entry = entry
        self.max_turns = max_turns

    def _act(self, agent, kind, action, log):
        """Carry out a tool call or a message; returns the agent that holds the turn next."""
        if kind == "tool":
            call = agent.call_tool(action["tool"], action["arguments"])
            log.append(dict(sender=agent.name, receiver="tools", content="", tool_calls=[call]))
            return agent
        log.append(dict(sender=agent.name, receiver=action["send"], content=action["content"], tool_calls=[]))
        target = self.agents.get(action["send"])
        if target is not None:
            target.receive(agent.name, action["content"])
            return target
        agent.receive("bus", "error: unknown agent " + action["send"])
        return agent

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        log = [dict(sender="user", receiver=self.entry, content=task, tool_calls=[])]
        active = self.agents[self.entry]
        active.receive("user", task)
        for used in range(1, self.max_turns + 1):
            reply = active.backend.complete(active.memory)
            active.memory.append(dict(role="assistant", content=reply))
            action = parse_action(reply)
            kind = action_kind(action)
            if kind is None:
                return RunResult(status="invalid_action", answer=None, turns=used, log=log)
            if kind == "final":
                log.append(dict(sender=active.name, receiver="user", content=action["final"], tool_calls=[]))
                return RunResult(status="done", answer=action["final"], turns=used, log=log)
            active = self._act(active, kind, action, log)
        return RunResult(status="turn_limit", answer=None, turns=self.max_turns, log=log)


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
