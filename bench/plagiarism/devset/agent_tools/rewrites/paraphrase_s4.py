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

FORMATS = (
    ("tool", (("tool", str), ("arguments", dict))),
    ("send", (("send", str), ("content", str))),
    ("final", (("final", str),)),
)


class ScriptedBackend:
    """A deterministic stand-in for a language model: returns `replies` in order and keeps a copy of every memory it
    was shown in `seen`. Raises RuntimeError when asked for more replies than it has."""

    def __init__(self, replies):
        self.lines = tuple(replies)
        self.seen = []

    def complete(self, messages):
        done = len(self.seen)
        if done >= len(self.lines):
            raise RuntimeError("script exhausted after %d replies" % len(self.lines))
        self.seen.append([{**entry} for entry in messages])
        return self.lines[done]


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    catalogue = {}
    for candidate in tools:
        earlier = catalogue.setdefault(candidate.name, candidate)
        if earlier is not candidate:
            raise ValueError("duplicate tool name " + str(candidate.name))
    return catalogue


def action_kind(action):
    """Which schema the decoded reply matches exactly, or None."""
    if type(action) is not dict and not isinstance(action, dict):
        return None
    for label, fields in FORMATS:
        wanted = {key for key, _ in fields}
        if set(action.keys()) != wanted:
            continue
        if all(isinstance(action[key], kind) for key, kind in fields):
            return label
    return None


def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    if not isinstance(text, (str, bytes, bytearray)):
        return None
    try:
        candidate = json.loads(text)
    except ValueError:
        return None
    if action_kind(candidate) is None:
        return None
    return candidate


def describe_error(err):
    return "{}: {}".format(type(err).__name__, err)


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = tool_registry(tools or [])
        bullets = [f"* {t.name} - {t.description}" for t in self.tools.values()]
        header = f"{role}\n\nTools:\n" + ("\n".join(bullets) if bullets else "* none")
        self.memory = [{"role": "system", "content": header}]

    def receive(self, sender, content):
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        self.memory += [{"role": "user", "sender": sender, "content": content}]

    def call_tool(self, name, arguments):
        """Call one of this agent's tools and remember the outcome as {"role": "tool", "name": name, "content": ...}:
        str(result), or "error: <ExceptionType>: <message>" when it raised or is unknown (type UnknownTool).
        Returns the log's record {"name", "arguments", "result", "error"} (exactly one of result/error is a str)."""
        outcome = {"name": name, "arguments": arguments, "result": None, "error": None}
        handler = self.tools.get(name)
        if handler is None:
            outcome["error"] = "UnknownTool: %s (known: %s)" % (name, ", ".join(self.tools))
        else:
            try:
                outcome["result"] = str(handler.function(**arguments))
            except Exception as err:
                outcome["error"] = describe_error(err)
        visible = outcome["result"] if outcome["error"] is None else "error: %s" % outcome["error"]
        self.memory.append({"role": "tool", "name": name, "content": visible})
        return outcome


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        self.agents = {}
        for member in agents:
            if self.agents.setdefault(member.name, member) is not member:
                raise ValueError("duplicate agent name %s" % member.name)
        if entry not in self.agents:
            raise ValueError("entry %s must be one of %s" % (entry, list(self.agents)))
        if max_turns < 1:
            raise ValueError("max_turns must be a positive number of backend calls")
        self.entry, self.max_turns = entry, max_turns
        self.dispatch = {"tool": self._use_tool, "send": self._message}

    def _use_tool(self, who, act, events):
        events.append({"sender": who.name, "receiver": "tools", "content": "",
                       "tool_calls": [who.call_tool(act["tool"], act["arguments"])]})
        return who

    def _message(self, who, act, events):
        to, body = act["send"], act["content"]
        events.append({"sender": who.name, "receiver": to, "content": body, "tool_calls": []})
        if to not in self.agents:
            who.receive("bus", "error: unknown agent " + to)
            return who
        self.agents[to].receive(who.name, body)
        return self.agents[to]

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        events = [{"sender": "user", "receiver": self.entry, "content": task, "tool_calls": []}]
        who = self.agents[self.entry]
        who.receive("user", task)
        outcome, final_text, spent = "turn_limit", None, 0
        while spent < self.max_turns:
            text = who.backend.complete(who.memory)
            spent += 1
            who.memory.append({"role": "assistant", "content": text})
            act = parse_action(text)
            label = action_kind(act)
            if label == "final":
                events.append({"sender": who.name, "receiver": "user", "content": act["final"], "tool_calls": []})
                outcome, final_text = "done", act["final"]
                break
            if label is None:
                outcome = "invalid_action"
                break
            who = self.dispatch[label](who, act, events)
        return RunResult(status=outcome, answer=final_text, turns=spent, log=events)


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
