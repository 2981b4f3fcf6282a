"""Intake, batch discovery and the plagiarism detector read a submission by the same rules (grader/submission_files.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.batch.discover import discover
from grader.domain.assignment import Assignment
from grader.intake import IntakeCaps, Rejected, accept
from grader.plagiarism.notebook import notebook_code
from grader.plagiarism.submissions import ReadLimits, load_folder, read_entry

CAPS = IntakeCaps(max_upload_bytes=2_000_000, max_files=50, max_expanded_bytes=5_000_000, max_compression_ratio=100)
ASSIGNMENT = Assignment(id="p1", title="t")
NOTEBOOK = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("%matplotlib inline\nimport model\nmodel.fit()")])

# A project zipped on a Mac with its folder, a notebook, binary data, and two virtual environments inside.
TRICKY = {
    "project/solution.py": "from model import fit\n\nprint(fit())\n",
    "project/model.py": "def fit():\n    return 42\n",
    "project/analysis.ipynb": nbformat.writes(NOTEBOOK),
    "project/data/table.npy": b"\x93NUMPY\xff\xfe latin-1 \xe9",
    "__MACOSX/project/._solution.py": b"\x00\x05\x16\x07\xff\xfe not UTF-8",
    "project/.DS_Store": b"\x00\x00\x00\x01Bud1\xff",
    "project/env/pyvenv.cfg": "home = /usr/bin\n",
    "project/env/lib/python3.11/site-packages/requests/__init__.py": "def get(url):\n    pass\n",
    "project/.venv/lib/python3.11/site-packages/six.py": "PY3 = True\n",
}
READ_SOURCES = {"analysis.ipynb", "model.py", "solution.py"}


def write_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def intake_tree(source: Path, tmp_path: Path, name: str) -> Path:
    tree = tmp_path / f"tree-{name}"
    tree.mkdir()
    accept(source, source.name, ASSIGNMENT, CAPS, tree)
    return tree


def code_in_tree(tree: Path) -> dict[str, str]:
    """What intake's tree holds as Python: .py files, and the code cells of notebooks."""
    code = {}
    for path in sorted(tree.rglob("*")):
        relative = path.relative_to(tree).as_posix()
        if path.suffix == ".py":
            code[relative] = path.read_text(encoding="utf-8")
        elif path.suffix == ".ipynb":
            code[relative] = notebook_code(path.read_text(encoding="utf-8"))
    return code


def test_intake_leaves_out_the_mac_litter_and_the_virtual_environments_and_lifts_the_project_folder(tmp_path):
    tree = intake_tree(write_zip(tmp_path / "tricky.zip", TRICKY), tmp_path, "zip")

    files = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    assert files == ["analysis.ipynb", "data/table.npy", "model.py", "solution.py"]


def test_plagiarism_reads_a_tricky_zip_as_the_code_of_intakes_tree(tmp_path):
    source = write_zip(tmp_path / "tricky.zip", TRICKY)
    tree = intake_tree(source, tmp_path, "zip")

    read = {file.path: file.code for file in read_entry(source, ReadLimits(upload=CAPS))}

    assert set(read) == READ_SOURCES
    assert read == code_in_tree(tree)


def test_plagiarism_reads_the_same_project_as_a_folder_as_intake_does(tmp_path):
    folder = tmp_path / "cohort" / "ada"
    for name, content in TRICKY.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    tree = intake_tree(folder, tmp_path, "folder")

    [submitted], skipped = load_folder(folder.parent, limits=ReadLimits(upload=CAPS))

    assert skipped == []
    assert {file.path: file.code for file in submitted.files} == code_in_tree(tree)
    assert set(code_in_tree(tree)) == READ_SOURCES


def test_batch_unpacks_an_lms_export_so_intake_reads_each_student_as_from_their_own_zip(tmp_path):
    moodle = "P1 submissions/Ada Lovelace_1001_assignsubmission_file_/"
    export = write_zip(
        tmp_path / "export.zip",
        {
            **{moodle + name: content for name, content in TRICKY.items() if not name.startswith("__MACOSX")},
            "__MACOSX/P1 submissions/._Ada Lovelace_1001_assignsubmission_file_": b"\x00\x05\x16\x07\xff",
            "P1 submissions/.DS_Store": b"\x00\x00\x00\x01Bud1\xff",
        },
    )
    direct = intake_tree(write_zip(tmp_path / "tricky.zip", TRICKY), tmp_path, "zip")

    [entry] = discover(export, tmp_path / "work", 10**7)
    graded = intake_tree(entry.path, tmp_path, "batch")

    assert entry.student == "1001"
    assert code_in_tree(graded) == code_in_tree(direct)
    [submitted], skipped = load_folder(entry.path.parent, limits=ReadLimits(upload=CAPS))
    assert skipped == [] and {file.path: file.code for file in submitted.files} == code_in_tree(graded)


@pytest.mark.parametrize(
    "name, content",
    [
        ("project/helpers.py", "name = 'café'\n".encode("latin-1")),
        ("project/README.md", "résumé\n".encode("latin-1")),
    ],
)
def test_a_submission_intake_refuses_is_skipped_by_plagiarism_with_intakes_reason(tmp_path, name, content):
    (tmp_path / "cohort").mkdir()
    source = write_zip(tmp_path / "cohort" / "tricky.zip", {**TRICKY, name: content})
    with pytest.raises(Rejected) as refused:
        intake_tree(source, tmp_path, "zip")

    submitted, skipped = load_folder(tmp_path / "cohort", limits=ReadLimits(upload=CAPS))

    assert submitted == []
    assert [(item.name, item.reason) for item in skipped] == [("tricky.zip", str(refused.value))]
    assert "is not UTF-8 text" in str(refused.value)
