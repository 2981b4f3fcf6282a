"""Child process of the runner for a module submission: makes the probe runtime importable, then runs the probe."""

import os
import runpy
import sys

sys.path.insert(0, os.environ["GRADER_RUNTIME"])  # ahead of everything: a submission cannot shadow grader_probe
runpy.run_path(os.path.join(os.environ["GRADER_PROBE"], "probe.py"), run_name="__main__")
