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

def image_tool(captioner, images):
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""
    describe = lambda image_id: captioner.caption(images[image_id])  # noqa: E731
    return Tool("describe_image", "Caption of the image with the given image_id.", describe)


class ScriptedBackend:
    """A deterministic stand-in for a language model: returns `replies` in order and keeps a copy of every memory it
    was shown in `seen`. Raises RuntimeError when asked for more replies than it has."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.index = 0
        self.seen = []

    def complete(self, messages):
        if self.index < len(self.replies):
            self.seen.append([m.copy() for m in messages])
            self.index += 1
            return self.replies[self.index - 1]
        raise RuntimeError(f"ScriptedBackend: all {len(self.replies)} replies were used")


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    names = [t.name for t in tools]
    duplicates = sorted(set(n for n in names if names.count(n) > 1))
    if not duplicates:
        return {t.name: t for t in tools}
    raise ValueError("duplicate tool names: " + ", ".join(duplicates))


def _is_tool_call(data):
    return sorted(data) == ["arguments", "tool"] and type(data["tool"]) is str and type(data["arguments"]) is dict


def _is_message(data):
    return sorted(data) == ["content", "send"] and type(data["send"]) is str and type(data["content"]) is str


def _is_final(data):
    return list(data) == ["final"] and type(data["final"]) is str


def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return None
    if type(data) is dict and (_is_tool_call(data) or _is_message(data) or _is_final(data)):
        return data
    return None


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = tool_registry(tools if tools is not None else [])
        listing = "; ".join(f"{t.name} ({t.description})" for t in self.tools.values()) if self.tools else "no tools"
        system = (f"Your name is {name}. {role} Available tools: {listing}. "
                  'Answer with exactly one JSON object: {"tool", "arguments"}, {"send", "content"} or {"final"}.')
        self.memory = []
        self.memory.append({"role": "system", "content": system})

    def receive(self, sender, content):
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        self.memory.append({"role": "user", "sender": sender, "content": content})

    def call_tool(self, name, arguments):
        """Call one of this agent's tools and remember the outcome as {"role": "tool", "name": name, "content": ...}:
        str(result), or "error: <ExceptionType>: <message>" when it raised or is unknown (type UnknownTool).
        Returns the log's record {"name", "arguments", "result", "error"} (exactly one of result/error is a str)."""
        result, error = self._run_tool(name, arguments)
        self.memory.append({"role": "tool", "name": name, "content": f"error: {error}" if error is not None else result})
        return {"name": name, "arguments": arguments, "result": result, "error": error}

    def _run_tool(self, name, arguments):
        if name not in self.tools:
            return None, f"UnknownTool: no tool called {name}"
        try:
            return str(self.tools[name].function(**arguments)), None
        except Exception as e:
            return None, type(e).__name__ + ": " + str(e)


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        names = [a.name for a in agents]
        if len(names) != len(set(names)):
            raise ValueError("agent names must be unique")
        if entry not in names:
            raise ValueError(f"unknown entry agent: {entry}")
        if max_turns < 1:
            raise ValueError(f"max_turns must be >= 1, got {max_turns}")
        self.agents = {a.name: a for a in agents}
        self.entry = entry
        self.max_turns = max_turns

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        log = [{"sender": "user", "receiver": self.entry, "content": task, "tool_calls": []}]
        self.agents[self.entry].receive("user", task)
        speaker = self.agents[self.entry]
        turn = 0
        while turn < self.max_turns:
            turn += 1
            text = speaker.backend.complete(speaker.memory)
            speaker.memory.append({"role": "assistant", "content": text})
            action = parse_action(text)
            if action is None:
                return RunResult(status="invalid_action", answer=None, turns=turn, log=log)
            if "final" in action:
                log.append({"sender": speaker.name, "receiver": "user", "content": action["final"], "tool_calls": []})
                return RunResult(status="done", answer=action["final"], turns=turn, log=log)
            if "send" in action:
                target = action["send"]
                log.append({"sender": speaker.name, "receiver": target, "content": action["content"], "tool_calls": []})
                if target in self.agents:
                    self.agents[target].receive(speaker.name, action["content"])
                    speaker = self.agents[target]
                else:
                    speaker.receive("bus", f"error: unknown agent {target}")
                continue
            call = speaker.call_tool(action["tool"], action["arguments"])
            log.append({"sender": speaker.name, "receiver": "tools", "content": "", "tool_calls": [call]})
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
