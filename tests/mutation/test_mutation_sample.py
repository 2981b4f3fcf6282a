"""CI's fixed sample of mutation analysis: for each project, a few mutants graded in the Docker sandbox, and every
survivor among them triaged in `reference_solutions/<id>/mutation.yaml` (the full runs are in bench/RESULTS.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.mutation.report import report_data
from grader.mutation.run import run_mutation
from grader.settings import Settings

CI_SAMPLE = 3  # drawn with the fixed seed: a subset of every larger `--sample` run


@pytest.mark.docker
@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", ["p1", "p2", "p3", "p4"])
def test_every_survivor_of_the_fixed_sample_is_triaged(
    course_settings: Settings, docker_backend, assignment_id: str, tmp_path: Path
):
    settings = course_settings.model_copy(update={"sandbox": "docker"})
    run = run_mutation(settings, assignment_id, tmp_path / "state", CI_SAMPLE, 1, None, lambda progress: None)
    data = report_data(run, settings.references_dir / assignment_id)
    assert sum(data["totals"].values()) == CI_SAMPLE
    assert data["totals"]["errored"] == 0, data["mutants"]
    assert data["untriaged_survivors"] == [], "triage these in mutation.yaml"
    assert data["stale_equivalences"] == [], "these are killed: drop them from mutation.yaml's equivalents"
