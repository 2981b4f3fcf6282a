"""Child process of the runner for a notebook submission.

Executes the notebook's cells in order with nbclient (a real IPython kernel), each under its own timeout. A failing or
hung cell is recorded and execution goes on, so the probe can still grade what the other cells defined. Policy: shell
escapes (`!cmd`) and IPython magics (`%`, `%%`) are not run; their lines are skipped and reported, because the sandbox
has no network to install from and a magic can run arbitrary shells. The probe then runs in the same kernel, against
the notebook's namespace. Per-cell results go to $GRADER_OUT/_notebook.json.
"""

import json
import os
import sys

import nbformat
from nbclient import NotebookClient

OUT = os.environ["GRADER_OUT"]
CELL_TIMEOUT = float(os.environ.get("GRADER_CELL_TIMEOUT", "60"))
TIME_LIMIT = float(os.environ.get("GRADER_TIME_LIMIT", "120"))


def strip_magics(source: str) -> tuple[str, bool]:
    kept, skipped = [], False
    for line in source.splitlines():
        if line.lstrip().startswith(("!", "%")):
            kept.append("pass  # skipped by the grader: " + line.strip()[:60].replace("\n", " "))
            skipped = True
        else:
            kept.append(line)
    return "\n".join(kept), skipped


def cell_outcome(cell) -> tuple[str, str]:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            if output.get("ename") == "KeyboardInterrupt":
                return "timeout", f"the cell ran longer than {CELL_TIMEOUT:g} s and was interrupted"
            return "error", f"{output.get('ename')}: {str(output.get('evalue'))[:300]}"
    return "ok", ""


def echo_streams(cell) -> None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            target = sys.stderr if output.get("name") == "stderr" else sys.stdout
            target.write(output.get("text", ""))


def probe_cell() -> nbformat.NotebookNode:
    runtime, probe = os.environ["GRADER_RUNTIME"], os.environ["GRADER_PROBE"]
    source = (
        "import sys as _grader_sys, runpy as _grader_runpy\n"
        f"_grader_sys.path.insert(0, {runtime!r})\n"
        f"_grader_sys.path.append({os.environ['GRADER_SUBMISSION']!r})\n"
        "import grader_probe as _grader_probe\n"
        "_grader_probe.set_notebook_namespace({k: v for k, v in globals().items() if not k.startswith('_')})\n"
        f"_grader_runpy.run_path({os.path.join(probe, 'probe.py')!r}, run_name='__main__')\n"
    )
    return nbformat.v4.new_code_cell(source)


def main() -> None:
    notebook = nbformat.read(os.path.join(os.environ["GRADER_SUBMISSION"], "solution.ipynb"), as_version=4)
    student_cells = list(notebook.cells)
    setup = nbformat.v4.new_code_cell(f"import sys\nsys.path.append({os.environ['GRADER_SUBMISSION']!r})")
    final = probe_cell()
    notebook.cells = [setup, *student_cells, final]
    client = NotebookClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            interrupt_on_timeout=True, record_timing=False,
                            resources={"metadata": {"path": os.environ.get("HOME", ".")}},
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    records = []
    with client.setup_kernel():
        client.execute_cell(setup, 0)
        for index, cell in enumerate(student_cells, start=1):
            if cell.cell_type != "code":
                continue
            cell.source, skipped = strip_magics(cell.source)
            client.execute_cell(cell, index)
            status, message = cell_outcome(cell)
            if skipped and status == "ok":
                message = "shell escapes and magics were skipped"
            records.append({"index": index - 1, "status": status, "message": message})
            echo_streams(cell)
        with open(os.path.join(OUT, "_notebook.json"), "w", encoding="utf-8") as handle:
            json.dump({"cells": records}, handle)
        client.timeout = max(TIME_LIMIT, CELL_TIMEOUT)
        client.execute_cell(final, len(notebook.cells) - 1)
        echo_streams(final)
        status, message = cell_outcome(final)
        if status != "ok":
            print(f"the grader's checks stopped early: {message}", file=sys.stderr)


if __name__ == "__main__":
    main()
