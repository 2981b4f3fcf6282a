"""check-references' case list: every independent alternative is graded once per seed of ALTERNATIVE_GRADING_SEEDS,
each with a grader whose settings carry that seed; the reference, starter and mutants run once on the default."""

from __future__ import annotations

from grader.references import (
    ALTERNATIVE_GRADING_SEEDS,
    graders_by_seed,
    parallel_gradings,
    reference_cases,
    reference_settings,
)


def test_each_alternative_is_one_case_per_grading_seed(fixture_settings, tmp_path):
    cases = reference_cases(fixture_settings, "p1", tmp_path)
    alternatives = [case for case in cases if case.name.startswith("alternative:")]
    assert len(ALTERNATIVE_GRADING_SEEDS) >= 3
    assert [(case.name, case.seed) for case in alternatives] == [
        (f"alternative:statistics_module@seed{seed}", seed) for seed in ALTERNATIVE_GRADING_SEEDS
    ]
    assert {case.source for case in alternatives} == {
        fixture_settings.references_dir / "p1" / "alternatives" / "statistics_module"
    }


def test_reference_starter_and_mutants_run_once_on_the_default_seed(fixture_settings, tmp_path):
    cases = [
        case for case in reference_cases(fixture_settings, "p1", tmp_path) if not case.name.startswith("alternative:")
    ]
    assert sorted(case.name for case in cases) == ["mutant:add_off", "mutant:mean_off", "reference", "starter"]
    assert all(case.seed is None for case in cases)


def test_each_seed_gets_a_grader_with_that_seed_on_the_same_backend(fixture_settings, local_grader, tmp_path):
    grader = local_grader
    graders = graders_by_seed(grader, reference_cases(fixture_settings, "p1", tmp_path))
    assert graders[None] is grader
    assert {seed: graders[seed].settings.grading_seed for seed in ALTERNATIVE_GRADING_SEEDS} == {
        seed: seed for seed in ALTERNATIVE_GRADING_SEEDS
    }
    assert all(graders[seed].backend is grader.backend for seed in ALTERNATIVE_GRADING_SEEDS)


def test_a_named_device_is_used_for_every_case(fixture_settings):
    assert reference_settings(fixture_settings, "cpu", 2).sandbox_device == "cpu"
    assert reference_settings(fixture_settings, None, 2).sandbox_device == fixture_settings.sandbox_device


def test_the_cores_are_shared_among_the_gradings_at_once(fixture_settings, monkeypatch):
    monkeypatch.setattr("grader.references.os.cpu_count", lambda: 8)
    assert parallel_gradings(0) == 8
    unfixed = fixture_settings.model_copy(update={"sandbox_threads": None})
    assert reference_settings(unfixed, None, 3).sandbox_threads == 2
    assert reference_settings(unfixed, None, 16).sandbox_threads == 1


def test_threads_fixed_by_the_settings_are_kept(fixture_settings):
    assert reference_settings(fixture_settings.model_copy(update={"sandbox_threads": 5}), None, 8).sandbox_threads == 5
