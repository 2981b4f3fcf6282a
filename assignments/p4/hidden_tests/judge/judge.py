"""Project 4 judge: expected captions and answers live here (expected.json), never in the sandbox.

What is verified comes from the sandbox's trusted driver: the probe's scripted models and weight service ran there,
and the records hold its transcript of every model call (the agent, the messages its model was shown, the reply it
gave) and every tool call (the arguments, the result or the error). Calls are counted, answers, memory and results
taken from that transcript. What the student's objects returned (the RunResult's status, answer, turns and log, an
agent's memory) is data to compare with it: a status, answer, log or memory passes only where it agrees with what
the driver saw happen. A value that was not plain data came back as {"$object": <type>}, which no check accepts.
"""

from caption_checks import caption_accuracy, caption_grammar, default_device_captions
from transcript import (
    EXPECTED,
    actions,
    all_runs,
    driver_events,
    driver_final,
    driver_weights,
    flow,
    log_of,
    logged_events,
    logged_tool_calls,
    model_calls,
    task_runs,
)

from grader.judge import Failed, ProbeData, check

# The grader collects every check named in this module, the imported ones too.
__all__ = ["caption_accuracy", "caption_grammar", "default_device_captions"]

# (sender, receiver, tools called) of each log entry in a run of the scripted task
TASK_FLOW = [
    ("user", "coordinator", []),
    ("coordinator", "tools", ["describe_image"]),
    ("coordinator", "analyst", []),
    ("analyst", "tools", ["unit_weight"]),
    ("analyst", "coordinator", []),
    ("coordinator", "user", []),
]
TASK_TURNS = len(TASK_FLOW) - 1
TOOL_ERROR = "error: ConnectionError"  # how the analyst's memory must show the weight service's failure
DEFAULT_MAX_TURNS = 20  # MultiAgentSystem's max_turns when it is not given (the handout's interface)


# Checks ---------------------------------------------------------------------------------------------------------------


@check("task_completes")
def task_completes(probe: ProbeData) -> None:
    for run in task_runs(probe, "task_loop"):
        final = driver_final(run)
        if run["status"] != "done" or final is None:
            raise Failed("the scripted task did not end with status 'done' at the coordinator's final answer")
        if run["answer"] != final:
            raise Failed("RunResult.answer is not the final answer the agent's model gave")
        log = log_of(run)
        if not log or log[-1]["content"] != final:
            raise Failed("the last log entry is not the final answer")


@check("task_answer")
def task_answer(probe: ProbeData) -> None:
    for run, want in zip(task_runs(probe, "task"), EXPECTED["task_answers"], strict=True):
        if driver_final(run) != want or run["answer"] != want:
            raise Failed("the scripted task's final answer is wrong")


@check("log_schema")
def log_schema(probe: ProbeData) -> None:
    for run in all_runs(probe):
        log_of(run)


@check("log_flow")
def log_flow(probe: ProbeData) -> None:
    for run in task_runs(probe, "task_loop"):
        if flow(run) != TASK_FLOW:
            raise Failed(
                "the log of the scripted task does not record the task, each tool call, each message "
                "and the final answer, in order, with the right sender and receiver"
            )
        if logged_events(run) != driver_events(run):
            raise Failed(
                "the log does not hold the task, the tool calls (name and arguments), the messages and the "
                "final answer exactly as the agents' models asked for them"
            )
        log = log_of(run)
        description = log[1]["tool_calls"][0]
        if log[2]["content"] != description["result"]:
            raise Failed("the message does not carry the tool's result")
        if [call["result"] for call in logged_tool_calls(run, "unit_weight")] != driver_weights(run):
            raise Failed("a tool call's logged result is not str() of what the tool returned")


