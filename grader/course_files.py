"""Reads the course's files (assignments/, rubrics/, reference_solutions/) into domain objects, with content versions."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from grader.domain.assignment import Assignment
from grader.domain.ledger import Ledger
from grader.domain.rubric import Rubric
from grader.settings import Settings


class CourseFileError(Exception):
    """A course file is missing or invalid; the message says which file and what to fix."""


@dataclass(frozen=True)
class AssignmentPaths:
    root: Path

    @property
    def spec(self) -> Path:
        return self.root / "assignment.yaml"

    @property
    def handout_readme(self) -> Path:
        return self.root / "README.md"

    @property
    def requirements(self) -> Path:
        """The requirements ledger: the handout's numbered requirements -> checks, mutants, bars."""
        return self.root / "requirements.yaml"

    @property
    def starter(self) -> Path:
        return self.root / "starter"

    @property
    def public_tests(self) -> Path:
        return self.root / "public_tests"

    @property
    def probe(self) -> Path:
        return self.root / "hidden_tests" / "probe"

    @property
    def judge(self) -> Path:
        return self.root / "hidden_tests" / "judge"


def assignment_paths(settings: Settings, assignment_id: str) -> AssignmentPaths:
    return AssignmentPaths(settings.assignments_dir / assignment_id)


def rubric_path(settings: Settings, assignment_id: str) -> Path:
    return settings.rubrics_dir / f"{assignment_id}.yaml"


def tree_hash(*paths: Path) -> str:
    """sha256 over file names and contents, in a stable order: a change anywhere changes the version."""
    digest = hashlib.sha256()
    for root in paths:
        files = (
            sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            if root.is_dir()
            else ([root] if root.is_file() else [])
        )
        for file in files:
            digest.update(str(file.relative_to(root.parent)).encode())
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise CourseFileError(f"{path} is missing")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise CourseFileError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(data, dict):
        raise CourseFileError(f"{path} must hold a mapping at the top level")
    return data


def _explain(path: Path, error: ValidationError) -> CourseFileError:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in error.errors())
    return CourseFileError(f"{path}: {problems}")


def load_assignment(settings: Settings, assignment_id: str) -> Assignment:
    paths = assignment_paths(settings, assignment_id)
    if not paths.root.is_dir():
        known = ", ".join(a for a in assignment_ids(settings)) or "none"
        raise CourseFileError(f"unknown assignment '{assignment_id}' (known: {known})")
    data = _read_yaml(paths.spec)
    version = tree_hash(paths.spec, paths.probe, paths.judge, rubric_path(settings, assignment_id))
    try:
        assignment = Assignment.model_validate({**data, "version": version})
    except ValidationError as error:
        raise _explain(paths.spec, error) from error
    if assignment.id != assignment_id:
        raise CourseFileError(f"{paths.spec}: id is '{assignment.id}' but the folder is '{assignment_id}'")
    return assignment


def load_ledger(settings: Settings, assignment_id: str) -> Ledger | None:
    """The assignment's requirements ledger, or None when it has none (`grader validate` reports that)."""
    path = assignment_paths(settings, assignment_id).requirements
    if not path.is_file():
        return None
    try:
        ledger = Ledger.model_validate(_read_yaml(path))
    except ValidationError as error:
        raise _explain(path, error) from error
    if ledger.assignment != assignment_id:
        raise CourseFileError(f"{path}: 'assignment' is '{ledger.assignment}', expected '{assignment_id}'")
    return ledger


def load_rubric(settings: Settings, assignment_id: str) -> Rubric:
    path = rubric_path(settings, assignment_id)
    data = _read_yaml(path)
    ledger = load_ledger(settings, assignment_id)
    # The ledger names the requirements behind each check, which the feedback on a lost point quotes.
    requirements = ledger.check_requirements() if ledger else {}
    version = tree_hash(path, assignment_paths(settings, assignment_id).requirements)
    try:
        rubric = Rubric.model_validate({**data, "version": version, "check_requirements": requirements})
    except ValidationError as error:
        raise _explain(path, error) from error
    if rubric.assignment != assignment_id:
        raise CourseFileError(f"{path}: 'assignment' is '{rubric.assignment}', expected '{assignment_id}'")
    return rubric


def hidden_tests_version(settings: Settings, assignment_id: str) -> str:
    paths = assignment_paths(settings, assignment_id)
    return tree_hash(paths.probe, paths.judge)


def assignment_ids(settings: Settings) -> list[str]:
    if not settings.assignments_dir.is_dir():
        return []
    ids = [p.name for p in settings.assignments_dir.iterdir() if (p / "assignment.yaml").is_file()]
    return sorted(ids, key=lambda name: (len(name), name))


def list_assignments(settings: Settings) -> list[Assignment]:
    return [load_assignment(settings, assignment_id) for assignment_id in assignment_ids(settings)]
