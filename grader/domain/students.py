"""Which student a submission belongs to, from the name it has in a course folder or an LMS export.

Batch grading and the plagiarism review both key students this way, so a confirmed case lands on the same key as the
student's grades.
"""

from __future__ import annotations

import re

SUBMISSION_SUFFIXES = (".py", ".ipynb", ".zip")
# Moodle's "download all submissions": one folder per participant, `Full Name_12345_assignsubmission_file_`.
MOODLE_FOLDER = re.compile(r"^.+_(?P<participant>\d+)_assign(?:submission|feedback)_[a-z]+_?$")


def student_of(name: str) -> str:
    """`s123.py`, `s123.ipynb`, `s123.zip`, `s123/` and `s123/solution.py` belong to `s123`; a Moodle folder to its
    participant number."""
    top = name.rstrip("/").split("/")[0]
    moodle = MOODLE_FOLDER.match(top)
    if moodle:
        return moodle.group("participant")
    for suffix in SUBMISSION_SUFFIXES:
        if top.lower().endswith(suffix):
            return top[: -len(suffix)]
    return top
