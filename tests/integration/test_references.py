"""check-references on the fixture course: the reference and every independent alternative earn full marks, the
starter stays at its floor, every mutant is caught; and a mutant is built without the alternatives in it."""

from __future__ import annotations

from dataclasses import dataclass, field

from grader.references import ALTERNATIVE_GRADING_SEEDS, check_references, reference_cases
from grader.sandbox.base import RunOutcome, RunSpec, SandboxBackend


def test_alternatives_are_cases_that_must_earn_full_marks(fixture_settings, tmp_path):
    cases = {case.name: case for case in reference_cases(fixture_settings, "p1", tmp_path)}
    assert set(cases) == {
        "reference",
        "starter",
        "mutant:add_off",
        "mutant:mean_off",
        *(f"alternative:statistics_module@seed{seed}" for seed in ALTERNATIVE_GRADING_SEEDS),
    }
    assert not (cases["mutant:mean_off"].source / "alternatives").exists()


@dataclass
class SeedRecorder:
    """The local backend, noting the grading seed of every run it is given."""

    backend: SandboxBackend
    seeds: list[int] = field(default_factory=list)

    def run(self, spec: RunSpec) -> RunOutcome:
        self.seeds.append(spec.seed)
        return self.backend.run(spec)

    def __getattr__(self, name: str):
        return getattr(self.backend, name)


def test_check_references_passes_on_the_fixture_course(fixture_settings, local_grader):
    recorder = SeedRecorder(local_grader.backend)
    local_grader.backend = recorder
    run = check_references(fixture_settings, local_grader, ["p1"], jobs=2)
    assert run.ok, [(r.case.name, r.problem) for r in run.results if not r.ok]
    assert len(run.results) == 4 + len(ALTERNATIVE_GRADING_SEEDS)
    # The reference, starter and two mutants on the default seed; the alternative once on each of its seeds.
    assert sorted(recorder.seeds) == sorted([fixture_settings.grading_seed] * 4 + list(ALTERNATIVE_GRADING_SEEDS))