@check("memory_format")
def memory_format(probe: ProbeData) -> None:
    for run in task_runs(probe, "task_loop"):
        calls = model_calls(run, "analyst")
        if len(calls) != 2 or any(call["messages"] is None for call in calls):
            raise Failed("the analyst's model was not called twice (once for the request, once after its tool)")
        shown = calls[-1]["messages"]
        roles = [entry.get("role") for entry in shown]
        if roles != ["system", "user", "assistant", "tool"] or calls[0]["messages"] != shown[:2]:
            raise Failed(
                "an agent's memory, shown to its model, must hold its role prompt, each received message, "
                "each of its own replies and each tool result, in order"
            )
        request = [
            action["content"]
            for agent, action in actions(run)
            if agent == "coordinator" and action and "send" in action
        ]
        if shown[1].get("sender") != "coordinator" or [shown[1].get("content")] != request:
            raise Failed("a received message must reach memory verbatim, with its sender")
        if shown[2].get("content") != calls[0]["reply"]:
            raise Failed("the agent's own reply must reach its memory verbatim")
        if shown[3].get("name") != "unit_weight" or [shown[3].get("content")] != driver_weights(run):
            raise Failed("a tool's result must reach memory as str() of what it returned, with the tool's name")
        memory = run["analyst_memory"]
        if (
            type(memory) is not list
            or len(memory) != len(shown) + 1
            or memory[:-1] != shown
            or type(memory[-1]) is not dict
            or memory[-1].get("role") != "assistant"
            or memory[-1].get("content") != calls[-1]["reply"]
        ):
            raise Failed("agent.memory after the run must be what its model was shown, then its last reply")


@check("tool_error_reported")
def tool_error_reported(probe: ProbeData) -> None:
    run = probe.step("recovery").value("run")
    failures = probe.step("recovery").value("failures")
    raised = [call for call in run["tool_calls"] if call["error"] == "ConnectionError"]
    if len(raised) != failures:
        raise Failed("the agent never called the failing tool")
    calls = run["model_calls"]
    for call in raised:
        following = calls[call["model_calls_before"]] if call["model_calls_before"] < len(calls) else None
        last = following["messages"][-1] if following and following["messages"] else {}
        if (
            following is None
            or following["agent"] != "analyst"
            or last.get("role") != "tool"
            or last.get("name") != "unit_weight"
            or not str(last.get("content")).startswith(TOOL_ERROR)
        ):
            raise Failed(
                "a tool's exception must reach the agent's memory as a tool entry "
                "'error: <ExceptionType>: <message>', shown to its model on its next turn"
            )
    failed = [call for call in logged_tool_calls(run, "unit_weight") if call["error"] is not None]
    if len(failed) != failures or not all("ConnectionError" in call["error"] for call in failed):
        raise Failed("a tool that raises must be logged with its error (exception type and message)")
    memory = run["analyst_memory"]
    errors = (
        [
            entry
            for entry in memory
            if type(entry) is dict
            and entry.get("role") == "tool"
            and str(entry.get("content", "")).startswith(TOOL_ERROR)
        ]
        if type(memory) is list
        else []
    )
    if len(errors) != failures:
        raise Failed("a tool's exception must stay in the agent's memory as a tool entry starting with 'error:'")


@check("recovery_completes")
def recovery_completes(probe: ProbeData) -> None:
    run = probe.step("recovery").value("run")
    if not driver_weights(run):
        raise Failed("after a tool error the agent's retry never reached the tool")
    if run["status"] != "done" or driver_final(run) is None:
        raise Failed("after a tool error the run did not end with status 'done'")
    # The driver's stand-in captioner describes one shape: the right answer is the weight the tool returned.
    if driver_final(run) != driver_weights(run)[-1] or run["answer"] != driver_final(run):
        raise Failed("after a tool error the run ended with a wrong answer")


@check("turn_limit_status")
def turn_limit_status(probe: ProbeData) -> None:
    run = probe.step("turn_limit").value("run")
    if run["status"] != "turn_limit" or run["answer"] is not None:
        raise Failed("a run that never reaches an answer must stop with status 'turn_limit' and answer None")
    limit = EXPECTED["loop_max_turns"]
    if len(model_calls(run)) != limit or type(run["turns"]) is not int or run["turns"] != limit:
        raise Failed("a run must make exactly max_turns model calls before it stops at the turn limit")
    log = log_of(run)
    assert len(log) == limit + 1, f"log has {len(log)} entries for {limit} turns"


