"""Intake refuses bad uploads with a specific message before anything runs, and normalises good ones."""

from __future__ import annotations

import hashlib
import io
import json
import os
import zipfile
from pathlib import Path

import nbformat
import pytest

from grader.domain.assignment import Assignment
from grader.intake import IntakeCaps, Rejected, accept

CAPS = IntakeCaps(max_upload_bytes=2_000_000, max_files=20, max_expanded_bytes=5_000_000, max_compression_ratio=100)
ASSIGNMENT = Assignment(id="p1", title="t")
SOLUTION = "def add(a, b):\n    return a + b\n"


def make_zip(path: Path, members: dict[str, bytes | str], *, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = 0o120777 << 16
            archive.writestr(info, "/etc/passwd")
    return path


def run_accept(
    tmp_path: Path, source: Path, name: str | None = None, assignment: Assignment = ASSIGNMENT, caps: IntakeCaps = CAPS
):
    tree = tmp_path / "tree"
    tree.mkdir(exist_ok=True)
    return accept(source, name or source.name, assignment, caps, tree), tree


def test_lone_py_is_taken_as_solution_py_whatever_its_name(tmp_path):
    source = tmp_path / "my_homework.py"
    source.write_text(SOLUTION)
    accepted, tree = run_accept(tmp_path, source)
    assert accepted.kind == "py" and accepted.entry_kind == "module"
    assert (tree / "solution.py").read_text() == SOLUTION


def test_zip_with_single_top_folder_is_lifted_to_the_root(tmp_path):
    source = make_zip(tmp_path / "s.zip", {"project/solution.py": SOLUTION, "project/helpers/util.py": "X = 1\n"})
    accepted, tree = run_accept(tmp_path, source)
    assert (tree / "solution.py").is_file() and (tree / "helpers" / "util.py").is_file()
    assert accepted.kind == "zip"


def test_identical_bytes_give_identical_sha256(tmp_path):
    first, second = tmp_path / "a.py", tmp_path / "b.py"
    first.write_text(SOLUTION)
    second.write_text(SOLUTION)
    (tmp_path / "t1").mkdir()
    (tmp_path / "t2").mkdir()
    assert (
        accept(first, "a.py", ASSIGNMENT, CAPS, tmp_path / "t1").sha256
        == accept(second, "b.py", ASSIGNMENT, CAPS, tmp_path / "t2").sha256
    )


@pytest.mark.parametrize("name", ["../evil.py", "project/../../evil.py"])
def test_zip_slip_is_rejected(tmp_path, name):
    source = make_zip(tmp_path / "s.zip", {"solution.py": SOLUTION, name: "x"})
    with pytest.raises(Rejected, match="climbs out of the project"):
        run_accept(tmp_path, source)


def test_absolute_path_in_zip_is_rejected(tmp_path):
    source = make_zip(tmp_path / "s.zip", {"solution.py": SOLUTION, "/etc/cron.d/evil": "x"})
    with pytest.raises(Rejected, match="absolute path"):
        run_accept(tmp_path, source)


def test_symlink_in_zip_is_rejected(tmp_path):
    source = make_zip(tmp_path / "s.zip", {"solution.py": SOLUTION}, symlink="link.txt")
    with pytest.raises(Rejected, match="symbolic link"):
        run_accept(tmp_path, source)


def test_symlink_in_folder_is_rejected(tmp_path):
    folder = tmp_path / "sub"
    folder.mkdir()
    (folder / "solution.py").write_text(SOLUTION)
    os.symlink("/etc/passwd", folder / "passwd.txt")
    with pytest.raises(Rejected, match="symbolic link"):
        run_accept(tmp_path, folder)


def test_zip_bomb_is_rejected_by_its_real_expanded_size(tmp_path):
    source = make_zip(tmp_path / "bomb.zip", {"solution.py": SOLUTION, "data.txt": b"0" * 6_000_000})
    with pytest.raises(Rejected, match="zip bomb"):
        run_accept(tmp_path, source)


def test_too_many_files_is_rejected(tmp_path):
    source = make_zip(tmp_path / "many.zip", {"solution.py": SOLUTION, **{f"f{i}.txt": "x" for i in range(30)}})
    with pytest.raises(Rejected, match="entries; the limit is 20"):
        run_accept(tmp_path, source)


def test_oversized_upload_is_rejected(tmp_path):
    source = tmp_path / "big.py"
    source.write_text("x = 1\n" * 400_000)
    with pytest.raises(Rejected, match="the limit is 2.0 MB"):
        run_accept(tmp_path, source)


def test_non_utf8_source_is_rejected(tmp_path):
    source = tmp_path / "latin.py"
    source.write_bytes("s = 'caf\u00e9'\n".encode("latin-1"))
    with pytest.raises(Rejected, match="is not UTF-8 text"):
        run_accept(tmp_path, source)


def test_undecodable_file_name_in_zip_is_rejected(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("solution.py", SOLUTION)
        info = zipfile.ZipInfo("placeholder.txt")
        archive.writestr(info, "x")
    raw = buffer.getvalue().replace(b"placeholder.txt", b"plac\xff\xfeolder.txt")
    source = tmp_path / "names.zip"
    source.write_bytes(raw)
    with pytest.raises(Rejected, match="not valid UTF-8"):
        run_accept(tmp_path, source)


def test_file_that_is_not_a_zip_is_rejected(tmp_path):
    source = tmp_path / "fake.zip"
    source.write_text("this is not a zip")
    with pytest.raises(Rejected, match="not a valid zip archive"):
        run_accept(tmp_path, source)


def test_wrong_file_type_is_rejected(tmp_path):
    source = tmp_path / "essay.docx"
    source.write_bytes(b"PK\x03\x04")
    with pytest.raises(Rejected, match="wrong file type '.docx'"):
        run_accept(tmp_path, source)


def test_compiled_file_inside_zip_is_rejected(tmp_path):
    source = make_zip(tmp_path / "s.zip", {"solution.py": SOLUTION, "native.so": b"\x7fELF"})
    with pytest.raises(Rejected, match=r"file type this assignment does not accept \(.so\)"):
        run_accept(tmp_path, source)


def test_invalid_notebook_is_rejected(tmp_path):
    source = tmp_path / "broken.ipynb"
    source.write_text(json.dumps({"cells": "not a list", "nbformat": 4, "nbformat_minor": 5, "metadata": {}}))
    with pytest.raises(Rejected, match="not a (valid|readable)"):
        run_accept(tmp_path, source)


def test_notebook_that_is_not_json_is_rejected(tmp_path):
    source = tmp_path / "broken.ipynb"
    source.write_text("{ not json")
    with pytest.raises(Rejected, match="not a readable Jupyter notebook"):
        run_accept(tmp_path, source)


def test_old_v3_notebook_is_converted_and_accepted(tmp_path):
    v3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {"name": ""},
        "worksheets": [
            {
                "cells": [
                    {"cell_type": "code", "input": SOLUTION, "language": "python", "outputs": [], "metadata": {}}
                ],
                "metadata": {},
            }
        ],
    }
    source = tmp_path / "old.ipynb"
    source.write_text(json.dumps(v3))
    accepted, tree = run_accept(tmp_path, source)
    notebook = nbformat.read(tree / "solution.ipynb", as_version=4)
    assert accepted.entry_kind == "notebook" and notebook.cells[0].source.strip() == SOLUTION.strip()


@pytest.mark.parametrize("minor", [0, 4])
def test_a_notebook_declaring_an_older_v4_with_cell_ids_is_accepted_as_jupyter_opens_it(tmp_path, minor):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(SOLUTION)]
    document = json.loads(nbformat.writes(notebook))
    document["nbformat_minor"] = minor
    source = tmp_path / "ids.ipynb"
    source.write_text(json.dumps(document))
    accepted, tree = run_accept(tmp_path, source)
    stored = nbformat.read(tree / "solution.ipynb", as_version=4)
    assert accepted.entry_kind == "notebook" and stored.cells[0].source == SOLUTION


