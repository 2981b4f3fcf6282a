from grader.judge import ProbeData, check

EXPECTED_SUMS = [7, 8]
EXPECTED_MEANS = [10 / 3, 18 / 3]


@check("add_correct")
def add_correct(probe: ProbeData) -> None:
    assert probe.step("add").value("sums") == EXPECTED_SUMS


@check("mean_correct")
def mean_correct(probe: ProbeData) -> None:
    means = probe.step("mean").value("means")
    assert all(abs(m - e) < 1e-9 for m, e in zip(means, EXPECTED_MEANS, strict=True))
