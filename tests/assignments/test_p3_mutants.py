"""Project 3 mutants apply to the reference, still compile, and name criteria of the rubric (check-references then
grades them in the sandbox)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grader.references import apply_mutant, load_mutant

REPO = Path(__file__).resolve().parents[2]
REFERENCE = REPO / "reference_solutions" / "p3"
MUTANTS = sorted((REFERENCE / "mutants").glob("*.yaml"))
CRITERIA = {criterion["id"] for criterion in yaml.safe_load((REPO / "rubrics" / "p3.yaml").read_text())["criteria"]}


def test_there_are_at_least_eight_mutants():
    assert len(MUTANTS) >= 8


@pytest.mark.parametrize("mutant_file", MUTANTS, ids=lambda path: path.stem)
def test_mutant_applies_compiles_and_names_rubric_criteria(mutant_file, tmp_path):
    mutant = load_mutant(mutant_file)
    assert set(mutant.loses) <= CRITERIA
    mutated = apply_mutant(REFERENCE, mutant, tmp_path / mutant_file.stem, mutant_file.stem)
    for edit in mutant.edits:
        source = (mutated / edit.file).read_text(encoding="utf-8")
        assert edit.new in source
        compile(source, edit.file, "exec")
