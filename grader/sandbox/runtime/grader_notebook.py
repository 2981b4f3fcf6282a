"""A notebook submission, run from the trusted driver: the kernel is the student's process, nbclient is ours.

The kernel starts as the student's uid (in Docker) and runs the student's code cells in order, each under its own
limit; a failing or hung cell is recorded and execution goes on. Like a probe step, a cell (and all the cells together)
is charged CPU seconds of the kernel and its children (`grader_step_budget`), so a busy host cannot interrupt a correct
cell; a cell that waits instead is stopped by nbclient's own timeout, set to the wall cap (the CPU limit times
`GRADER_STEP_WALL_CAP_FACTOR`). The cell report is sent as a record after every cell, so it survives a later timeout or
kill. Then one last cell turns the kernel into the student's end of the channel (`grader_student.serve_notebook`),
with the notebook's globals standing in for solution.py.

Policy, applied by IPython's own parser (the kernel's input transformers), never by editing the student's lines:
shell escapes (`!cmd`, `x = !cmd`, `get_ipython().system(...)`, `%%bash`, `%sx`, ...) and package installs are not
run, since the sandbox has no network and a shell is no part of an answer; a small set of harmless magics runs as in
Jupyter (ALLOWED_MAGICS); every other magic is skipped. Cells with skipped parts are reported `skipped`.
"""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import socket
import sys
import tempfile
import threading

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

import grader_records as records
from grader_channel import Connection
from grader_remote import StudentGone
from grader_step_budget import WATCH_SLICE_S, CpuBudget, Passed, configured_clock, configured_wall_cap_factor

CELL_TIMEOUT = float(os.environ.get("GRADER_CELL_TIMEOUT", "60"))  # CPU seconds of one cell
# All the student's cells together, in CPU seconds: what is left of the run's time is the grader's, so a long sweep in
# the notebook can never take the checks' time (cells past the budget are reported, not run).
CELLS_BUDGET = float(os.environ.get("GRADER_CELLS_BUDGET", "60"))
MIN_CELL_S = 1.0  # a cell is not started with less CPU time (or wall-clock time) than this left to the cells
CONNECT_TIMEOUT_S = 60.0
MAX_CELL_OUTPUT_CHARS = 64 * 1024  # what a cell's outputs may hold in the driver's memory: the rest is dropped
ALLOWED_MAGICS = ("time", "timeit", "matplotlib", "capture", "writefile", "load_ext", "autoreload", "precision")
IPYTHON_FILE = re.compile(r"\S*ipykernel_\d+/\d+\.py|<ipython-input-[^>]*>|(?<=\()\d+\.py(?=, line )")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
MISSING_NAME = re.compile(r"^module 'solution' has no attribute '(\w+)'$")
# Names defined by cells that failed or did not run, and why: a check that cannot find one names the cell instead.
FAILED_DEFINITIONS: dict[str, str] = {}
IPYTHON_CALL = re.compile(r"get_ipython\(\)\.(system|getoutput|run_line_magic|run_cell_magic)\(\s*(['\"])([^'\"]*)")

# Runs first in the kernel: shell escapes and magics outside the allowed set do nothing there, whatever line form
# the student used, because IPython's parser routes them all through these four methods.
POLICY_CELL = f"""
def _grader_apply_policy():
    import sys
    from IPython.utils.text import SList
    shell = get_ipython()
    allowed = {ALLOWED_MAGICS!r}
    line_magic, cell_magic = shell.run_line_magic, shell.run_cell_magic
    def skipped(what):
        print(f"[grader] not run when grading: {{what}}", file=sys.stderr)
    def system(command, *args, **kwargs):
        skipped("!" + str(command)[:60])
    def getoutput(command, *args, **kwargs):
        skipped("!" + str(command)[:60])
        return SList()
    def run_line_magic(name, line, _stack_depth=1):
        if name in allowed:
            return line_magic(name, line, _stack_depth + 1)
        skipped("%" + name)
    def run_cell_magic(name, line, cell):
        if name in allowed:
            return cell_magic(name, line, cell)
        skipped("%%" + name)
    shell.system, shell.system_raw, shell.getoutput = system, system, getoutput
    shell.run_line_magic, shell.run_cell_magic = run_line_magic, run_cell_magic
_grader_apply_policy()
del _grader_apply_policy
"""


