"""The format the grader's gate reads (handout: "The repository"). Passing these does not mean the gate passes:
the grader also runs your tests and your entry command in the sandbox."""

import re

HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.-]+\])?==[A-Za-z0-9.+!_-]+$")


def section(readme: str, title: str) -> str:
    headings = list(HEADING.finditer(readme))
    for index, heading in enumerate(headings):
        if heading.group(1).strip().lower() == title:
            end = headings[index + 1].start() if index + 1 < len(headings) else len(readme)
            return readme[heading.end():end]
    raise AssertionError(f"README.md has no '## {title.capitalize()}' section")


def test_task_is_stated(readme):
    task = section(readme, "task")
    assert len(task.split()) >= 10 and "TODO" not in task


def test_entry_command_is_a_code_block(readme):
    block = re.search(r"^```[^\n]*\n(.*?)^```", section(readme, "entry command"), re.MULTILINE | re.DOTALL)
    assert block and block.group(1).strip()


def test_models_and_licences_are_declared(readme):
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section(readme, "models").splitlines() if line.strip().startswith("|")]
    header = [cell.lower() for cell in rows[0]]
    assert "model" in header and {"licence", "license"} & set(header)
    declared = [row for row in rows[2:] if len(row) == len(header)]
    assert declared and all(cell and cell != "TODO" for row in declared for cell in row)


def test_requirements_are_pinned(repository):
    lines = [line.strip() for line in (repository / "requirements.txt").read_text().splitlines()
             if line.strip() and not line.strip().startswith("#")]
    assert lines and all(PINNED.match(line) for line in lines), lines


def test_project_has_its_own_tests(repository):
    assert list(repository.rglob("test_*.py")) + list(repository.rglob("*_test.py"))
