"""Hidden probe of p1. It runs in the sandbox's trusted driver, never in the student's process: `solution` and every
model built from it are remote objects, called over the grader's channel. The probe chooses every input, times every
call with its own clock, and computes what is verified (held-out log-probabilities, parameter counts, weight changes)
from raw outputs; it decides nothing, the judge compares on the host.

Every step builds what it needs itself, so one broken function fails only the checks that use it. The steps live
beside this file, one module per part of the handout; they run in this order.
"""

import checkpoint_steps
import generation_steps
import grader_probe as gp
import model_steps
import text_steps
import torch
import training_steps

# One thread, here and in the student's process: step durations, and how much a time budget allows, must not depend
# on how busy other cores are (the handout promises one CPU thread).
torch.set_num_threads(1)
gp.use_torch_threads(1)
solution = gp.load_solution()

for steps in (text_steps, model_steps, checkpoint_steps, generation_steps, training_steps):
    steps.run(solution)

gp.done()
