"""A probe run's folders for runtime tests: the probe, and the student's `solution.py` or `solution.ipynb`."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

from grader.domain.assignment import Limits
from grader.sandbox.base import RunSpec


def probe_run_spec(
    tmp_path: Path, probe: str, *, limits: Limits, student: str | None = None, notebook: Any = None, **spec_fields: Any
) -> RunSpec:
    """Write `probe` and the student's code (`student` as a dedented module, or an nbformat `notebook`) under
    `tmp_path`; the spec that runs them with seed 1."""
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "probe.py").write_text(probe)
    (tmp_path / "submission").mkdir()
    if notebook is not None:
        import nbformat

        nbformat.write(notebook, str(tmp_path / "submission" / "solution.ipynb"))
        entry, kind = "solution.ipynb", "notebook"
    else:
        (tmp_path / "submission" / "solution.py").write_text(textwrap.dedent(student or ""))
        entry, kind = "solution.py", "module"
    return RunSpec(
        submission_tree=tmp_path / "submission",
        entry=entry,
        entry_kind=kind,
        probe_dir=tmp_path / "probe",
        limits=limits,
        seed=1,
        **spec_fields,
    )