class StudentKernelManager(AsyncKernelManager):
    """jupyter_client writes the connection file for its owner only; the kernel, as the student's uid, must read it."""

    async def _async_pre_start_kernel(self, **kw):
        command, kw = await super()._async_pre_start_kernel(**kw)
        os.chmod(self.connection_file, 0o644)
        return command, kw


class CappedClient(NotebookClient):
    """nbclient keeps each cell's outputs in memory: keep at most MAX_CELL_OUTPUT_CHARS of them; echo them to the
    logs."""

    def output(self, outs, msg, display_id, cell_index):
        size = sum(len(json.dumps(out)) for out in outs)
        if size > MAX_CELL_OUTPUT_CHARS:
            return None
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None and out.get("output_type") == "stream":
            target = sys.stderr if out.get("name") == "stderr" else sys.stdout
            target.write(str(out.get("text", ""))[:MAX_CELL_OUTPUT_CHARS])
            target.flush()
        elif out is not None and out.get("output_type") == "error":  # the traceback, as Jupyter shows it, in the logs
            traceback = ANSI_ESCAPE.sub("", "\n".join(str(line) for line in out.get("traceback", [])))
            sys.stderr.write(traceback[:MAX_CELL_OUTPUT_CHARS] + "\n")
            sys.stderr.flush()
        return out


def skipped_parts(source: str) -> list[str]:
    """Which shell escapes and magics of a cell the policy does not run, as IPython itself parses the cell."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        code = TransformerManager().transform_cell(source)
    except Exception:  # IPython cannot parse it either: the kernel will report the syntax error
        return []
    parts = []
    for method, _quote, name in IPYTHON_CALL.findall(code):
        if method in ("system", "getoutput"):
            parts.append("!" + name[:40])
        elif name not in ALLOWED_MAGICS:
            parts.append(("%%" if method == "run_cell_magic" else "%") + name)
    return parts


class CellWatch:
    """One cell's limits while it runs: a thread interrupts the kernel, as nbclient does on its timeout, once the cell
    has used more CPU than `budget.cpu_s`; nbclient's own timeout is the wall cap."""

    def __init__(self, budget: CpuBudget, kernel: int | None) -> None:
        self.budget = budget
        self.kernel = kernel
        self.interrupted_on_cpu = False
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def __enter__(self) -> "CellWatch":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.thread.join()

    def watch(self) -> None:
        while not self.done.wait(WATCH_SLICE_S):
            if self.budget.passed() == "cpu":
                self.interrupted_on_cpu = True
                interrupt(self.kernel)
                return

    def passed(self) -> Passed:
        return "cpu" if self.interrupted_on_cpu else "wall"


def interrupt(kernel: int | None) -> None:
    """SIGINT to the kernel's process group, as jupyter_client's local provisioner interrupts it."""
    if kernel is None:
        return
    try:
        os.killpg(kernel, signal.SIGINT)
    except ProcessLookupError:  # it ended meanwhile
        pass


def cell_outcome(cell, watch: CellWatch, wall_cap_s: float, shared_left: bool) -> tuple[str, str]:
    """The cell's status and message; `shared_left`: its limits were what was left of the cells' budget together."""
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            if output.get("ename") == "KeyboardInterrupt":
                return "timeout", timeout_message(watch, wall_cap_s, shared_left)
            return "error", f"{output.get('ename')}: {str(output.get('evalue'))[:300]}"
    return "ok", ""


