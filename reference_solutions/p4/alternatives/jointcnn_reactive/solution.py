"""Project 4, alternative design: a reactive turn loop and a whole-caption CNN.

The loop: whoever holds the turn shows its memory to its backend and reacts to the one action it gets back;
tool calls keep the turn, a message hands it to the receiver, the first final answer ends the run. The loop
counts backend calls, so it can never make more than `max_turns` of them.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np

from captioner import Captioner, load_network, resolve_device

USER = "user"
TOOLS = "tools"
BUS = "bus"


class LLMBackend(Protocol):
    def complete(self, messages: list[dict[str, str]]) -> str: ...


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    function: Callable[..., Any]


@dataclass
class RunResult:
    status: str
    answer: str | None
    turns: int
    log: list[dict[str, Any]] = field(default_factory=list)


def role_prompt(name: str, role: str, tools: dict[str, Tool]) -> str:
    listed = "\n".join(f"- {tool.name}: {tool.description}" for tool in tools.values()) or "- (none)"
    return (f"You are {name}. {role}\n"
            f"Your tools:\n{listed}\n"
            "Reply with exactly one JSON object and nothing else, one of:\n"
            '{"tool": "<tool name>", "arguments": {...}}  to call one of your tools,\n'
            '{"send": "<agent name>", "content": "..."}  to message another agent,\n'
            '{"final": "..."}  to give the final answer to the user.')


class Agent:
    def __init__(self, name: str, role: str, backend: LLMBackend, tools: list[Tool] | None = None) -> None:
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = {tool.name: tool for tool in tools or []}
        self.memory: list[dict[str, str]] = [{"role": "system", "content": role_prompt(name, role, self.tools)}]

    def receive(self, sender: str, content: str) -> None:
        self.memory.append({"role": "user", "sender": sender, "content": content})

    def think(self) -> str:
        """One backend call: the whole memory in, the reply text out (remembered as the assistant's turn)."""
        reply = self.backend.complete(self.memory)
        reply = reply if isinstance(reply, str) else str(reply)
        self.memory.append({"role": "assistant", "content": reply})
        return reply

    def use_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run a tool; any exception becomes an error the agent reads. Returns the log's tool_calls entry."""
        result, error = None, None
        tool = self.tools.get(name)
        if tool is None:
            known = ", ".join(sorted(self.tools)) or "none"
            error = f"UnknownTool: {name!r} is not one of this agent's tools ({known})"
        else:
            try:
                result = str(tool.function(**arguments))
            except Exception as exception:  # a failing tool must never end the run
                error = f"{type(exception).__name__}: {exception}"
        self.memory.append({"role": "tool", "name": name, "content": result if error is None else f"error: {error}"})
        return {"name": name, "arguments": copy.deepcopy(arguments), "result": result, "error": error}


def parse_action(reply: str) -> dict[str, Any] | None:
    """The reply as one of the three actions, or None when it is not exactly one of them."""
    try:
        action = json.loads(reply)
    except (json.JSONDecodeError, TypeError):
        return None
    if not isinstance(action, dict) or len({"tool", "send", "final"} & action.keys()) != 1:
        return None
    if "tool" in action:
        arguments = action.get("arguments", {})
        valid = isinstance(action["tool"], str) and isinstance(arguments, dict)
        return {"tool": action["tool"], "arguments": arguments} if valid else None
    if "send" in action:
        valid = isinstance(action["send"], str) and isinstance(action.get("content"), str)
        return action if valid else None
    return action if isinstance(action["final"], str) else None


def log_entry(sender: str, receiver: str, content: str, tool_calls: list | None = None) -> dict[str, Any]:
    return {"sender": sender, "receiver": receiver, "content": content, "tool_calls": tool_calls or []}


class MultiAgentSystem:
    def __init__(self, agents: list[Agent], entry: str, max_turns: int = 20) -> None:
        self.agents = {agent.name: agent for agent in agents}
        if len(self.agents) != len(agents):
            raise ValueError("two agents share a name; give every agent its own name.")
        if entry not in self.agents:
            raise ValueError(f"entry agent {entry!r} is not among the agents {sorted(self.agents)}.")
        self.entry = entry
        self.max_turns = max_turns

    def run(self, task: str) -> RunResult:
        log = [log_entry(USER, self.entry, task)]
        current = self.agents[self.entry]
        current.receive(USER, task)
        for turn in range(1, self.max_turns + 1):
            action = parse_action(current.think())
            if action is None:
                return RunResult("invalid_action", None, turn, log)
            if "final" in action:
                log.append(log_entry(current.name, USER, action["final"]))
                return RunResult("done", action["final"], turn, log)
            if "tool" in action:
                log.append(log_entry(current.name, TOOLS, "", [current.use_tool(action["tool"], action["arguments"])]))
                continue
            receiver, content = action["send"], action["content"]
            log.append(log_entry(current.name, receiver, content))
            if receiver in self.agents:
                self.agents[receiver].receive(current.name, content)
                current = self.agents[receiver]
            else:
                current.receive(BUS, f"error: unknown agent {receiver!r}; the agents are {sorted(self.agents)}")
        return RunResult("turn_limit", None, max(0, self.max_turns), log)


def image_tool(captioner: Any, images: dict[str, np.ndarray]) -> Tool:
    def describe_image(image_id: str) -> str:
        return captioner.caption(images[image_id])

    ids = ", ".join(sorted(map(str, images)))
    return Tool("describe_image", f"Describe the image with this image_id (one of: {ids}) in one sentence.",
                describe_image)


def load_captioner(device: str = "auto") -> Captioner:
    return Captioner(load_network(), resolve_device(device))
