"""What p4's hidden checks share: the expected values (expected.json) and the probe's runs read back: the driver's
transcript of every model and tool call, and what the student's objects returned (RunResult, log), each checked for
its shape before a check compares it."""

import json
from pathlib import Path

from grader.judge import Failed, ProbeData

EXPECTED = json.loads((Path(__file__).parent / "expected.json").read_text())
LOG_KEYS = {"sender", "receiver", "content", "tool_calls"}
TOOL_CALL_KEYS = {"name", "arguments", "result", "error"}


def task_runs(probe: ProbeData, name: str) -> list[dict]:
    """The scripted task's runs: "task" with the student's captioner, "task_loop" with the driver's stand-in (for the
    checks of the agent loop, which must not depend on the captioner)."""
    runs = probe.step(name).value("runs")
    assert isinstance(runs, list) and len(runs) == len(EXPECTED["task_answers"]), f"runs: {runs!r}"[:500]
    return runs


def all_runs(probe: ProbeData) -> list[dict]:
    runs = list(task_runs(probe, "task_loop"))
    for name in ("recovery", "turn_limit"):
        runs.append(probe.step(name).value("run"))
    return runs


# The driver's transcript ---------------------------------------------------------------------------------------------


def model_calls(run: dict, agent: str | None = None) -> list[dict]:
    """The model calls the driver answered, in order (optionally one agent's)."""
    return [call for call in run["model_calls"] if agent is None or call["agent"] == agent]


def actions(run: dict) -> list[tuple[str, dict | None]]:
    """(agent, the action its model replied) for every model call; None where the call was refused."""
    return [
        (call["agent"], None if call["reply"] is None else json.loads(call["reply"])) for call in run["model_calls"]
    ]


def driver_final(run: dict) -> str | None:
    """The text of the first final answer a model gave in this run, as the driver saw it."""
    for _agent, action in actions(run):
        if action is not None and "final" in action:
            return action["final"]
    return None


def driver_events(run: dict) -> list[tuple]:
    """The log the handout demands for what the models asked for: (sender, receiver, content, [(tool, arguments)])."""
    events = [("user", "coordinator", run["task"], [])]
    for agent, action in actions(run):
        if action is None:
            break
        if "tool" in action:
            events.append((agent, "tools", "", [(action["tool"], action["arguments"])]))
        elif "send" in action:
            events.append((agent, action["send"], action["content"], []))
        else:
            events.append((agent, "user", action["final"], []))
            break
    return events


def driver_weights(run: dict) -> list[str]:
    """str() of every weight the driver's tool returned, in order."""
    return [str(call["result"]) for call in run["tool_calls"] if call["result"] is not None]


# What the student's objects returned ---------------------------------------------------------------------------------


def log_of(run: dict) -> list[dict]:
    """The run's log, if every entry follows the documented schema."""
    log = run["log"]
    if type(log) is not list:
        raise Failed("RunResult.log must be a list of plain dicts")
    for entry in log:
        if type(entry) is not dict or set(entry) != LOG_KEYS:
            raise Failed("every log entry must be a dict with exactly: sender, receiver, content, tool_calls")
        if not all(type(entry[key]) is str for key in ("sender", "receiver", "content")):
            raise Failed("a log entry's sender, receiver and content must be str")
        if type(entry["tool_calls"]) is not list:
            raise Failed("a log entry's tool_calls must be a list")
        for call in entry["tool_calls"]:
            if type(call) is not dict or set(call) != TOOL_CALL_KEYS:
                raise Failed("every tool call must be a dict with exactly: name, arguments, result, error")
            if type(call["name"]) is not str or type(call["arguments"]) is not dict:
                raise Failed("a tool call's name must be a str and its arguments a dict")
            if (call["result"] is None) == (call["error"] is None) or not all(
                value is None or type(value) is str for value in (call["result"], call["error"])
            ):
                raise Failed("in a tool call exactly one of result and error is a str, the other None")
    return log


def logged_events(run: dict) -> list[tuple]:
    return [
        (
            entry["sender"],
            entry["receiver"],
            entry["content"],
            [(call["name"], call["arguments"]) for call in entry["tool_calls"]],
        )
        for entry in log_of(run)
    ]


def flow(run: dict) -> list[tuple]:
    return [(sender, receiver, [name for name, _ in calls]) for sender, receiver, _, calls in logged_events(run)]


def logged_tool_calls(run: dict, name: str) -> list[dict]:
    return [call for entry in log_of(run) for call in entry["tool_calls"] if call["name"] == name]
