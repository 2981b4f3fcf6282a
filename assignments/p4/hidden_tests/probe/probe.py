"""Project 4 probe: drives the student's agents with scripted, deterministic language models and hidden images.

It runs in the sandbox's trusted driver, never in the student's process: `solution` and every agent, tool and result
built from it are remote objects, called over the grader's channel. The scripted models (`ScriptedModel`, a
`gp.Scripted`) and the weight service are the driver's own: every `complete(messages)` call and every tool call the
student's code makes runs here, as a callback, so the probe counts the calls, keeps the messages each model was
shown and the replies it gave, and keeps every tool call with its outcome. The judge verifies behaviour against that
transcript; what the student's objects say about themselves (the RunResult, an agent's memory) is recorded as it
came back, as evidence to compare with the transcript, never as a substitute for it.

The scripts are inputs (they play the language model); they only read the messages they are shown and answer with
actions. Nothing here knows the expected captions or answers: the judge compares what is emitted here with them.
Only the captioner's step and the task's answer use the student's captioner; the other runs use the driver's
stand-in, so a broken captioner costs only the checks that need it.
"""

import json
import math
import re

import grader_probe as gp
import numpy as np

# Step timeouts only stop a hung step; they are generous because graders often share busy machines (the sandbox's
# own time limit bounds the whole run).
STEP_S = 45

solution = gp.load_solution()

with np.load(gp.data_path("images.npz"), allow_pickle=False) as archive:
    IMAGES = {
        f"photo_{index:02d}": np.ascontiguousarray(archive["images"][index]) for index in range(len(archive["images"]))
    }
SETUP = json.loads(gp.read_text("setup.json"))
CAPTION = re.compile(r"^\s*(\d+) (\w+?) (\w+?)s? on the (\w+)\s*$")
PLAIN_SCALARS = (str, int, float, bool, type(None))
MAX_DEPTH = 20


def described(value, depth=0):
    """What the student's code returned, as plain JSON data of the exact types the handout allows (str, int, float,
    bool, None, list, dict with str keys); anything else (an object left in the student's process, a tuple, a str
    subclass, a numpy number) becomes {"$object": <its type>}, which no check accepts as data."""
    kind = type(value)
    if isinstance(value, gp.Remote):
        return {"$object": gp.type_name(value)}
    if kind in PLAIN_SCALARS:
        return value if kind is not float or math.isfinite(value) else {"$object": "float"}
    if depth >= MAX_DEPTH:
        return {"$object": "nested too deeply"}
    if kind is list:
        return [described(item, depth + 1) for item in value]
    if kind is dict:
        if not all(type(key) is str for key in value):
            return {"$object": "dict with keys that are not str"}
        return {key: described(item, depth + 1) for key, item in value.items()}
    return {"$object": kind.__name__}


def is_plain(value, depth=0) -> bool:
    kind = type(value)
    if kind in PLAIN_SCALARS:
        return True
    if depth >= MAX_DEPTH:
        return False
    if kind is list:
        return all(is_plain(item, depth + 1) for item in value)
    if kind is dict:
        return all(type(key) is str and is_plain(item, depth + 1) for key, item in value.items())
    return False


def fetched(remote):
    """The value of an attribute of a student's object, as `described` data."""
    return described(gp.fetch(remote))


def text(entry: dict, key: str) -> str:
    value = entry.get(key)
    return value if type(value) is str else ""


class ScriptedModel(gp.Scripted):
    """Plays one agent's language model, in the driver: each reply is a fixed function of the messages it is shown.

    Every call is appended to the run's transcript (which agent's model, the messages, the reply) here, where the
    student's code cannot reach it."""

    def __init__(self, agent: str, script, transcript: list) -> None:
        self._agent = agent
        self._script = script
        self._transcript = transcript

    def complete(self, messages):
        if type(messages) is not list or not all(type(entry) is dict for entry in messages) or not is_plain(messages):
            self._transcript.append({"agent": self._agent, "messages": None, "reply": None})
            raise TypeError(
                "complete(messages) takes the agent's memory: a list of dicts of plain data "
                "(str, int, float, bool, None, list, dict)"
            )
        reply = json.dumps(self._script(messages))
        self._transcript.append({"agent": self._agent, "messages": messages, "reply": reply})
        return reply


def last_message_from(messages, sender):
    for entry in reversed(messages):
        if entry.get("role") == "user" and entry.get("sender") == sender:
            return text(entry, "content")
    return None


