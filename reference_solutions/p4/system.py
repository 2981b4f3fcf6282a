"""The message bus and the planner: whose turn it is, what gets logged, and when the run stops.

The agent that received the latest message holds the turn; it keeps it while it calls tools and passes it on by
sending a message. The run stops at the first final answer ("done") or after `max_turns` backend calls ("turn_limit").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents import Agent, FinalAction, InvalidAction, SendAction, ToolAction

USER = "user"
TOOLS = "tools"
BUS = "bus"


@dataclass
class RunResult:
    status: str  # "done" | "turn_limit" | "invalid_action"
    answer: str | None
    turns: int
    log: list[dict[str, Any]] = field(default_factory=list)


class MessageBus:
    """Delivers messages between agents and keeps the log every run returns."""

    def __init__(self, agents: dict[str, Agent]) -> None:
        self.agents = agents
        self.log: list[dict[str, Any]] = []

    def record(self, sender: str, receiver: str, content: str, tool_calls: list[dict[str, Any]] | None = None) -> None:
        self.log.append({"sender": sender, "receiver": receiver, "content": content, "tool_calls": tool_calls or []})

    def send(self, sender: str, receiver: str, content: str) -> None:
        if receiver not in self.agents:
            raise KeyError(receiver)
        self.record(sender, receiver, content)
        self.agents[receiver].receive(sender, content)


class MultiAgentSystem:
    def __init__(self, agents: list[Agent], entry: str, max_turns: int = 20) -> None:
        self.agents = {agent.name: agent for agent in agents}
        if entry not in self.agents:
            raise ValueError(f"entry agent {entry!r} is not among the agents")
        self.entry = entry
        self.max_turns = max_turns

    def run(self, task: str) -> RunResult:
        bus = MessageBus(self.agents)
        bus.send(USER, self.entry, task)
        active = self.entry
        for turn in range(1, self.max_turns + 1):
            agent = self.agents[active]
            try:
                action = agent.decide()
            except InvalidAction as error:
                bus.record(active, USER, f"invalid action: {error}")
                return RunResult("invalid_action", None, turn, bus.log)
            if isinstance(action, ToolAction):
                call = agent.use_tool(action)
                bus.record(active, TOOLS, "", [call.as_log()])
            elif isinstance(action, SendAction):
                if action.receiver in self.agents:
                    bus.send(active, action.receiver, action.content)
                    active = action.receiver
                else:
                    bus.record(active, action.receiver, action.content)
                    agent.receive(BUS, f"error: no agent named {action.receiver!r}")
            else:
                bus.record(active, USER, action.answer)
                return RunResult("done", action.answer, turn, bus.log)
        return RunResult("turn_limit", None, self.max_turns, bus.log)
