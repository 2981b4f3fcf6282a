"""Project 4 probe: drives the student's agents with scripted, deterministic backends and hidden images.

The scripts are inputs (they play the language model); they only read the agent's memory and answer with actions.
Nothing here knows the expected answers: the judge compares what is emitted here with them.
"""

import json
import re

import numpy as np

import grader_probe as gp

solution = gp.load_solution()

with np.load(gp.data_path("images.npz"), allow_pickle=False) as archive:
    IMAGES = {f"photo_{index:02d}": archive["images"][index] for index in range(len(archive["images"]))}
SETUP = json.loads(gp.read_text("setup.json"))
CAPTION = re.compile(r"^\s*(\d+) (\w+?) (\w+?)s? on the (\w+)\s*$")


class ScriptedBackend:
    """Plays one agent: each reply is a fixed function of the memory it is shown."""

    def __init__(self, script):
        self.script = script
        self.calls = 0

    def complete(self, messages):
        self.calls += 1
        return json.dumps(self.script(list(messages)))


def last_message_from(messages, sender):
    for entry in reversed(messages):
        if entry.get("role") == "user" and entry.get("sender") == sender:
            return entry.get("content", "")
    return None


def coordinator_script(messages):
    last = messages[-1]
    if last.get("role") == "user" and last.get("sender") == "user":
        image_id = re.search(r"photo_\d+", last.get("content", ""))
        return {"tool": "describe_image", "arguments": {"image_id": image_id.group(0) if image_id else ""}}
    if last.get("role") == "tool" and last.get("name") == "describe_image":
        return {"send": "analyst", "content": last.get("content", "")}
    if last.get("role") == "user" and last.get("sender") == "analyst":
        return {"final": last.get("content", "")}
    return {"final": "lost track"}


def analyst_script(messages):
    """Weighs the shapes described in the coordinator's last message; retries a tool that failed."""
    request = CAPTION.match(last_message_from(messages, "coordinator") or "")
    if request is None:
        return {"send": "coordinator", "content": "I could not read the description"}
    count, colour, shape, _side = request.groups()
    last = messages[-1]
    if last.get("role") == "tool" and last.get("name") == "unit_weight":
        content = last.get("content", "")
        if content.startswith("error:"):
            return {"tool": "unit_weight", "arguments": {"colour": colour, "shape": shape}}
        return {"send": "coordinator", "content": str(int(count) * int(content))}
    return {"tool": "unit_weight", "arguments": {"colour": colour, "shape": shape}}


def looping_coordinator_script(messages):
    return {"send": "analyst", "content": "please check once more"}


def looping_analyst_script(messages):
    if messages[-1].get("role") == "tool":
        return {"send": "coordinator", "content": "still not sure"}
    return {"tool": "unit_weight", "arguments": {"colour": "red", "shape": "circle"}}


def unit_weight(colour, shape):
    return SETUP["colour_weights"][colour] * SETUP["shape_weights"][shape]


def flaky(function, failures):
    """The first `failures` calls raise, as a busy service would."""
    calls = {"count": 0}

    def call(**arguments):
        calls["count"] += 1
        if calls["count"] <= failures:
            raise ConnectionError("the weight service is busy, try again")
        return function(**arguments)

    return call


def run_system(captioner, coordinator, analyst, task, max_turns, failures=0):
    backends = {"coordinator": ScriptedBackend(coordinator), "analyst": ScriptedBackend(analyst)}
    weight_tool = solution.Tool("unit_weight", "Weight of one shape of the given colour and shape.",
                                flaky(unit_weight, failures))
    agents = [solution.Agent("coordinator", "You answer the user's question about an image.",
                             backends["coordinator"], [solution.image_tool(captioner, IMAGES)]),
              solution.Agent("analyst", "You compute weights of shapes.", backends["analyst"], [weight_tool])]
    result = solution.MultiAgentSystem(agents, entry="coordinator", max_turns=max_turns).run(task)
    return {"status": result.status, "answer": result.answer, "turns": result.turns, "log": result.log,
            "backend_calls": {name: backend.calls for name, backend in backends.items()},
            "analyst_memory": agents[1].memory}


captioner = None
with gp.step("captioner", timeout_s=30) as s:
    captioner = solution.load_captioner(device=gp.device())
    s.emit("captions", [captioner.caption(IMAGES[image_id]) for image_id in sorted(IMAGES)])

with gp.step("task", timeout_s=20) as s:
    s.emit("runs", [run_system(captioner, coordinator_script, analyst_script, SETUP["task"].format(image_id=image_id),
                               max_turns=SETUP["max_turns"]) for image_id in SETUP["task_images"]])

with gp.step("recovery", timeout_s=20) as s:
    task = SETUP["task"].format(image_id=SETUP["recovery_image"])
    s.emit("run", run_system(captioner, coordinator_script, analyst_script, task, max_turns=SETUP["max_turns"],
                             failures=SETUP["recovery_failures"]))

with gp.step("turn_limit", timeout_s=20) as s:
    task = SETUP["task"].format(image_id=SETUP["recovery_image"])
    s.emit("run", run_system(captioner, looping_coordinator_script, looping_analyst_script, task,
                             max_turns=SETUP["loop_max_turns"]))

gp.done()