def coordinator_script(messages):
    last = messages[-1] if messages else {}
    if last.get("role") == "user" and last.get("sender") == "user":
        image_id = re.search(r"photo_\d+", text(last, "content"))
        return {"tool": "describe_image", "arguments": {"image_id": image_id.group(0) if image_id else ""}}
    if last.get("role") == "tool" and last.get("name") == "describe_image":
        return {"send": "analyst", "content": text(last, "content")}
    if last.get("role") == "user" and last.get("sender") == "analyst":
        return {"final": text(last, "content")}
    return {"final": "lost track"}


def analyst_script(messages):
    """Weighs the shapes described in the coordinator's last message; retries a tool that failed."""
    request = CAPTION.match(last_message_from(messages, "coordinator") or "")
    if request is None:
        return {"send": "coordinator", "content": "I could not read the description"}
    count, colour, shape, _side = request.groups()
    last = messages[-1]
    if last.get("role") == "tool" and last.get("name") == "unit_weight":
        content = text(last, "content")
        if content.startswith("error:"):
            return {"tool": "unit_weight", "arguments": {"colour": colour, "shape": shape}}
        if not content.isdigit():
            return {"send": "coordinator", "content": "I could not read the weight"}
        return {"send": "coordinator", "content": str(int(count) * int(content))}
    return {"tool": "unit_weight", "arguments": {"colour": colour, "shape": shape}}


def looping_coordinator_script(messages):
    return {"send": "analyst", "content": "please check once more"}


def looping_analyst_script(messages):
    if messages and messages[-1].get("role") == "tool":
        return {"send": "coordinator", "content": "still not sure"}
    return {"tool": "unit_weight", "arguments": {"colour": "red", "shape": "circle"}}


def invalid_coordinator_script(messages):
    return {"answer": "a reply that is none of the three actions"}


def contentless_send_coordinator_script(messages):
    return {"send": "analyst"}


def misdirected_coordinator_script(messages):
    """Writes to an agent that does not exist, then calls a tool it does not have, then answers with what it saw."""
    last = messages[-1] if messages else {}
    if last.get("role") == "user" and last.get("sender") == "user":
        return {"send": "nobody", "content": "is anyone there?"}
    if last.get("role") == "user" and last.get("sender") == "bus":
        return {"tool": "teleport", "arguments": {"to": "the moon"}}
    if last.get("role") == "tool" and last.get("name") == "teleport":
        return {"final": "recovered"}
    return {"final": "lost track"}


def weight_service(failures: int, invocations: list, transcript: list):
    """The analyst's tool, a function of the driver's: the first `failures` calls raise ConnectionError, as a busy
    service would (the student's code gets a ConnectionError). Every call and its outcome is kept here, with the
    number of model calls made before it (so the judge knows which model call had to be shown its result)."""

    def unit_weight(**arguments):
        invocation = {
            "arguments": described(arguments),
            "result": None,
            "error": None,
            "model_calls_before": len(transcript),
        }
        invocations.append(invocation)
        if len(invocations) <= failures:
            invocation["error"] = "ConnectionError"
            raise ConnectionError("the weight service is busy, try again")
        colour, shape = arguments.get("colour"), arguments.get("shape")
        if (
            set(arguments) != {"colour", "shape"}
            or type(colour) is not str
            or type(shape) is not str
            or colour not in SETUP["colour_weights"]
            or shape not in SETUP["shape_weights"]
        ):
            invocation["error"] = "ValueError"
            raise ValueError("unit_weight takes colour and shape, as named in the description")
        invocation["result"] = SETUP["colour_weights"][colour] * SETUP["shape_weights"][shape]
        return invocation["result"]

    return unit_weight


