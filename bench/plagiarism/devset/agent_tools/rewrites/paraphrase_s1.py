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
        self.queue = list(replies)
        self.seen = []

    def complete(self, messages):
        used = len(self.seen)
        if used == len(self.queue) or used > len(self.queue):
            raise RuntimeError("the scripted backend has no replies left")
        self.seen.append([{**msg} for msg in messages])
        return self.queue[used]


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    by_name = {}
    for item in tools:
        if item.name in by_name.keys():
            raise ValueError(f"two tools are named {item.name!r}")
        by_name[item.name] = item
    return by_name


def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    try:
        obj = json.loads(text)
    except (ValueError, TypeError):
        return None
    if type(obj) is not dict and not isinstance(obj, dict):
        return None
    fields = frozenset(obj.keys())
    ok = False
    if fields == frozenset(["tool", "arguments"]):
        ok = isinstance(obj["tool"], str) and isinstance(obj["arguments"], dict)
    elif fields == frozenset(["send", "content"]):
        ok = isinstance(obj["send"], str) and isinstance(obj["content"], str)
    elif fields == frozenset(["final"]):
        ok = isinstance(obj["final"], str)
    return obj if ok else None


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name, self.role, self.backend = name, role, backend
        self.tools = tool_registry([] if tools is None else tools)
        listed = "\n".join("- " + t.name + ": " + t.description for t in self.tools.values())
        intro = "You are " + name + ". " + role + "\nTools:\n" + (listed if listed else "(none)") + "\nReply with one JSON action."
        self.memory = [dict(role="system", content=intro)]

    def receive(self, sender, content):
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        self.memory.append(dict(role="user", sender=sender, content=content))

    def call_tool(self, name, arguments):
        """Call one of this agent's tools and remember the outcome as {"role": "tool", "name": name, "content": ...}:
        str(result), or "error: <ExceptionType>: <message>" when it raised or is unknown (type UnknownTool).
        Returns the log's record {"name", "arguments", "result", "error"} (exactly one of result/error is a str)."""
        value, problem = None, None
        if name in self.tools:
            try:
                value = str(self.tools[name].function(**arguments))
            except Exception as err:
                problem = "%s: %s" % (err.__class__.__name__, err)
        else:
            problem = "UnknownTool: %s has no tool named %r" % (self.name, name)
        self.memory.append(dict(role="tool", name=name, content=value if problem is None else "error: " + problem))
        return dict(name=name, arguments=arguments, result=value, error=problem)


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        self.agents = dict()
        for member in agents:
            if member.name in self.agents:
                raise ValueError("two agents are named %r" % (member.name,))
            self.agents[member.name] = member
        if entry not in self.agents:
            raise ValueError("entry agent %r is not one of the agents" % (entry,))
        if not max_turns >= 1:
            raise ValueError("max_turns must be at least 1")
        self.entry, self.max_turns = entry, max_turns

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        history = [dict(sender="user", receiver=self.entry, content=task, tool_calls=[])]
        speaker = self.agents[self.entry]
        speaker.receive("user", task)
        calls = 0
        while calls != self.max_turns:
            said = speaker.backend.complete(speaker.memory)
            calls = calls + 1
            speaker.memory.append(dict(role="assistant", content=said))
            move = parse_action(said)
            if move is None:
                return RunResult("invalid_action", None, calls, history)
            if "final" in move:
                history.append(dict(sender=speaker.name, receiver="user", content=move["final"], tool_calls=[]))
                return RunResult("done", move["final"], calls, history)
            if "tool" in move:
                entry = speaker.call_tool(move["tool"], move["arguments"])
                history.append(dict(sender=speaker.name, receiver="tools", content="", tool_calls=[entry]))
                continue
            target, body = move["send"], move["content"]
            history.append(dict(sender=speaker.name, receiver=target, content=body, tool_calls=[]))
            if target not in self.agents:
                speaker.receive("bus", "error: there is no agent named %r" % (target,))
                continue
            self.agents[target].receive(speaker.name, body)
            speaker = self.agents[target]
        return RunResult("turn_limit", None, calls, history)


def image_tool(captioner, images):
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""

    def describe_image(image_id):
        picture = images[image_id]
        return captioner.caption(picture)

    return Tool("describe_image", "Describe the image with this id in one caption.", describe_image)


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