def timeout_message(watch: CellWatch, wall_cap_s: float, shared_left: bool) -> str:
    budget = watch.budget
    limit = (f"the {budget.cpu_s:.1f} s left of the {CELLS_BUDGET:g} s of CPU time the notebook's cells have together"
             if shared_left else f"its limit of {budget.cpu_s:g} s of CPU time")
    if watch.passed() == "cpu":
        return (f"the cell used {budget.used_cpu_s():.1f} s of CPU time, over {limit}, and was interrupted: make it "
                "do less work (fewer steps, a smaller sweep) or vectorise it")
    return (f"the cell ran for {budget.wall_s():.0f} s of wall-clock time, past its cap of {wall_cap_s:g} s "
            f"(a multiple of {limit}), while it used only {budget.used_cpu_s():.1f} s of CPU, and was interrupted: it "
            "was waiting (sleep, input(), a lock or a network call). Do not block: the sandbox has no network and no "
            "keyboard")


def start(student) -> None:
    """Run the notebook's cells in a kernel of the student's, then attach the kernel to `student` as its process."""
    submission = os.environ["GRADER_SUBMISSION"]
    notebook = nbformat.read(os.path.join(submission, "solution.ipynb"), as_version=4)
    client = CappedClient(notebook, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                          interrupt_on_timeout=True, record_timing=False, kernel_manager_class=StudentKernelManager,
                          extra_arguments=["--IPKernelApp.log_level=ERROR"])
    client.km = client.create_kernel_manager()
    runtime_dir = tempfile.mkdtemp(prefix="kernel-")
    os.chmod(runtime_dir, 0o755)
    client.km.connection_file = os.path.join(runtime_dir, "kernel.json")
    from grader_probe import student_environment, student_identity

    client.start_new_kernel(env=student_environment(), cwd=os.environ.get("GRADER_WORKDIR"), **student_identity())
    client.start_new_kernel_client()

    def stop() -> int | None:
        try:
            run_sync(client.km.shutdown_kernel)(now=True)  # nbclient's kernel manager is asynchronous
        except Exception:  # the kernel is gone already
            pass
        return None

    try:
        run_cells(client, notebook, kernel_pid(client))
        student.attach(serve_from_kernel(client, submission), stop, kernel_pid(client))
    except BaseException:
        stop()
        raise


def kernel_pid(client: NotebookClient) -> int | None:
    """The kernel's process id (jupyter_client's local provisioner starts it in a session of its own)."""
    return getattr(getattr(client.km, "provisioner", None), "pid", None)


def run_cells(client: NotebookClient, notebook, kernel: int | None) -> None:
    submission = os.environ["GRADER_SUBMISSION"]
    runtime = os.path.dirname(os.path.abspath(__file__))
    setup = nbformat.v4.new_code_cell(POLICY_CELL + f"import sys\nsys.path.append({runtime!r})\n"
                                      "import grader_student\ngrader_student.limit_gpu_memory()\n"
                                      f"del grader_student\nsys.path.insert(0, {submission!r})")
    notebook.cells.insert(0, setup)  # nbclient routes outputs by the cell's index in its notebook
    client.execute_cell(setup, 0)
    report = []
    clock = configured_clock(lambda: kernel)
    wall_cap_factor = configured_wall_cap_factor()
    cells = CpuBudget(CELLS_BUDGET, wall_cap_factor, clock)
    code_cells = [(index, cell) for index, cell in enumerate(notebook.cells[1:]) if cell.cell_type == "code"]
    for number, (index, cell) in enumerate(code_cells, start=1):
        # Numbered as Jupyter numbers a fresh top-to-bottom run (In [n]), not by position among markdown cells.
        entry = {"index": index, "label": f"code cell {number}", "first_line": first_line(cell.source)}
        left_cpu = CELLS_BUDGET - cells.used_cpu_s()
        left_wall = cells.wall_cap_s - cells.wall_s()
        if left_cpu < MIN_CELL_S or left_wall < MIN_CELL_S:
            report.append({**entry, "status": "skipped", "message": (
                f"not run: the notebook's cells had used their {CELLS_BUDGET:g} s together (of CPU time, or "
                f"{cells.wall_cap_s:g} s of wall-clock time): make the earlier cells do less work")})
            FAILED_DEFINITIONS.update(dict.fromkeys(defined_names(cell.source), f"{entry['label']}, which was not run"))
            continue
        skipped = skipped_parts(cell.source)
        budget = CpuBudget(min(CELL_TIMEOUT, left_cpu), wall_cap_factor, clock)
        client.timeout = max(1, int(min(budget.wall_cap_s, left_wall)))  # nbclient's timeout: the wall cap
        try:
            with CellWatch(budget, kernel) as watch:
                client.execute_cell(cell, index + 1)
        except DeadKernelError:
            report.append({**entry, "status": "error", "message": "the kernel died while this cell ran"})
            send_report(report)
            raise StudentGone(f"the notebook's kernel died while {entry['label']} ran (did it call exit?)") from None
        shared_left = budget.cpu_s < CELL_TIMEOUT or client.timeout < budget.wall_cap_s
        status, message = cell_outcome(cell, watch, client.timeout, shared_left)
        if skipped and status == "ok":
            status, message = "skipped", "not run when grading: " + ", ".join(skipped)
        report.append({**entry, "status": status, "message": name_the_cell(message, entry["label"])})
        if status in ("error", "timeout"):
            FAILED_DEFINITIONS.update(dict.fromkeys(defined_names(cell.source), f"{entry['label']}, which failed"))
        cell.outputs = []  # echoed already; nothing later reads them
        send_report(report)
    send_report(report)


