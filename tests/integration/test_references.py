"""check-references on the fixture course: the reference and every independent alternative earn full marks, the
starter stays at its floor, every mutant is caught; and a mutant is built without the alternatives in it."""

from __future__ import annotations

from grader.references import check_references, reference_cases


def test_alternatives_are_cases_that_must_earn_full_marks(fixture_settings, tmp_path):
    cases = {case.name: case for case in reference_cases(fixture_settings, "p1", tmp_path)}
    assert set(cases) == {"reference", "starter", "mutant:add_off", "mutant:mean_off", "alternative:statistics_module"}
    assert not (cases["mutant:mean_off"].source / "alternatives").exists()


def test_check_references_passes_on_the_fixture_course(fixture_settings, local_grader):
    run = check_references(fixture_settings, local_grader, ["p1"], jobs=2)
    assert run.ok, [(r.case.name, r.problem) for r in run.results if not r.ok]
    assert len(run.results) == 5