def test_zip_without_entry_names_what_it_found(tmp_path):
    source = make_zip(tmp_path / "s.zip", {"main.py": SOLUTION})
    with pytest.raises(Rejected, match=r"solution.py was not found .*found: main.py"):
        run_accept(tmp_path, source)


def test_submission_kind_the_assignment_does_not_accept_is_rejected(tmp_path):
    source = tmp_path / "solution.py"
    source.write_text(SOLUTION)
    zip_only = Assignment(id="p5", title="t", kinds=("zip", "folder"), entry="README.md")
    with pytest.raises(Rejected, match="does not accept a py submission"):
        run_accept(tmp_path, source, assignment=zip_only)


def test_empty_submission_is_rejected(tmp_path):
    source = tmp_path / "empty.py"
    source.write_text("")
    with pytest.raises(Rejected, match="empty"):
        run_accept(tmp_path, source)


def test_a_lone_py_for_an_entry_point_in_a_subfolder_lands_there(tmp_path):
    nested = Assignment(id="p9", title="t", entry="src/main.py")
    source = tmp_path / "main.py"
    source.write_text(SOLUTION)
    accepted, tree = run_accept(tmp_path, source, assignment=nested)
    assert (tree / "src" / "main.py").read_text() == SOLUTION
    assert accepted.sha256 == hashlib.sha256(SOLUTION.encode()).hexdigest()  # the upload's bytes, as for every kind
