from __future__ import annotations

import io
import itertools
import math
import re
import zipfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from grader.plagiarism.calibration import Calibration, calibration_features, load_calibration
from grader.plagiarism.detector import DetectorSettings
from grader.plagiarism.fingerprints import FingerprintSettings
from grader.plagiarism.notebook import notebook_code
from grader.plagiarism.relative import relative_channels
from grader.plagiarism.semantic import centred
from grader.plagiarism.units import CodeUnit
from tests.plagiarism.conftest import ALICE, BOB, CAROL, MALLORY, STARTER, notebook_of, score_of

FLAG = load_calibration().flag_threshold
DEVSET = Path(__file__).resolve().parents[2] / "bench" / "plagiarism" / "devset"


def test_notebook_code_keeps_code_cells_in_order_and_strips_magics():
    code = notebook_code(notebook_of("x = 1\n\n\ny = x + 1\n"))
    assert code == "x = 1\n\ny = x + 1\n\n"


def test_a_unit_equal_to_its_cohort_mean_gets_no_vector_not_its_rounding_noise():
    """Three students hand in one function, two others their own: the three equal units keep only float32 rounding
    after centring (their vectors differ in the last bits, as when they were embedded in other batches); normalised,
    that noise would be a random direction, so they get none. The own solutions keep unit-length vectors."""
    rng = np.random.default_rng(3)
    shared = rng.normal(size=384).astype(np.float32)
    vectors = np.stack(
        [shared + rng.normal(scale=1e-8, size=384).astype(np.float32) for _ in range(3)]
        + [rng.normal(size=384).astype(np.float32) for _ in range(2)]
    )
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    units = [CodeUnit(submission, "def tokenize", "a.py", 1, 5, "text", 40) for submission in range(3)]
    units += [CodeUnit(3 + index, "def own", "a.py", 1, 5, f"own {index}", 40) for index in range(2)]
    result = centred(vectors, units, cohort=5)
    assert np.abs(result[:3]).max() == 0.0
    assert np.allclose(np.linalg.norm(result[3:], axis=1), 1.0)


