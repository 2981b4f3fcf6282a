"""Project 4 judge over fabricated probe data: a faithful system passes every check, and a RunResult or memory that
disagrees with the driver's transcript (the model calls and tool calls the driver answered) fails, however right it
looks on its own. The real path (reference and mutants in the sandbox) is check-references.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from grader.judge import Judge, ProbeData, StepData, load_judge

ASSIGNMENT = Path(__file__).resolve().parents[2] / "assignments" / "p4"
JUDGE_DIR = ASSIGNMENT / "hidden_tests" / "judge"
SETUP = json.loads((ASSIGNMENT / "hidden_tests" / "probe" / "data" / "setup.json").read_text())
EXPECTED = json.loads((JUDGE_DIR / "expected.json").read_text())
CAPTION = re.compile(r"^(\d+) (\w+?) (\w+?)s? on the (\w+)$")
STAND_IN_CAPTION = "1 red circle on the left"  # the probe's own captioner, for the runs about the agents
ALL_CHECKS = {
    "caption_grammar",
    "caption_accuracy",
    "task_completes",
    "task_answer",
    "log_schema",
    "log_flow",
    "memory_format",
    "tool_error_reported",
    "recovery_completes",
    "turn_limit_status",
    "stops_after_final",
    "invalid_action_status",
    "unknown_receiver_reported",
    "unknown_tool_reported",
    "default_device_captions",
    "default_turn_limit",
    "contentless_send_invalid",
}
DEFAULT_MAX_TURNS = 20  # MultiAgentSystem's documented default


@pytest.fixture(scope="module")
def judge() -> Judge:
    return load_judge(JUDGE_DIR)


class FaithfulRun:
    """What the probe records for a run of a system that follows the handout (the reference's behaviour): the
    driver's transcript and what the student's objects return."""

    def __init__(self, image_id: str, max_turns: int) -> None:
        self.task = SETUP["task"].format(image_id=image_id)
        self.image_id, self.max_turns = image_id, max_turns
        self.memory = {name: [{"role": "system", "content": f"You are {name}."}] for name in ("coordinator", "analyst")}
        self.model_calls, self.tool_calls, self.log = [], [], []
        self.deliver("user", "coordinator", self.task)

    def deliver(self, sender: str, receiver: str, content: str) -> None:
        self.log.append({"sender": sender, "receiver": receiver, "content": content, "tool_calls": []})
        self.memory[receiver].append({"role": "user", "sender": sender, "content": content})

    def ask(self, agent: str, action: dict) -> None:
        reply = json.dumps(action)
        self.model_calls.append({"agent": agent, "messages": copy.deepcopy(self.memory[agent]), "reply": reply})
        self.memory[agent].append({"role": "assistant", "content": reply})

    def use_tool(self, agent: str, name: str, arguments: dict, result: str | None, error: str | None) -> None:
        self.log.append(
            {
                "sender": agent,
                "receiver": "tools",
                "content": "",
                "tool_calls": [{"name": name, "arguments": arguments, "result": result, "error": error}],
            }
        )
        self.memory[agent].append(
            {"role": "tool", "name": name, "content": result if error is None else f"error: {error}"}
        )

    def weigh(self, arguments: dict, failing: bool) -> None:
        self.ask("analyst", {"tool": "unit_weight", "arguments": arguments})
        weight = SETUP["colour_weights"][arguments["colour"]] * SETUP["shape_weights"][arguments["shape"]]
        self.tool_calls.append(
            {
                "arguments": arguments,
                "result": None if failing else weight,
                "error": "ConnectionError" if failing else None,
                "model_calls_before": len(self.model_calls),
            }
        )
        if failing:
            self.use_tool(
                "analyst", "unit_weight", arguments, None, "ConnectionError: the weight service is busy, try again"
            )
        else:
            self.use_tool("analyst", "unit_weight", arguments, str(weight), None)

    def record(self, status: str, answer: str | None) -> dict:
        return {
            "task": self.task,
            "max_turns": self.max_turns,
            "image_id": self.image_id,
            "model_calls": self.model_calls,
            "tool_calls": self.tool_calls,
            "status": status,
            "answer": answer,
            "turns": len(self.model_calls),
            "log": self.log,
            "analyst_memory": self.memory["analyst"],
        }


def caption_of(image_id: str) -> str:
    return EXPECTED["captions"][int(image_id.removeprefix("photo_"))]


def task_run(image_id: str, failures: int = 0, caption: str | None = None) -> dict:
    run = FaithfulRun(image_id, SETUP["max_turns"])
    caption = caption or caption_of(image_id)
    run.ask("coordinator", {"tool": "describe_image", "arguments": {"image_id": image_id}})
    run.use_tool("coordinator", "describe_image", {"image_id": image_id}, caption, None)
    run.ask("coordinator", {"send": "analyst", "content": caption})
    run.deliver("coordinator", "analyst", caption)
    count, colour, shape, _ = CAPTION.match(caption).groups()
    for attempt in range(failures + 1):
        run.weigh({"colour": colour, "shape": shape}, failing=attempt < failures)
    total = str(int(count) * run.tool_calls[-1]["result"])
    run.ask("analyst", {"send": "coordinator", "content": total})
    run.deliver("analyst", "coordinator", total)
    run.ask("coordinator", {"final": total})
    run.log.append({"sender": "coordinator", "receiver": "user", "content": total, "tool_calls": []})
    return run.record("done", total)


def looping_run(max_turns: int | None = SETUP["loop_max_turns"]) -> dict:
    """Agents that never answer; max_turns None: a system built without it (the probe records None)."""
    run = FaithfulRun(SETUP["recovery_image"], max_turns)
    active = "coordinator"
    while len(run.model_calls) < (DEFAULT_MAX_TURNS if max_turns is None else max_turns):
        if active == "coordinator":
            run.ask("coordinator", {"send": "analyst", "content": "please check once more"})
            run.deliver("coordinator", "analyst", "please check once more")
            active = "analyst"
        elif run.memory["analyst"][-1]["role"] == "tool":
            run.ask("analyst", {"send": "coordinator", "content": "still not sure"})
            run.deliver("analyst", "coordinator", "still not sure")
            active = "coordinator"
        else:
            run.weigh({"colour": "red", "shape": "circle"}, failing=False)
    return run.record("turn_limit", None)


def invalid_action_run(reply: dict) -> dict:
    run = FaithfulRun(SETUP["recovery_image"], SETUP["loop_max_turns"])
    run.ask("coordinator", reply)
    return run.record("invalid_action", None)


def misdirected_run() -> dict:
    """A message to an unknown agent, then a call of an unknown tool, then the final answer."""
    run = FaithfulRun(SETUP["recovery_image"], SETUP["loop_max_turns"])
    run.ask("coordinator", {"send": "nobody", "content": "is anyone there?"})
    run.log.append({"sender": "coordinator", "receiver": "nobody", "content": "is anyone there?", "tool_calls": []})
    run.memory["coordinator"].append({"role": "user", "sender": "bus", "content": "error: no agent named 'nobody'"})
    run.ask("coordinator", {"tool": "teleport", "arguments": {"to": "the moon"}})
    run.use_tool("coordinator", "teleport", {"to": "the moon"}, None, "UnknownTool: no tool named 'teleport'")
    run.ask("coordinator", {"final": "recovered"})
    run.log.append({"sender": "coordinator", "receiver": "user", "content": "recovered", "tool_calls": []})
    return run.record("done", "recovered")


def faithful_steps() -> dict[str, dict]:
    return {
        "captioner": {"captions": list(EXPECTED["captions"])},
        "task": {"runs": [task_run(image_id) for image_id in SETUP["task_images"]]},
        "task_loop": {"runs": [task_run(image_id, caption=STAND_IN_CAPTION) for image_id in SETUP["task_images"]]},
        "recovery": {
            "failures": SETUP["recovery_failures"],
            "run": task_run(SETUP["recovery_image"], failures=SETUP["recovery_failures"], caption=STAND_IN_CAPTION),
        },
        "turn_limit": {"run": looping_run()},
        "error_paths": {
            "invalid_action": invalid_action_run({"answer": "a reply that is none of the three actions"}),
            "misdirected": misdirected_run(),
        },
        "default_device": {"captions": list(EXPECTED["captions"])},
        "default_turn_limit": {"run": looping_run(max_turns=None)},
        "contentless_send": {"run": invalid_action_run({"send": "analyst"})},
    }


def task_runs(steps: dict[str, dict]) -> list[dict]:
    """The scripted task's runs, with the student's captioner and with the probe's stand-in."""
    return [*steps["task"]["runs"], *steps["task_loop"]["runs"]]


def every_run(steps: dict[str, dict]) -> list[dict]:
    return [
        *task_runs(steps),
        steps["recovery"]["run"],
        steps["turn_limit"]["run"],
        *steps["error_paths"].values(),
        steps["default_turn_limit"]["run"],
        steps["contentless_send"]["run"],
    ]


def failing(judge: Judge, steps: dict[str, dict]) -> set[str]:
    data = ProbeData(
        steps={name: StepData(name, True, values, {}, None, 1.0) for name, values in steps.items()}, finished=True
    )
    return {check for check, outcome in judge.run(data).items() if not outcome.passed}


@pytest.fixture
def steps() -> dict[str, dict]:
    return faithful_steps()


def test_the_fabricated_runs_are_what_the_handout_describes():
    run = task_run(SETUP["task_images"][0])
    assert [entry["role"] for entry in run["analyst_memory"]] == ["system", "user", "assistant", "tool", "assistant"]
    assert run["answer"] == EXPECTED["task_answers"][0] and run["turns"] == 5
    assert task_run(SETUP["recovery_image"], failures=1, caption=STAND_IN_CAPTION)["answer"] == str(3 * 2)
    assert len(looping_run()["log"]) == SETUP["loop_max_turns"] + 1


def test_a_faithful_system_passes_every_check(judge, steps):
    assert failing(judge, steps) == set()


def test_the_right_answer_without_the_model_giving_it_fails_the_task(judge, steps):
    """A RunResult that reports the expected answer while the coordinator's model never said it."""
    for run in task_runs(steps):
        run["model_calls"] = run["model_calls"][:-1]
    assert {"task_completes", "task_answer", "log_flow", "stops_after_final"} <= failing(judge, steps)


def test_a_reported_turn_count_the_driver_did_not_see_fails_the_planner(judge, steps):
    steps["turn_limit"]["run"]["model_calls"] = steps["turn_limit"]["run"]["model_calls"][:-1]
    assert failing(judge, steps) == {"turn_limit_status"}
    steps = faithful_steps()
    for run in task_runs(steps):
        run["model_calls"].append(copy.deepcopy(run["model_calls"][-1]))
    assert "stops_after_final" in failing(judge, steps)


def test_memory_that_was_not_what_the_model_was_shown_fails_memory(judge, steps):
    """agent.memory reports the tool result, but the model's last prompt did not hold it."""
    for run in task_runs(steps):
        last = [call for call in run["model_calls"] if call["agent"] == "analyst"][-1]
        last["messages"] = last["messages"][:-1]
    assert "memory_format" in failing(judge, steps)


def test_a_tool_result_the_tool_never_returned_fails_the_log_and_memory(judge, steps):
    for run in task_runs(steps):
        run["tool_calls"][0]["result"] += 1
    assert {"log_flow", "memory_format"} <= failing(judge, steps)


def test_a_logged_error_the_agent_was_never_shown_fails_tool_errors(judge, steps):
    run = steps["recovery"]["run"]
    following = run["model_calls"][run["tool_calls"][0]["model_calls_before"]]
    following["messages"] = following["messages"][:-1]
    assert failing(judge, steps) == {"tool_error_reported"}


def test_a_run_that_never_reached_the_tool_again_fails_recovery(judge, steps):
    steps["recovery"]["run"]["tool_calls"] = steps["recovery"]["run"]["tool_calls"][:1]
    assert "recovery_completes" in failing(judge, steps)


def test_objects_where_plain_data_belongs_fail_every_check_that_reads_them(judge, steps):
    """What the probe records for values that stayed in the student's process (an object equal to everything)."""
    anything = {"$object": "Everything"}
    steps["captioner"]["captions"] = steps["default_device"]["captions"] = [anything] * len(EXPECTED["captions"])
    for run in every_run(steps):
        run.update(status=anything, answer=anything, turns=anything, log=anything, analyst_memory=anything)
    assert failing(judge, steps) == ALL_CHECKS


def test_a_system_that_never_called_the_models_fails_everything_but_captions(judge, steps):
    for run in every_run(steps):
        run["model_calls"], run["tool_calls"] = [], []
    assert failing(judge, steps) == ALL_CHECKS - {
        "caption_grammar",
        "caption_accuracy",
        "default_device_captions",
        "log_schema",
    }


def test_an_invalid_action_that_does_not_end_the_run_fails_the_planner(judge, steps):
    run = steps["error_paths"]["invalid_action"]
    run.update(status="turn_limit", turns=run["max_turns"])
    assert failing(judge, steps) == {"invalid_action_status"}


def test_an_unknown_agent_the_sender_is_not_told_about_fails_tool_errors(judge, steps):
    run = steps["error_paths"]["misdirected"]
    run["model_calls"][1]["messages"] = run["model_calls"][1]["messages"][:-1]
    assert failing(judge, steps) == {"unknown_receiver_reported"}


def test_an_unknown_tool_reported_as_another_error_fails_tool_errors(judge, steps):
    shown = steps["error_paths"]["misdirected"]["model_calls"][2]["messages"][-1]
    shown["content"] = "error: KeyError: 'teleport'"
    assert failing(judge, steps) == {"unknown_tool_reported"}


def test_a_broken_captioner_costs_only_the_checks_that_read_the_captions(judge, steps):
    """The captioner's step and the task run on the student's captioner fail; the agent loop's checks read the runs
    with the probe's stand-in captioner and pass."""
    broken = {"captioner", "task"}
    data = ProbeData(
        steps={
            name: StepData(name, name not in broken, {} if name in broken else values, {}, None, 1.0)
            for name, values in steps.items()
        },
        finished=True,
    )
    failed = {check for check, outcome in judge.run(data).items() if not outcome.passed}
    assert failed == {"caption_grammar", "caption_accuracy", "task_answer"}


def test_a_contentless_send_delivered_as_a_message_fails_the_planner(judge, steps):
    """The system took {"send": "analyst"} as a message and went on to the turn limit."""
    run = steps["contentless_send"]["run"] = looping_run()
    run["model_calls"][0]["reply"] = json.dumps({"send": "analyst"})
    assert failing(judge, steps) == {"contentless_send_invalid"}


def test_a_default_turn_limit_other_than_20_fails_the_planner(judge, steps):
    steps["default_turn_limit"]["run"] = looping_run(max_turns=DEFAULT_MAX_TURNS + 1)
    assert failing(judge, steps) == {"default_turn_limit"}


def test_a_captioner_that_fails_on_its_default_device_fails_captioning(judge, steps):
    """load_captioner() raised in the probe's step (e.g. a default of "cuda" on a machine without a GPU)."""
    data = ProbeData(
        steps={
            name: StepData(name, name != "default_device", {} if name == "default_device" else values, {}, None, 1.0)
            for name, values in steps.items()
        },
        finished=True,
    )
    assert {check for check, outcome in judge.run(data).items() if not outcome.passed} == {"default_device_captions"}
