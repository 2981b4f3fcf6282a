"""An agent: a role, a model backend, tools, and a memory of everything it has seen, in chat form.

Each turn the agent shows its whole memory to its backend and gets back one JSON action:
    {"tool": "<name>", "arguments": {...}}      call one of its tools
    {"send": "<agent>", "content": "..."}        message another agent
    {"final": "..."}                              the final answer to the user
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from tools import Tool, ToolCall, call_tool


class LLMBackend(Protocol):
    def complete(self, messages: list[dict[str, str]]) -> str:
        """Given the chat so far (dicts with 'role' and 'content'), return the next reply text."""


class InvalidAction(ValueError):
    """The backend's reply is not one of the three documented actions."""


@dataclass(frozen=True)
class ToolAction:
    tool: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class SendAction:
    receiver: str
    content: str


@dataclass(frozen=True)
class FinalAction:
    answer: str


Action = ToolAction | SendAction | FinalAction


def parse_action(reply: str) -> Action:
    try:
        data = json.loads(reply)
    except json.JSONDecodeError as error:
        raise InvalidAction(f"not JSON: {error}") from None
    if not isinstance(data, dict):
        raise InvalidAction("an action is a JSON object")
    if "tool" in data:
        return ToolAction(str(data["tool"]), dict(data.get("arguments") or {}))
    if "send" in data:
        if not isinstance(data.get("content"), str):
            raise InvalidAction("a message needs its 'content', a string")
        return SendAction(str(data["send"]), data["content"])
    if "final" in data:
        return FinalAction(str(data["final"]))
    raise InvalidAction("expected one of the keys 'tool', 'send', 'final'")


class Agent:
    def __init__(self, name: str, role: str, backend: LLMBackend, tools: list[Tool] | None = None) -> None:
        self.name = name
        self.role = role
        self.backend = backend
        self.tools = {tool.name: tool for tool in tools or []}
        tool_lines = "".join(f"\n- {tool.name}: {tool.description}" for tool in self.tools.values())
        self.memory: list[dict[str, str]] = [
            {"role": "system", "content": f"You are {name}. {role}\nTools:{tool_lines or ' none'}\n{__doc__}"}]

    def receive(self, sender: str, content: str) -> None:
        self.memory.append({"role": "user", "sender": sender, "content": content})

    def decide(self) -> Action:
        """One backend call: the agent's turn."""
        reply = self.backend.complete([dict(entry) for entry in self.memory])
        self.memory.append({"role": "assistant", "content": reply})
        return parse_action(reply)

    def use_tool(self, action: ToolAction) -> ToolCall:
        call = call_tool(self.tools, action.tool, action.arguments)
        self.memory.append(call.as_memory())
        return call
