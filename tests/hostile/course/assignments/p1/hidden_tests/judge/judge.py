from grader.judge import ProbeData, check

# The canary string below must never reach a student: EXPECTED-SECRET-d4c1e8b9f0a2
EXPECTED_COUNTS = [10, 10]
EXPECTED_LONGEST_LENGTHS = [19, 19]


@check("counts")
def counts(probe: ProbeData) -> None:
    assert probe.step("count").value("counts") == EXPECTED_COUNTS, "EXPECTED-SECRET-d4c1e8b9f0a2"


@check("longest")
def longest(probe: ProbeData) -> None:
    assert [len(word) for word in probe.step("longest").value("longest")] == EXPECTED_LONGEST_LENGTHS