def test_a_pair_counts_relative_to_both_sides_other_partners():
    # Four students share a recipe (0.5 on every pair); 0 and 1 share more than that.
    pairs = [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    relative = relative_channels(
        pairs, [{"token": value} for value in (0.9, 0.5, 0.5, 0.5, 0.5, 0.5)], partners=12, floor=0.05
    )
    assert relative[0]["token"] == pytest.approx(
        8.0
    )  # 0.4 above the flat 0.5 of each side's other partners, spread floored at 0.05
    assert all(entry["token"] <= 0.0 for entry in relative[1:])
    three = relative_channels(
        [(0, 1), (0, 2), (1, 2)], [{"token": value} for value in (0.9, 0.5, 0.5)], partners=12, floor=0.05
    )
    assert three == [{}, {}, {}], "one other partner is too few to say what is usual"


def test_the_raw_channel_model_is_a_floor_under_the_cohort_relative_one():
    raw = Calibration(("token",), (10.0,), -5.0, "test")
    relative = Calibration(("token", "token_relative"), (10.0, 4.0), -8.0, "test", fallback=raw)
    blatant_in_a_crowd = {"token": 1.0, "token_relative": 0.0}  # as similar as everyone near it: a cluster of copies
    standing_out = {"token": 0.6, "token_relative": 3.0}
    assert relative.score(blatant_in_a_crowd) == raw.score(blatant_in_a_crowd) > 0.99
    assert relative.contributions(blatant_in_a_crowd) == {"token": 10.0}  # the report names what decided
    assert relative.score(standing_out) > raw.score(standing_out)
    assert relative.score({"token": 0.6}) == raw.score({"token": 0.6})  # no partners to compare with


@pytest.mark.slow
def test_a_group_sharing_one_solution_is_not_excused_by_its_own_size(run_detection):
    """Four students hand in one solution under different names, among other students' work: every pair of the four
    scores at least what its channels alone give it, however alike its neighbourhood (the cohort-relative features
    see four equally close partners and, by themselves, would rank the group below textbook twins)."""
    original = (DEVSET / "bigram" / "independent" / "s3.py").read_text()
    names = [
        "load_names",
        "split_names",
        "build_vocab",
        "count_bigrams",
        "shuffled",
        "vocab",
        "pairs",
        "padded",
        "table",
    ]
    group = {f"copier{n}.py": re.sub(rf"\b({'|'.join(names)})\b", rf"\1_{n}", original) for n in range(4)}
    others = {
        f"{task}_{path.name}": path.read_text()
        for task in ("bpe", "attention", "decoding")
        for path in sorted((DEVSET / task / "independent").glob("*.py"))
    }
    detection = run_detection({**group, **others})
    floor = load_calibration().fallback
    copier_pairs = [pair for pair in detection.pairs if pair.a in group and pair.b in group]
    assert len(copier_pairs) == 6
    for pair in copier_pairs:
        assert pair.score >= FLAG and pair.score >= floor.score(pair.features) - 1e-9, (pair.a, pair.b, pair.score)
    assert any(set(group) <= set(cluster) for cluster in detection.clusters), detection.clusters


@pytest.mark.slow
def test_pairs_scored_in_worker_processes_come_out_as_in_process(run_detection):
    """A large cohort's listed pairs are explained in forked workers; a small one's in the process itself."""
    cohort = {
        f"{task}_{path.name}": path.read_text()
        for task in ("bpe", "attention", "bigram")
        for path in sorted((DEVSET / task).glob("*/*.py"))
    }
    in_process = run_detection(cohort)
    in_workers = run_detection(cohort, DetectorSettings(parallel_pairs_from=1))
    assert len(in_process.pairs) > 100
    assert in_workers.pairs == in_process.pairs
    assert in_workers.all_scores == in_process.all_scores


@pytest.mark.parametrize("exact_search_up_to", [30_000, 0], ids=["exact search", "HNSW"])
@pytest.mark.slow
def test_in_a_large_cohort_every_pair_handing_in_the_same_files_is_found(run_detection, exact_search_up_to: int):
    """Above the exhaustive size, a submission's partners come from nearest-neighbour search and shared fingerprints.
    Here each file is handed in by ~66 students, more than any neighbour list holds, and groups of five or six
    hand in the same three files: every pair within a group is still scored and flagged. (With fingerprints held by
    more than 64 students left out, the search alone picked those partners, by chance, and missed most pairs.)"""
    tasks = ("attention", "bigram", "bpe", "decoding")
    parts = {
        task: [(DEVSET / task / "independent" / f"s{number}.py").read_text() for number in (3, 4)] for task in tasks
    }
    combinations = [
        (chosen, files) for chosen in itertools.combinations(tasks, 3) for files in itertools.product((0, 1), repeat=3)
    ]
    cohort: dict[str, str] = {}
    groups: dict[int, list[str]] = defaultdict(list)
    for student in range(176):
        chosen, files = combinations[student % len(combinations)]
        name = f"student{student:03d}.py"
        cohort[name] = (
            "\n\n".join(parts[task][file] for task, file in zip(chosen, files)) + f"\n\nSTUDENT = {student}\n"
        )
        groups[student % len(combinations)].append(name)
    settings = DetectorSettings(
        exhaustive_up_to=0, exact_search_up_to=exact_search_up_to, fingerprints=FingerprintSettings(cohort_share=0.5)
    )
    detection = run_detection(cohort, settings)
    scores = {frozenset((pair.a, pair.b)): pair.score for pair in detection.pairs}
    same_files = [frozenset(pair) for group in groups.values() for pair in itertools.combinations(group, 2)]
    assert detection.stats["exhaustive"] == 0.0
    assert all(scores.get(pair, 0.0) >= FLAG for pair in same_files), [
        sorted(pair) for pair in same_files if scores.get(pair, 0.0) < FLAG
    ]


def test_starter_only_submissions_do_not_flag(run_detection):
    detection = run_detection(
        {
            "ann.py": STARTER,
            "ben.py": STARTER + "\n# started late\n",
            "cat.py": STARTER,
            "alice.py": ALICE,
            "bob.py": BOB,
        }
    )
    assert detection.pairs, "pairs are scored"
    assert all(pair.score < FLAG for pair in detection.pairs), [
        (pair.a, pair.b, pair.score) for pair in detection.pairs
    ]
    # Handed-back starters are nobody's partners: alice and bob are not measured against them (next to three empty
    # submissions any real pair stood out by 8 standard deviations), so every pair is scored on its raw channels.
    assert all(not pair.relative for pair in detection.pairs)


def test_relative_features_enter_the_calibration_on_a_log_scale():
    features = calibration_features({"token": 0.4}, {"token": 10.0, "semantic": -3.0})
    assert features["token"] == 0.4
    assert features["token_relative"] == pytest.approx(math.log(11.0))
    assert features["semantic_relative"] == pytest.approx(-math.log(4.0))


def test_renamed_copy_flags_and_independent_solutions_do_not(run_detection):
    detection = run_detection({"alice.py": ALICE, "bob.py": BOB, "carol.py": CAROL, "mallory.py": MALLORY})
    top = detection.pairs[0]
    assert {top.a, top.b} == {"alice.py", "mallory.py"}
    assert top.score >= FLAG
    assert all(pair.score < FLAG for pair in detection.pairs[1:])
    assert top.unit_matches and top.unit_matches[0].similarity > 0.5


def test_notebook_and_py_of_the_same_code_flag_and_score_the_same(run_detection):
    detection = run_detection(
        {"alice.py": ALICE, "alice_nb.ipynb": notebook_of(ALICE), "bob.py": BOB, "carol.py": CAROL}
    )
    assert score_of(detection, "alice.py", "alice_nb.ipynb") >= FLAG
    assert abs(score_of(detection, "alice.py", "bob.py") - score_of(detection, "alice_nb.ipynb", "bob.py")) < 1e-6
    assert abs(score_of(detection, "alice.py", "carol.py") - score_of(detection, "alice_nb.ipynb", "carol.py")) < 1e-6


def test_broken_files_are_skipped_with_reasons_and_the_run_goes_on(run_detection):
    detection = run_detection(
        {
            "alice.py": ALICE,
            "mallory.py": MALLORY,
            "bob.py": BOB,
            "latin1.py": "name = 'café'\n".encode("latin-1"),
            "broken.ipynb": "{not json",
            "fake.zip": b"PK this is not a zip",
            "notes.txt": "hello",
            "empty/readme.md": "nothing here",
        }
    )
    reasons = {item.name: item.reason for item in detection.skipped}
    assert set(reasons) == {"latin1.py", "broken.ipynb", "fake.zip", "notes.txt", "empty"}
    assert "UTF-8" in reasons["latin1.py"]
    assert "JSON" in reasons["broken.ipynb"]
    assert "zip" in reasons["fake.zip"]
    assert "unsupported" in reasons["notes.txt"]
    assert "no Python code" in reasons["empty"]
    assert {detection.pairs[0].a, detection.pairs[0].b} == {"alice.py", "mallory.py"}


def test_a_students_files_form_one_submission_without_self_matches(run_detection):
    tokenize_part, rest = ALICE.split("def top_words", 1)
    bundle = io.BytesIO()
    with zipfile.ZipFile(bundle, "w") as archive:
        archive.writestr("project/words.py", tokenize_part)
        archive.writestr("project/ranking.py", "def top_words" + rest)
    detection = run_detection(
        {"dave/a.py": tokenize_part, "dave/b.py": "def top_words" + rest, "erin.zip": bundle.getvalue(), "bob.py": BOB}
    )
    names = {pair.a for pair in detection.pairs} | {pair.b for pair in detection.pairs}
    assert names == {"dave", "erin.zip", "bob.py"}
    assert score_of(detection, "dave", "erin.zip") >= FLAG


def test_code_most_of_the_cohort_shares_is_boilerplate(run_detection):
    shared_helper = "\n\ndef progress(step, total):\n    done = int(20 * step / total)\n    print('[' + '#' * done + '.' * (20 - done) + ']', step, total)\n    return done\n"
    solutions = [ALICE, BOB, CAROL, BOB.replace("counts", "tally"), CAROL.replace("best", "top")]
    detection = run_detection({f"student{index}.py": code + shared_helper for index, code in enumerate(solutions)})
    submissions = {submission.name: submission for submission in detection.submissions}
    pair = next(pair for pair in detection.pairs if {pair.a, pair.b} == {"student0.py", "student2.py"})
    helper_starts = {name: submissions[name].code.index("def progress") for name in (pair.a, pair.b)}
    assert all(end <= helper_starts[pair.a] for _, end in pair.tokens.slices_a)
    assert all(end <= helper_starts[pair.b] for _, end in pair.tokens.slices_b)
    assert pair.score < FLAG


def test_a_copy_restructured_around_its_authors_names_flags_on_the_names_it_kept(run_detection):
    """Loops rewritten and helpers extracted: copydetect's runs fall below those of two solutions that follow one
    textbook recipe, but the copy kept its author's names and their order between the edits."""
    task = DEVSET / "bpe"
    cohort = {path.name: path.read_text() for path in sorted((task / "independent").glob("*.py"))}
    cohort["copy.py"] = (task / "rewrites" / "structural_s1.py").read_text()
    detection = run_detection(cohort)
    copy = next(pair for pair in detection.pairs if {pair.a, pair.b} == {"copy.py", "s1.py"})
    twins = next(pair for pair in detection.pairs if {pair.a, pair.b} == {"s1.py", "s2.py"})
    assert copy.channels["token"] < twins.channels["token"]
    assert copy.features["kept_names"] > twins.features["kept_names"]
    assert copy.score >= FLAG and copy.driver == "kept_names", (copy.score, copy.driver)


def test_pairs_are_flagged_from_the_calibrations_threshold_unless_one_is_given(run_detection):
    """With no top pairs asked for, exactly the flagged pairs are listed."""
    cohort = {"alice.py": ALICE, "bob.py": BOB, "carol.py": CAROL, "mallory.py": MALLORY}
    default = run_detection(cohort, DetectorSettings(report_top=0))
    assert default.flag_threshold == load_calibration().flag_threshold
    assert [{pair.a, pair.b} for pair in default.pairs] == [{"alice.py", "mallory.py"}]
    strict = run_detection(cohort, DetectorSettings(report_top=0, flag_threshold=default.pairs[0].score + 1e-9))
    assert strict.flag_threshold > default.flag_threshold and strict.pairs == []
