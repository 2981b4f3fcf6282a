"""Project 4 judge: expected captions and answers live here (expected.json), never in the sandbox."""

import json
import re
from pathlib import Path

from grader.judge import Failed, ProbeData, check

EXPECTED = json.loads((Path(__file__).parent / "expected.json").read_text())
CAPTION_ACCURACY_THRESHOLD = 0.85  # the reference scores 1.00 on these images; see bench/RESULTS.md
CAPTION_GRAMMAR = re.compile(r"^(1 \w+ \w+|[23] \w+ \w+s) on the (left|right)$")
LOG_KEYS = {"sender", "receiver", "content", "tool_calls"}
TOOL_CALL_KEYS = {"name", "arguments", "result", "error"}
# (sender, receiver, tools called) of each log entry in a run of the scripted task
TASK_FLOW = [("user", "coordinator", []), ("coordinator", "tools", ["describe_image"]),
             ("coordinator", "analyst", []), ("analyst", "tools", ["unit_weight"]),
             ("analyst", "coordinator", []), ("coordinator", "user", [])]
TASK_TURNS = len(TASK_FLOW) - 1


def task_runs(probe: ProbeData) -> list[dict]:
    runs = probe.step("task").value("runs")
    assert isinstance(runs, list) and len(runs) == len(EXPECTED["task_answers"]), f"runs: {runs!r}"[:500]
    return runs


def all_runs(probe: ProbeData) -> list[dict]:
    runs = list(task_runs(probe))
    for name in ("recovery", "turn_limit"):
        runs.append(probe.step(name).value("run"))
    return runs


def flow(run: dict) -> list[tuple]:
    return [(entry["sender"], entry["receiver"], [call["name"] for call in entry["tool_calls"]]) for entry in run["log"]]


def tool_calls(run: dict, name: str) -> list[dict]:
    return [call for entry in run["log"] for call in entry["tool_calls"] if call["name"] == name]


@check("caption_grammar")
def caption_grammar(probe: ProbeData) -> None:
    captions = probe.step("captioner").value("captions")
    assert len(captions) == len(EXPECTED["captions"]), f"{len(captions)} captions"
    malformed = [caption for caption in captions if not (type(caption) is str and CAPTION_GRAMMAR.match(caption))]
    if malformed:
        raise Failed(f"{len(malformed)} captions do not follow '<count> <colour> <shape>[s] on the <side>'")


@check("caption_accuracy")
def caption_accuracy(probe: ProbeData) -> None:
    captions = probe.step("captioner").value("captions")
    correct = sum(type(got) is str and got.strip() == want for got, want in zip(captions, EXPECTED["captions"]))
    accuracy = correct / len(EXPECTED["captions"])
    assert accuracy >= CAPTION_ACCURACY_THRESHOLD, f"exact-caption accuracy {accuracy:.3f} < {CAPTION_ACCURACY_THRESHOLD}"


@check("task_completes")
def task_completes(probe: ProbeData) -> None:
    for run in task_runs(probe):
        if run["status"] != "done":
            raise Failed(f"the scripted task ended with status {run['status']!r} instead of 'done'")
        assert run["log"] and run["log"][-1]["content"] == run["answer"], "the last log entry is not the final answer"


@check("task_answer")
def task_answer(probe: ProbeData) -> None:
    answers = [run["answer"] for run in task_runs(probe)]
    assert answers == EXPECTED["task_answers"], f"answers {answers} != {EXPECTED['task_answers']}"


@check("log_schema")
def log_schema(probe: ProbeData) -> None:
    for run in all_runs(probe):
        for entry in run["log"]:
            if type(entry) is not dict or set(entry) != LOG_KEYS:
                raise Failed("every log entry must be a dict with exactly: sender, receiver, content, tool_calls")
            assert all(type(entry[key]) is str for key in ("sender", "receiver", "content")), f"entry {entry}"
            assert type(entry["tool_calls"]) is list, f"entry {entry}"
            for call in entry["tool_calls"]:
                if type(call) is not dict or set(call) != TOOL_CALL_KEYS:
                    raise Failed("every tool call must be a dict with exactly: name, arguments, result, error")
                assert type(call["arguments"]) is dict, f"call {call}"
                assert (call["result"] is None) != (call["error"] is None), f"exactly one of result/error: {call}"


@check("log_flow")
def log_flow(probe: ProbeData) -> None:
    for run in task_runs(probe):
        if flow(run) != TASK_FLOW:
            raise Failed("the log of the scripted task does not record the task, each tool call, each message "
                         "and the final answer, in order, with the right sender and receiver")
        description = run["log"][1]["tool_calls"][0]
        assert run["log"][2]["content"] == description["result"], "the message does not carry the tool's result"


@check("memory_format")
def memory_format(probe: ProbeData) -> None:
    for run in task_runs(probe):
        memory = run["analyst_memory"]
        roles = [entry.get("role") for entry in memory]
        if roles != ["system", "user", "assistant", "tool", "assistant"]:
            raise Failed("an agent's memory must hold its role prompt, each received message, each of its own "
                         "replies and each tool result, in order")
        assert memory[1].get("sender") == "coordinator", f"message entry {memory[1]}"
        assert memory[1]["content"] == run["log"][2]["content"], "the received message is not in memory verbatim"
        assert memory[3].get("name") == "unit_weight", f"tool entry {memory[3]}"
        assert memory[3]["content"] == tool_calls(run, "unit_weight")[0]["result"], "tool result not in memory"


@check("tool_error_reported")
def tool_error_reported(probe: ProbeData) -> None:
    run = probe.step("recovery").value("run")
    calls = tool_calls(run, "unit_weight")
    failed = [call for call in calls if call["error"] is not None]
    if len(failed) != EXPECTED["recovery_failures"] or "ConnectionError" not in failed[0]["error"]:
        raise Failed("a tool that raises must be logged with its error (exception type and message)")
    errors = [entry for entry in run["analyst_memory"] if entry.get("role") == "tool"
              and str(entry.get("content", "")).startswith("error:")]
    if len(errors) != EXPECTED["recovery_failures"]:
        raise Failed("a tool's exception must reach the agent's memory as a tool entry starting with 'error:'")


@check("recovery_completes")
def recovery_completes(probe: ProbeData) -> None:
    run = probe.step("recovery").value("run")
    if run["status"] != "done":
        raise Failed(f"after a tool error the run ended with status {run['status']!r} instead of 'done'")
    assert run["answer"] == EXPECTED["recovery_answer"], f"answer {run['answer']!r} != {EXPECTED['recovery_answer']!r}"


@check("turn_limit_status")
def turn_limit_status(probe: ProbeData) -> None:
    run = probe.step("turn_limit").value("run")
    if run["status"] != "turn_limit" or run["answer"] is not None:
        raise Failed("a run that never reaches an answer must stop with status 'turn_limit' and answer None")
    limit = EXPECTED["loop_max_turns"]
    calls = sum(run["backend_calls"].values())
    if run["turns"] != limit or calls != limit:
        raise Failed("a run must make exactly max_turns model calls before it stops at the turn limit")
    assert len(run["log"]) == limit + 1, f"log has {len(run['log'])} entries for {limit} turns"


@check("stops_after_final")
def stops_after_final(probe: ProbeData) -> None:
    for run in task_runs(probe):
        calls = sum(run["backend_calls"].values())
        if not (run["turns"] == calls == TASK_TURNS):
            raise Failed("the run must stop at the first final answer, and count every model call as one turn")