def first_line(source: str) -> str:
    return next((line.strip()[:80] for line in source.splitlines() if line.strip()), "")


def name_the_cell(message: str, label: str) -> str:
    """A syntax error names IPython's temporary file (ipykernel_12/3456.py, or its base name): name the cell."""
    return IPYTHON_FILE.sub(label, message)


def defined_names(source: str) -> list[str]:
    """The top-level names a cell defines (def, class, assignment), as IPython itself would run it."""
    from IPython.core.inputtransformer2 import TransformerManager

    try:
        tree = ast.parse(TransformerManager().transform_cell(source))
    except (SyntaxError, ValueError):
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [target.id for target in targets if isinstance(target, ast.Name)]
    return names


def explained(error: dict) -> dict:
    """'module solution has no attribute generate' becomes which cell should have defined it and what went wrong."""
    missing = MISSING_NAME.match(str(error.get("message", "")))
    if error.get("type") != "AttributeError" or missing is None or missing.group(1) not in FAILED_DEFINITIONS:
        return error
    where = FAILED_DEFINITIONS[missing.group(1)]
    return {**error, "message": f"{missing.group(1)} is defined in {where} (see the notebook's cell report)"}


def send_report(report: list[dict]) -> None:
    """The cell report so far, sent as each cell ends: it survives any later timeout or kill."""
    records.send("_notebook.json", json.dumps({"cells": report}).encode("utf-8"))


def serve_from_kernel(client: NotebookClient, submission: str) -> Connection:
    """The last cell connects the kernel back to a socket only this run knows of, and serves the probe's requests."""
    folder = tempfile.mkdtemp(prefix="channel-")
    os.chmod(folder, 0o755)
    path = os.path.join(folder, "socket")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o777)
    listener.listen(1)
    runtime = os.path.dirname(os.path.abspath(__file__))
    code = (f"import sys as _grader_sys\n_grader_sys.path.insert(0, {runtime!r})\n"
            "import grader_student as _grader_host\n"
            f"_grader_host.serve_notebook(globals(), {path!r}, {submission!r})\n")
    client.kc.execute(code, store_history=False)  # not awaited: it serves until the driver says exit
    listener.settimeout(CONNECT_TIMEOUT_S)
    try:
        sock, _ = listener.accept()
    except socket.timeout:
        raise ConnectionError("the notebook's kernel did not answer after its cells ran") from None
    finally:
        listener.close()
    return Connection(sock)
