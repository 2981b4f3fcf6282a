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
    "tool": {"tool": str, "arguments": dict},
    "send": {"send": str, "content": str},
    "final": {"final": str},
}


class ScriptedBackend:
    """A deterministic stand-in for a language model: returns `replies` in order and keeps a copy of every memory it
    was shown in `seen`. Raises RuntimeError when asked for more replies than it has."""

    def __init__(self, replies):
        self.script = tuple(replies)
        self.seen = []

    @property
    def calls(self):
        return len(self.seen)

    def complete(self, messages):
        if self.calls < len(self.script):
            self.seen.append(list(map(dict, messages)))
            return self.script[self.calls - 1]
        raise RuntimeError(f"script exhausted after {len(self.script)} replies")


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    out = {}
    for t in tools:
        if out.setdefault(t.name, t) is not t:
            raise ValueError(f"duplicate tool name {t.name}")
    return out


def action_kind(action):
    """Which schema the decoded reply matches exactly, or None."""
    if not isinstance(action, dict):
        return None
    for kind, schema in ACTION_SCHEMAS.items():
        if set(action) == set(schema) and all(isinstance(action[key], expected) for key, expected in schema.items()):
            return kind
    return None


def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    if not isinstance(text, (str, bytes, bytearray)):
        return None
    try:
        action = json.loads(text)
    except ValueError:
        return None
    return action if action_kind(action) else None


def error_text(exc):
    return f"{type(exc).__name__}: {exc}"


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = tool_registry(tools or [])
        menu = "\n".join("* " + tool.name + " - " + tool.description for tool in self.tools.values())
        self.memory = []
        self.memory.append({"role": "system", "content": role + "\n\nTools:\n" + (menu if menu else "* none")})

    def receive(self, sender, content):
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        self.memory.append(dict(role="user", sender=sender, content=content))

    def call_tool(self, name, arguments):
        """Call one of this agent's tools and remember the outcome as {"role": "tool", "name": name, "content": ...}:
        str(result), or "error: <ExceptionType>: <message>" when it raised or is unknown (type UnknownTool).
        Returns the log's record {"name", "arguments", "result", "error"} (exactly one of result/error is a str)."""
        entry = dict(name=name, arguments=arguments, result=None, error=None)
        if name in self.tools:
            try:
                entry["result"] = str(self.tools[name].function(**arguments))
            except Exception as exc:
                entry["error"] = error_text(exc)
        else:
            entry["error"] = "UnknownTool: " + name + " (known: " + ", ".join(self.tools) + ")"
        text = entry["result"] if entry["error"] is None else "error: " + entry["error"]
        self.memory.append(dict(role="tool", name=name, content=text))
        return entry


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        self.agents = {}
        for agent in agents:
            if self.agents.setdefault(agent.name, agent) is not agent:
                raise ValueError(f"duplicate agent name {agent.name}")
        if entry not in self.agents:
            raise ValueError(f"entry {entry} must be one of {list(self.agents)}")
        if max_turns < 1:
            raise ValueError("max_turns must be a positive number of backend calls")
        self.entry = entry
        self.max_turns = max_turns
        self.handlers = {"tool": self._on_tool, "send": self._on_send}

    def _on_tool(self, agent, action, log):
        call = agent.call_tool(action["tool"], action["arguments"])
        log.append(dict(sender=agent.name, receiver="tools", content="", tool_calls=[call]))
        return agent

    def _on_send(self, agent, action, log):
        target = self.agents.get(action["send"])
        log.append(dict(sender=agent.name, receiver=action["send"], content=action["content"], tool_calls=[]))
        if target is None:
            agent.receive("bus", "error: unknown agent " + action["send"])
            return agent
        target.receive(agent.name, action["content"])
        return target

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        log = [dict(sender="user", receiver=self.entry, content=task, tool_calls=[])]
        active = self.agents[self.entry]
        active.receive("user", task)
        status, answer, used = "turn_limit", None, 0
        while used < self.max_turns:
            reply = active.backend.complete(active.memory)
            used += 1
            active.memory.append(dict(role="assistant", content=reply))
            action = parse_action(reply)
            kind = action_kind(action)
            if kind is None:
                status = "invalid_action"
                break
            if kind == "final":
                log.append(dict(sender=active.name, receiver="user", content=action["final"], tool_calls=[]))
                status, answer = "done", action["final"]
                break
            active = self.handlers[kind](active, action, log)
        return RunResult(status=status, answer=answer, turns=used, log=log)


def image_tool(captioner, images):
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""
    def describe_image(image_id):
        if image_id not in images:
            raise KeyError(f"no image {image_id!r}; known ids: {sorted(images)}")
        return captioner.caption(images[image_id])
    return Tool(name="describe_image", description="Caption one image by its id.", function=describe_image)


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
