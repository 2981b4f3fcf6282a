"""The trusted driver: the runner's child, in its own process, holding the hidden inputs and the records pipe.

It makes itself non-dumpable (so no other process of the same uid can ptrace it or open its /proc entries), puts the
probe runtime and its channel ahead of everything on the path, then the probe's folder (a probe may be split into
modules beside probe.py), and runs the assignment's probe, which starts the
student's process through `grader_probe.load_solution()`. No student code is ever imported here.
"""

import os
import runpy
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from runner import make_undumpable  # noqa: E402

make_undumpable()
probe = os.environ["GRADER_PROBE"]
sys.path.insert(1, probe)  # a probe may import helper modules beside it, after the runtime's (which they cannot shadow)
runpy.run_path(os.path.join(probe, "probe.py"), run_name="__main__")