def run_system(captioner, scripts, image_id, max_turns=None, failures=0):
    """One run of the student's system with the driver's models and tool; the record keeps the driver's transcript
    (model calls, tool calls) beside what the student's objects returned. Without `max_turns` the system is built
    with its default limit (the record says None)."""
    transcript, invocations = [], []
    models = {name: ScriptedModel(name, script, transcript) for name, script in scripts.items()}
    task = SETUP["task"].format(image_id=image_id)
    weight_tool = solution.Tool(
        "unit_weight",
        "Weight of one shape of the given colour and shape.",
        weight_service(failures, invocations, transcript),
    )
    coordinator = solution.Agent(
        "coordinator",
        "You answer the user's question about an image.",
        models["coordinator"],
        [solution.image_tool(captioner, IMAGES)],
    )
    analyst = solution.Agent("analyst", "You compute weights of shapes.", models["analyst"], [weight_tool])
    limit = {} if max_turns is None else {"max_turns": max_turns}
    result = solution.MultiAgentSystem([coordinator, analyst], entry="coordinator", **limit).run(task)
    if not isinstance(result, gp.Remote):
        raise TypeError(f"MultiAgentSystem.run must return a RunResult, not a {type(result).__name__}")
    # The driver's record of the run is taken before anything else is asked of the student's objects.
    record = {
        "task": task,
        "max_turns": max_turns,
        "image_id": image_id,
        "model_calls": list(transcript),
        "tool_calls": [dict(call) for call in invocations],
    }
    return {
        **record,
        "status": fetched(result.status),
        "answer": fetched(result.answer),
        "turns": fetched(result.turns),
        "log": fetched(result.log),
        "analyst_memory": fetched(analyst.memory),
    }


def load_captioner():
    return solution.load_captioner(device=gp.device())


class StandInCaptioner(gp.Scripted):
    """A captioner of the driver's for the runs whose checks are about the agents, not the image (the agent loop,
    tool errors, the turn limit): they do not depend on the student's captioner (`image_tool` accepts any object
    with `caption`). One shape: the right final answer is the one weight the driver's tool returns."""

    def caption(self, image):
        return "1 red circle on the left"


def run_with_coordinator(coordinator_script):
    """A run of the error paths: the driver's stand-in captioner, a scripted coordinator, the looping analyst."""
    scripts = {"coordinator": coordinator_script, "analyst": looping_analyst_script}
    return run_system(StandInCaptioner(), scripts, SETUP["recovery_image"], max_turns=SETUP["loop_max_turns"])


TASK_SCRIPTS = {"coordinator": coordinator_script, "analyst": analyst_script}
LOOPING_SCRIPTS = {"coordinator": looping_coordinator_script, "analyst": looping_analyst_script}

with gp.step("captioner", timeout_s=STEP_S) as s:
    captioner = load_captioner()
    s.emit("captions", [described(captioner.caption(IMAGES[image_id])) for image_id in sorted(IMAGES)])

with gp.step("task", timeout_s=STEP_S) as s:
    captioner = load_captioner()
    s.emit(
        "runs",
        [
            run_system(captioner, TASK_SCRIPTS, image_id, max_turns=SETUP["max_turns"])
            for image_id in SETUP["task_images"]
        ],
    )

with gp.step("task_loop", timeout_s=STEP_S) as s:
    s.emit(
        "runs",
        [
            run_system(StandInCaptioner(), TASK_SCRIPTS, image_id, max_turns=SETUP["max_turns"])
            for image_id in SETUP["task_images"]
        ],
    )

with gp.step("recovery", timeout_s=STEP_S) as s:
    s.emit("failures", SETUP["recovery_failures"])
    s.emit(
        "run",
        run_system(
            StandInCaptioner(),
            TASK_SCRIPTS,
            SETUP["recovery_image"],
            max_turns=SETUP["max_turns"],
            failures=SETUP["recovery_failures"],
        ),
    )

with gp.step("turn_limit", timeout_s=STEP_S) as s:
    s.emit(
        "run",
        run_system(StandInCaptioner(), LOOPING_SCRIPTS, SETUP["recovery_image"], max_turns=SETUP["loop_max_turns"]),
    )

with gp.step("error_paths", timeout_s=STEP_S) as s:
    # The documented error paths, each in a run of its own: a reply that is no action, a message to an unknown agent,
    # a call of an unknown tool.
    s.emit("invalid_action", run_with_coordinator(invalid_coordinator_script))
    s.emit("misdirected", run_with_coordinator(misdirected_coordinator_script))

# The defaults of the interface, each in a step of its own: load_captioner() on whatever device this run got, and a
# system built without max_turns; then a message without its content, which is none of the three actions.
with gp.step("default_device", timeout_s=STEP_S) as s:
    default_captioner = solution.load_captioner()
    s.emit("captions", [described(default_captioner.caption(IMAGES[image_id])) for image_id in sorted(IMAGES)])

with gp.step("default_turn_limit", timeout_s=STEP_S) as s:
    s.emit("run", run_system(StandInCaptioner(), LOOPING_SCRIPTS, SETUP["recovery_image"]))

with gp.step("contentless_send", timeout_s=STEP_S) as s:
    s.emit("run", run_with_coordinator(contentless_send_coordinator_script))

gp.done()
