"""Project 4, alternative design: a message bus with mailboxes and typed actions, and a feature-centroid captioner.

Every delivery goes through the bus: it appends to the receiver's memory and to the run's log, and hands the turn
to the receiver. Replies are parsed into small action dataclasses first, so the scheduler only ever dispatches
on a known type. The scheduler owns the turn counter: one backend call per iteration, never more than max_turns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, Union

import numpy as np

from captioner import Captioner, load_parameters

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


# ------------------------------------------------------------------------------------------------ actions

@dataclass(frozen=True)
class CallTool:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class SendMessage:
    receiver: str
    content: str


@dataclass(frozen=True)
class FinalAnswer:
    text: str


Action = Union[CallTool, SendMessage, FinalAnswer]


class InvalidAction(ValueError):
    pass


def parse_action(reply: str) -> Action:
    try:
        data = json.loads(reply)
    except (TypeError, ValueError) as error:
        raise InvalidAction(f"not JSON: {error}") from error
    if not isinstance(data, dict):
        raise InvalidAction("not a JSON object")
    kinds = [key for key in ("tool", "send", "final") if key in data]
    if len(kinds) != 1:
        raise InvalidAction(f"needs exactly one of tool/send/final, got {kinds}")
    if kinds == ["tool"]:
        arguments = data.get("arguments", {})
        if not isinstance(data["tool"], str) or not isinstance(arguments, dict):
            raise InvalidAction("tool needs a name and an arguments object")
        return CallTool(data["tool"], arguments)
    if kinds == ["send"]:
        if not isinstance(data["send"], str) or not isinstance(data.get("content"), str):
            raise InvalidAction("send needs an agent name and a content string")
        return SendMessage(data["send"], data["content"])
    if not isinstance(data["final"], str):
        raise InvalidAction("final needs a string")
    return FinalAnswer(data["final"])


# ------------------------------------------------------------------------------------------------- agents

class Agent:
    def __init__(self, name: str, role: str, backend: LLMBackend, tools: list[Tool] | None = None) -> None:
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = {tool.name: tool for tool in tools or []}
        self.memory: list[dict[str, str]] = [{"role": "system", "content": self.system_prompt()}]

    def system_prompt(self) -> str:
        tool_lines = [f'  "{tool.name}": {tool.description}' for tool in self.tools.values()]
        return "\n".join([
            f"Your name is {self.name}. {self.role}",
            "Tools you can call:" if tool_lines else "You have no tools.",
            *tool_lines,
            "Answer every turn with one JSON action and nothing else:",
            '  {"tool": "<name>", "arguments": {...}} | {"send": "<agent>", "content": "..."} | {"final": "..."}',
        ])

    def receive(self, sender: str, content: str) -> None:
        self.memory.append({"role": "user", "sender": sender, "content": content})

    def remember_reply(self, reply: str) -> None:
        self.memory.append({"role": "assistant", "content": reply})

    def remember_tool(self, name: str, content: str) -> None:
        self.memory.append({"role": "tool", "name": name, "content": content})


def call_tool(agent: Agent, action: CallTool) -> tuple[str | None, str | None]:
    """(result, error): exactly one is a string. Nothing a tool raises escapes."""
    tool = agent.tools.get(action.name)
    if tool is None:
        return None, f"UnknownTool: {agent.name} has no tool {action.name!r}"
    try:
        return str(tool.function(**action.arguments)), None
    except Exception as error:  # reported to the agent, who decides what to do next
        return None, f"{type(error).__name__}: {error}"


# -------------------------------------------------------------------------------------------------- bus

class MessageBus:
    """Delivers messages between named agents and keeps the run's log."""

    def __init__(self, agents: dict[str, Agent]) -> None:
        self.agents = agents
        self.log: list[dict[str, Any]] = []

    def record(self, sender: str, receiver: str, content: str, tool_calls: list | None = None) -> None:
        self.log.append({"sender": sender, "receiver": receiver, "content": content, "tool_calls": tool_calls or []})

    def deliver(self, sender: str, receiver: str, content: str) -> Agent | None:
        """Log the message and put it in the receiver's mailbox (its memory); None if there is no such agent."""
        self.record(sender, receiver, content)
        agent = self.agents.get(receiver)
        if agent is not None:
            agent.receive(sender, content)
        return agent


class MultiAgentSystem:
    def __init__(self, agents: list[Agent], entry: str, max_turns: int = 20) -> None:
        names = [agent.name for agent in agents]
        if len(set(names)) != len(names):
            raise ValueError(f"agent names must be unique, got {names}.")
        if entry not in names:
            raise ValueError(f"the entry agent {entry!r} is not one of {names}.")
        self.agents = {agent.name: agent for agent in agents}
        self.entry = entry
        self.max_turns = max_turns

    def run(self, task: str) -> RunResult:
        bus = MessageBus(self.agents)
        holder = bus.deliver(USER, self.entry, task)
        turns = 0
        while turns < self.max_turns:
            reply = holder.backend.complete(holder.memory)
            turns += 1
            reply = reply if isinstance(reply, str) else str(reply)
            holder.remember_reply(reply)
            try:
                action = parse_action(reply)
            except InvalidAction:
                return RunResult("invalid_action", None, turns, bus.log)
            if isinstance(action, FinalAnswer):
                bus.record(holder.name, USER, action.text)
                return RunResult("done", action.text, turns, bus.log)
            if isinstance(action, CallTool):
                result, error = call_tool(holder, action)
                holder.remember_tool(action.name, result if error is None else f"error: {error}")
                bus.record(holder.name, TOOLS, "", [{"name": action.name, "arguments": json.loads(json.dumps(
                    action.arguments)), "result": result, "error": error}])
                continue
            receiver = bus.deliver(holder.name, action.receiver, action.content)
            if receiver is None:
                holder.receive(BUS, f"error: there is no agent named {action.receiver!r}; "
                                    f"send to one of {sorted(self.agents)}")
            else:
                holder = receiver
        return RunResult("turn_limit", None, turns, bus.log)


# ------------------------------------------------------------------------------------------------ images

def image_tool(captioner: Any, images: dict[str, np.ndarray]) -> Tool:
    def describe_image(image_id: str) -> str:
        return captioner.caption(images[image_id])

    return Tool(name="describe_image",
                description="describe_image(image_id): a one-sentence description of that image "
                            f"(image ids: {', '.join(map(str, images))}).",
                function=describe_image)


def load_captioner(device: str = "auto") -> Captioner:
    """The centroid captioner runs on numpy alone: `device` is accepted for the interface and has no effect."""
    return Captioner(load_parameters())
