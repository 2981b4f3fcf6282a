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
        self.answers = [r for r in replies]
        self.position = 0
        self.seen = []

    def complete(self, messages):
        if self.position >= len(self.answers):
            raise RuntimeError("ScriptedBackend: all %d replies were used" % len(self.answers))
        self.seen.append([dict(msg) for msg in messages])
        self.position += 1
        return self.answers[self.position - 1]


def tool_registry(tools):
    """Map each tool's name to the tool; two tools with the same name are a ValueError."""
    from collections import Counter
    tally = Counter(item.name for item in tools)
    repeated = sorted(label for label, times in tally.items() if times > 1)
    if repeated:
        raise ValueError("duplicate tool names: %s" % ", ".join(repeated))
    return dict((item.name, item) for item in tools)


def parse_action(text):
    """The action in a backend reply, as a dict: {"tool": str, "arguments": dict}, {"send": str, "content": str} or
    {"final": str}, with exactly those keys. Anything else (not JSON, not an object, other keys, wrong types) is None."""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        parsed = None
    if type(parsed) != dict:
        return None
    keys = sorted(parsed.keys())
    if keys == ["arguments", "tool"]:
        valid = type(parsed["tool"]) == str and type(parsed["arguments"]) == dict
    elif keys == ["content", "send"]:
        valid = type(parsed["send"]) == str and type(parsed["content"]) == str
    elif keys == ["final"]:
        valid = type(parsed["final"]) == str
    else:
        valid = False
    return parsed if valid else None


class Agent:
    def __init__(self, name, role, backend, tools=None):
        """`memory` starts with one entry: {"role": "system", "content": <role prompt naming the tools>}."""
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = tool_registry([] if tools is None else tools)
        catalogue = "no tools"
        if len(self.tools) > 0:
            catalogue = "; ".join("%s (%s)" % (item.name, item.description) for item in self.tools.values())
        prompt = "Your name is %s. %s Available tools: %s. " % (name, role, catalogue)
        prompt += 'Answer with exactly one JSON object: {"tool", "arguments"}, {"send", "content"} or {"final"}.'
        self.memory = [{"role": "system", "content": prompt}]

    def receive(self, sender, content):
        """Append {"role": "user", "sender": sender, "content": content} to memory."""
        self.memory.append({"role": "user", "sender": sender, "content": content})

    def call_tool(self, name, arguments):
        """Call one of this agent's tools and remember the outcome as {"role": "tool", "name": name, "content": ...}:
        str(result), or "error: <ExceptionType>: <message>" when it raised or is unknown (type UnknownTool).
        Returns the log's record {"name", "arguments", "result", "error"} (exactly one of result/error is a str)."""
        output = failure = None
        if name in self.tools:
            try:
                output = str(self.tools[name].function(**arguments))
            except Exception as problem:
                failure = "%s: %s" % (type(problem).__name__, problem)
        else:
            failure = "UnknownTool: no tool called " + str(name)
        shown = output if failure is None else "error: " + failure
        self.memory.append({"role": "tool", "name": name, "content": shown})
        return {"name": name, "arguments": arguments, "result": output, "error": failure}


class MultiAgentSystem:
    def __init__(self, agents, entry, max_turns=20):
        """Agents by name (a duplicate name, an unknown entry or max_turns < 1 is a ValueError)."""
        labels = [member.name for member in agents]
        if len(labels) > len(set(labels)):
            raise ValueError("agent names must be unique")
        if entry not in labels:
            raise ValueError("unknown entry agent: %s" % entry)
        if max_turns < 1:
            raise ValueError("max_turns must be >= 1, got %s" % max_turns)
        self.agents = {member.name: member for member in agents}
        self.entry = entry
        self.max_turns = max_turns

    def run(self, task):
        """Deliver `task` from "user" to the entry agent, then let the agent holding the turn act: a tool call keeps the
        turn, a message passes it to the receiver (an unknown receiver is logged and the sender hears
        "error: ..." from "bus"). Stops at the first final answer ("done"), at a reply that is no action
        ("invalid_action") or after max_turns backend calls ("turn_limit")."""
        events = []

        def note(who, to, text, calls=None):
            events.append({"sender": who, "receiver": to, "content": text, "tool_calls": calls if calls else []})

        note("user", self.entry, task)
        actor = self.agents[self.entry]
        actor.receive("user", task)
        for step in range(self.max_turns):
            answer_text = actor.backend.complete(actor.memory)
            actor.memory.append({"role": "assistant", "content": answer_text})
            parsed = parse_action(answer_text)
            if parsed is None:
                return RunResult(status="invalid_action", answer=None, turns=step + 1, log=events)
            if "final" in parsed:
                note(actor.name, "user", parsed["final"])
                return RunResult(status="done", answer=parsed["final"], turns=step + 1, log=events)
            if "tool" not in parsed:
                dest = parsed["send"]
                note(actor.name, dest, parsed["content"])
                if dest in self.agents:
                    self.agents[dest].receive(actor.name, parsed["content"])
                    actor = self.agents[dest]
                else:
                    actor.receive("bus", "error: unknown agent " + str(dest))
            else:
                note(actor.name, "tools", "", [actor.call_tool(parsed["tool"], parsed["arguments"])])
        return RunResult(status="turn_limit", answer=None, turns=self.max_turns, log=events)


def image_tool(captioner, images):
    """A Tool named "describe_image" whose function(image_id) returns captioner.caption(images[image_id])."""
    return Tool(name="describe_image", description="Caption of the image with the given image_id.",
                function=lambda image_id: captioner.caption(images[image_id]))


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
