"""The student handout zip and the course validator.

A handout holds only what students may see: the README, starter code, public tests, public data and the public view
of the rubric (titles and points). Hidden tests, the judge and the reference solution are never read here.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from grader import course_files
from grader.domain.rubric import Rubric
from grader.judge import load_judge
from grader.ledger import validate_ledger
from grader.references import MutantError, apply_mutant, load_mutant
from grader.settings import Settings

HANDOUT_PARTS = ("README.md", "starter", "public_tests", "data")


@dataclass(frozen=True)
class PublicCriterion:
    """What students may know of a rubric criterion: the handout's RUBRIC.md and the assignment page show this."""

    title: str
    points: float
    graded: str


def public_criteria(rubric: Rubric) -> list[PublicCriterion]:
    criteria = []
    for criterion in rubric.criteria:
        how = "by an instructor" if criterion.manual else "automatically"
        if criterion.visibility == "after_deadline":
            how += ", shown after the deadline"
        criteria.append(PublicCriterion(criterion.title, criterion.points, how))
    return criteria


def public_rubric(settings: Settings, assignment_id: str) -> str:
    rubric = course_files.load_rubric(settings, assignment_id)
    lines = [f"# Rubric for {assignment_id} (20 points)", "", "| criterion | points | graded |", "| --- | --- | --- |"]
    lines += [f"| {c.title} | {c.points:g} | {c.graded} |" for c in public_criteria(rubric)]
    return "\n".join(lines) + "\n"


def build_handout(settings: Settings, assignment_id: str, destination: Path) -> Path:
    course_files.load_assignment(settings, assignment_id)  # refuses unknown or invalid assignments
    root = course_files.assignment_paths(settings, assignment_id).root
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part in HANDOUT_PARTS:
            path = root / part
            files = (
                [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else []
            )
            for file in files:
                if "__pycache__" in file.parts:
                    continue
                archive.write(file, f"{assignment_id}/{file.relative_to(root).as_posix()}")
        archive.writestr(f"{assignment_id}/RUBRIC.md", public_rubric(settings, assignment_id))
    return destination


def validate_assignment(settings: Settings, assignment_id: str) -> list[str]:
    """Every problem found in one assignment's files, each a sentence saying what to fix."""
    problems: list[str] = []
    try:
        assignment = course_files.load_assignment(settings, assignment_id)
        rubric = course_files.load_rubric(settings, assignment_id)
    except course_files.CourseFileError as error:
        return [str(error)]
    paths = course_files.assignment_paths(settings, assignment_id)
    for required, what in (
        (paths.handout_readme, "the student README"),
        (paths.probe / "probe.py", "the probe"),
        (paths.judge / "judge.py", "the judge"),
        (paths.public_tests, "public tests"),
        (paths.starter, "starter code"),
    ):
        if not required.exists():
            problems.append(f"{assignment_id}: {what} is missing ({required})")
    if (paths.judge / "judge.py").is_file():
        try:
            checks = set(load_judge(paths.judge).checks)
        except Exception as error:  # a broken judge can raise anything at import
            problems.append(f"{assignment_id}: the judge does not import: {type(error).__name__}: {error}")
        else:
            for criterion in rubric.criteria:
                for check_id in criterion.checks:
                    if check_id not in checks:
                        problems.append(
                            f"{assignment_id}: rubric criterion '{criterion.id}' refers to check "
                            f"'{check_id}', which the judge does not define"
                        )
            unused = checks - rubric.check_ids
            if unused:
                problems.append(f"{assignment_id}: judge checks not used by any criterion: {', '.join(sorted(unused))}")
            if paths.handout_readme.is_file():
                problems += validate_ledger(
                    course_files.load_ledger(settings, assignment_id),
                    readme=paths.handout_readme.read_text("utf-8"),
                    judge_sources={file.name: file.read_text("utf-8") for file in sorted(paths.judge.glob("*.py"))},
                    judge_checks=checks,
                    rubric=rubric,
                    mutants_dir=settings.references_dir / assignment_id / "mutants",
                    ledger_path=paths.requirements,
                    limits=assignment.limits,
                )
    if paths.starter.is_dir() and assignment.entry_is_python and not (paths.starter / assignment.entry).exists():
        problems.append(f"{assignment_id}: the starter has no {assignment.entry}")
    problems += _validate_reference(settings, assignment_id, {c.id for c in rubric.criteria}, assignment.entry)
    return problems


def _validate_reference(settings: Settings, assignment_id: str, criteria: set[str], entry: str) -> list[str]:
    reference = settings.references_dir / assignment_id
    if not (reference / entry).is_file():
        return [f"{assignment_id}: the reference solution has no {entry} ({reference})"]
    problems = []
    for mutant_file in sorted((reference / "mutants").glob("*.yaml")):
        try:
            mutant = load_mutant(mutant_file)
            unknown = set(mutant.loses) - criteria
            if unknown:
                problems.append(f"{mutant_file}: 'loses' names unknown criteria: {', '.join(sorted(unknown))}")
            with tempfile.TemporaryDirectory() as scratch:
                apply_mutant(reference, mutant, Path(scratch) / "m", mutant_file.stem)
        except (MutantError, ValueError) as error:
            problems.append(f"{mutant_file}: {error}")
    return problems


def validate_course(settings: Settings) -> dict[str, list[str]]:
    return {
        assignment_id: validate_assignment(settings, assignment_id)
        for assignment_id in course_files.assignment_ids(settings)
    }
