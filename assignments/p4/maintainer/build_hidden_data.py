"""Regenerate project 4's hidden data: images for the probe, their captions and the task answers for the judge.

    python assignments/p4/maintainer/build_hidden_data.py

Deterministic: the hidden seed differs from the seeds the handout trains (0) and validates (1) on.
The probe gets only pixels and the task setup; captions and answers go to the judge.
"""

from __future__ import annotations

import importlib.util
import io
import json
import sys
from pathlib import Path

import numpy as np

ASSIGNMENT = Path(__file__).resolve().parent.parent
HIDDEN_SEED = 20261129
HIDDEN_IMAGES = 80
SETUP = {
    "task": "Look at image {image_id} and ask the analyst for the total weight of the shapes in it.",
    "task_images": ["photo_07", "photo_31", "photo_64"],
    "recovery_image": "photo_52",
    "recovery_failures": 1,
    "max_turns": 12,
    "loop_max_turns": 9,
    "colour_weights": {"red": 3, "green": 5, "blue": 7, "yellow": 11},
    "shape_weights": {"circle": 2, "square": 4, "triangle": 13},
}


def load_shapes():
    spec = importlib.util.spec_from_file_location("p4_shapes", ASSIGNMENT / "starter" / "shapes.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def hidden_images() -> tuple[np.ndarray, list]:
    return load_shapes().make_dataset(HIDDEN_IMAGES, HIDDEN_SEED)


def expected_answer(scene) -> str:
    return str(scene.count * SETUP["colour_weights"][scene.colour] * SETUP["shape_weights"][scene.shape])


def judge_expectations(scenes: list) -> dict:
    by_id = {f"photo_{index:02d}": scene for index, scene in enumerate(scenes)}
    return {
        "captions": [scene.caption() for scene in scenes],
        "task_answers": [expected_answer(by_id[image_id]) for image_id in SETUP["task_images"]],
        "recovery_failures": SETUP["recovery_failures"],
        "max_turns": SETUP["max_turns"],
        "loop_max_turns": SETUP["loop_max_turns"],
    }


def images_npz(images: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, images=images)
    return buffer.getvalue()


def main() -> None:
    images, scenes = hidden_images()
    probe_data = ASSIGNMENT / "hidden_tests" / "probe" / "data"
    probe_data.mkdir(parents=True, exist_ok=True)
    (probe_data / "images.npz").write_bytes(images_npz(images))
    (probe_data / "setup.json").write_text(json.dumps(SETUP, indent=1) + "\n")
    expectations = ASSIGNMENT / "hidden_tests" / "judge" / "expected.json"
    expectations.write_text(json.dumps(judge_expectations(scenes), indent=1) + "\n")
    print(f"wrote {probe_data} and {expectations}")


if __name__ == "__main__":
    main()