@check("default_turn_limit")
def default_turn_limit(probe: ProbeData) -> None:
    run = probe.step("default_turn_limit").value("run")
    if (
        run["status"] != "turn_limit"
        or len(model_calls(run)) != DEFAULT_MAX_TURNS
        or type(run["turns"]) is not int
        or run["turns"] != DEFAULT_MAX_TURNS
    ):
        raise Failed(
            f"a system built without max_turns must stop after its default of {DEFAULT_MAX_TURNS} model "
            f"calls, with status 'turn_limit'"
        )


def assert_ended_as_invalid(run: dict) -> None:
    if len(model_calls(run)) != 1:
        raise Failed("a reply that is none of the three actions must end the run at once (one model call)")
    if run["status"] != "invalid_action" or run["answer"] is not None or run["turns"] != 1:
        raise Failed(
            "a reply that is none of the three actions must end the run with status 'invalid_action', "
            "answer None and the model calls made (1) as turns"
        )


@check("invalid_action_status")
def invalid_action_status(probe: ProbeData) -> None:
    assert_ended_as_invalid(probe.step("error_paths").value("invalid_action"))


@check("contentless_send_invalid")
def contentless_send_invalid(probe: ProbeData) -> None:
    """{"send": "analyst"} without "content" is not the documented message action."""
    assert_ended_as_invalid(probe.step("contentless_send").value("run"))


def last_entry_shown(run: dict, agent: str, call: int) -> dict:
    """The last memory entry the agent's model was shown at its call number `call` (from 0); {} if none."""
    calls = model_calls(run, agent)
    messages = calls[call]["messages"] if call < len(calls) else None
    return messages[-1] if messages and type(messages[-1]) is dict else {}


@check("unknown_receiver_reported")
def unknown_receiver_reported(probe: ProbeData) -> None:
    run = probe.step("error_paths").value("misdirected")
    told = last_entry_shown(run, "coordinator", 1)
    if told.get("role") != "user" or told.get("sender") != "bus" or not str(told.get("content")).startswith("error:"):
        raise Failed(
            "after a message to an unknown agent, the sender's next model call must be shown "
            "{'role': 'user', 'sender': 'bus', 'content': 'error: ...'}"
        )
    if ("coordinator", "nobody", "is anyone there?") not in [event[:3] for event in logged_events(run)]:
        raise Failed("a message to an unknown agent must still be logged")


@check("unknown_tool_reported")
def unknown_tool_reported(probe: ProbeData) -> None:
    run = probe.step("error_paths").value("misdirected")
    told = last_entry_shown(run, "coordinator", 2)
    if (
        told.get("role") != "tool"
        or told.get("name") != "teleport"
        or not str(told.get("content")).startswith("error: UnknownTool")
    ):
        raise Failed(
            "after a call of a tool the agent does not have, its next model call must be shown "
            "{'role': 'tool', 'name': <tool>, 'content': 'error: UnknownTool: ...'}"
        )
    if run["status"] != "done" or run["answer"] != driver_final(run):
        raise Failed("after an unknown agent or tool the run must go on to the agent's final answer")


@check("stops_after_final")
def stops_after_final(probe: ProbeData) -> None:
    for run in task_runs(probe, "task_loop"):
        replies = [action for _, action in actions(run)]
        finals = [index for index, action in enumerate(replies) if action is not None and "final" in action]
        if not finals or finals[0] != len(replies) - 1:
            raise Failed("the run must stop at the first final answer")
        if len(replies) != TASK_TURNS or type(run["turns"]) is not int or run["turns"] != len(replies):
            raise Failed("the run must stop at the first final answer, and count every model call as one turn")
