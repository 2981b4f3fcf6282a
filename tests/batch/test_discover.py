from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from grader.batch.discover import BatchSourceError, discover


def make_zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return path


def test_a_folder_gives_one_submission_per_student_named_by_file_or_folder(tmp_path):
    source = tmp_path / "cohort"
    (source / "s2").mkdir(parents=True)
    (source / "s2" / "solution.py").write_text("x = 1\n")
    (source / "s1.py").write_text("x = 1\n")
    (source / "s3.ipynb").write_text("{}")
    (source / "s4.zip").write_bytes(b"")
    (source / "notes.txt").write_text("not a submission")
    (source / ".DS_Store").write_text("")

    entries = discover(source, tmp_path / "work", 10**6)

    assert [(e.student, e.original_name) for e in entries] == [
        ("s1", "s1.py"),
        ("s2", "s2"),
        ("s3", "s3.ipynb"),
        ("s4", "s4.zip"),
    ]


def test_two_submissions_of_one_student_are_refused(tmp_path):
    source = tmp_path / "cohort"
    source.mkdir()
    (source / "s1.py").write_text("")
    (source / "s1.zip").write_bytes(b"")

    with pytest.raises(BatchSourceError, match="two submissions for student 's1'"):
        discover(source, tmp_path / "work", 10**6)


def test_a_moodle_export_zip_is_named_by_participant_number_through_its_wrapping_folder(tmp_path):
    export = make_zip(
        tmp_path / "export.zip",
        {
            "P1 submissions/Ada Lovelace_1001_assignsubmission_file_/solution.py": "x = 1\n",
            "P1 submissions/Ada Lovelace_1001_assignsubmission_file_/model.py": "y = 2\n",
            "P1 submissions/Alan Turing_1002_assignsubmission_file_/solution.py": "x = 1\n",
        },
    )

    entries = discover(export, tmp_path / "work", 10**6)

    assert [e.student for e in entries] == ["1001", "1002"]
    assert sorted(p.name for p in entries[0].path.iterdir()) == ["model.py", "solution.py"]


def test_an_export_with_a_path_leaving_the_folder_is_refused(tmp_path):
    export = make_zip(tmp_path / "export.zip", {"../evil.py": "x = 1\n"})

    with pytest.raises(BatchSourceError, match="climbs out of the project"):
        discover(export, tmp_path / "work", 10**6)
    assert not (tmp_path / "evil.py").exists()


def test_an_export_over_the_size_cap_is_refused(tmp_path):
    export = make_zip(tmp_path / "export.zip", {"s1.py": "x" * 2000})

    with pytest.raises(BatchSourceError, match="expands to more than"):
        discover(export, tmp_path / "work", 1000)
