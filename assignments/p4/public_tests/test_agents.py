"""Public checks of the interface and the documented formats (the grader's hidden tests go further)."""

import solution

LOG_KEYS = {"sender", "receiver", "content", "tool_calls"}
TOOL_CALL_KEYS = {"name", "arguments", "result", "error"}


def add_tool():
    return solution.Tool("add", "Add two integers.", lambda a, b: a + b)


def test_single_agent_calls_a_tool_then_answers(list_backend):
    backend = list_backend({"tool": "add", "arguments": {"a": 2, "b": 3}}, {"final": "5"})
    agent = solution.Agent("solver", "You add numbers.", backend, [add_tool()])
    result = solution.MultiAgentSystem([agent], entry="solver", max_turns=5).run("what is 2 + 3?")
    assert (result.status, result.answer, result.turns) == ("done", "5", 2)
    assert [entry["role"] for entry in agent.memory] == ["system", "user", "assistant", "tool", "assistant"]
    assert agent.memory[3] == {"role": "tool", "name": "add", "content": "5"}


def test_log_follows_the_schema(list_backend):
    backend = list_backend({"tool": "add", "arguments": {"a": 1, "b": 1}}, {"final": "2"})
    agent = solution.Agent("solver", "You add numbers.", backend, [add_tool()])
    log = solution.MultiAgentSystem([agent], entry="solver").run("1 + 1?").log
    assert [(e["sender"], e["receiver"]) for e in log] == [("user", "solver"), ("solver", "tools"), ("solver", "user")]
    assert all(set(entry) == LOG_KEYS for entry in log)
    assert log[1]["tool_calls"] == [{"name": "add", "arguments": {"a": 1, "b": 1}, "result": "2", "error": None}]


def test_message_passes_the_turn_to_the_receiver(list_backend):
    asker = solution.Agent("asker", "You delegate.", list_backend({"send": "helper", "content": "hi"}, {"final": "ok"}))
    helper = solution.Agent("helper", "You reply.", list_backend({"send": "asker", "content": "hello"}))
    result = solution.MultiAgentSystem([asker, helper], entry="asker").run("greet")
    assert result.status == "done" and result.answer == "ok"
    assert helper.memory[1] == {"role": "user", "sender": "asker", "content": "hi"}
    assert asker.memory[-2] == {"role": "user", "sender": "helper", "content": "hello"}


def test_a_raising_tool_is_reported_not_raised(list_backend):
    def broken():
        raise ValueError("boom")

    backend = list_backend({"tool": "broken", "arguments": {}}, {"final": "gave up"})
    agent = solution.Agent("solver", "You try tools.", backend, [solution.Tool("broken", "Fails.", broken)])
    result = solution.MultiAgentSystem([agent], entry="solver").run("try it")
    assert result.status == "done"
    call = result.log[1]["tool_calls"][0]
    assert call["result"] is None and call["error"].startswith("ValueError")
    assert agent.memory[3]["content"].startswith("error: ValueError")


def test_endless_run_stops_at_the_turn_limit(list_backend):
    backend = list_backend({"tool": "add", "arguments": {"a": 0, "b": 0}})
    agent = solution.Agent("solver", "You never finish.", backend, [add_tool()])
    result = solution.MultiAgentSystem([agent], entry="solver", max_turns=4).run("loop")
    assert (result.status, result.answer, result.turns, len(backend.seen)) == ("turn_limit", None, 4, 4)
