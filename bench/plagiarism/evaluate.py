"""Plagiarism benchmark: channels, calibrated combination and baselines on the hand-made dev set.

    python bench/plagiarism/evaluate.py            # builds the cohorts, scores them, fits the calibration, updates bench/RESULTS.md

The combination is evaluated with leave-one-task-out cross-validation (the model that scores a task never saw it);
the calibration shipped in grader/plagiarism/calibration.json is then fitted on all tasks. One threshold, at 1 %
false positives over all negatives pooled, gives every level's recall, as a single threshold would in a course.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from grader.plagiarism.calibration import DEFAULT_PATH, Calibration
from grader.plagiarism.detector import detect
from grader.plagiarism.embeddings import EmbeddingCache, SentenceEncoder
from grader.plagiarism.known_code import KnownCode
from grader.plagiarism.submissions import ReadLimits, load_folder, read_entry
from grader.settings import Settings

# scikit-learn and copydetect are imported where used: --help and the tests of the report's functions skip them
if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from build_devset import LEVELS, build  # noqa: E402

CHANNELS = ("token", "canonical_token", "literal_token", "identifiers", "semantic")
# The main models weigh four channels; literal_token enters only through kept_names. Weighed alone it also lifts textbook
# twins (a recipe's runs with its usual names), and cost paraphrase recall (0.94 -> 0.88) for no structural gain.
WEIGHED = ("token", "canonical_token", "identifiers", "semantic")
FEATURES = WEIGHED + tuple(f"{name}_relative" for name in WEIGHED)
KEPT_NAMES = ("kept_names",)
# The copies that keep their author's names; every other level renames them (reordered, partial and notebook copies
# are built from renamed ones). The kept-names model learns from these copies and every negative: renamed copies as
# positives taught it that sharing no names is evidence of copying (a floor of 0.30 under every pair).
NAMES_KEPT_LEVELS = ("verbatim", "structural")
# combined_raw: the model over the raw channels only: the floor under `combined`, and the model shipped before the
# cohort-relative features.
METHODS = (*CHANNELS, "combined_raw", "combined", "copydetect", "dolos")
RESULTS = HERE.parent / "RESULTS.md"
CHANNEL_NOTES = (
    "Channels: `token` = the token filter (names as V/F/O, strings as S; `grader/plagiarism/token_filter.py`) + winnowing",
    "(k=25, guarantee 30), starter and cohort-common fingerprints removed; `canonical_token` = the same over the AST",
    "canonical forms of the code units; `literal_token` = the same with every name spelled out; `identifiers` =",
    "rarity-weighted overlap of the names and literals a student chose; `semantic` = all-MiniLM-L6-v2 embeddings of",
    "canonical units, centred on the cohort mean of the same function. `combined` also weighs each channel's",
    "cohort-relative version and `kept_names` = min(literal_token, identifiers).",
)


def channel_scores(
    cohort: dict, build_dir: Path, encoder: SentenceEncoder, cache: EmbeddingCache
) -> dict[tuple[str, str], dict[str, float]]:
    submissions, skipped = load_folder(build_dir / cohort["folder"])
    known = KnownCode(
        tuple(read_entry(HERE / cohort["starter"], ReadLimits())),
        tuple(read_entry(HERE / cohort["known_sources"], ReadLimits())) if cohort["known_sources"] else (),
    )
    neutral = Calibration(CHANNELS, (0.0,) * len(CHANNELS), 0.0, "unfitted")  # only the features are read here
    detection = detect(submissions, [], known, skipped, encoder, cache, neutral)
    return {tuple(sorted((pair.a, pair.b))): pair.features for pair in detection.pairs}


def copydetect_scores(folder: Path, known: list[Path]) -> dict[tuple[str, str], float]:
    """copydetect with the same known code as the detector (starter and known sources) as its boilerplate."""
    from copydetect import CopyDetector

    detector = CopyDetector(
        test_dirs=[str(folder)],
        boilerplate_dirs=[str(path) for path in known],
        extensions=["py", "ipynb"],
        silent=True,
        autoopen=False,
    )
    detector.run()
    scores = {}
    for i, first in enumerate(detector.test_files):
        for j, second in enumerate(detector.ref_files):
            if first < second:
                scores[(Path(first).name, Path(second).name)] = float(max(detector.similarity_matrix[i, j]))
    return scores


def dolos_scores(folder: Path, starter: Path) -> dict[tuple[str, str], float]:
    files = sorted(str(path) for path in folder.iterdir())
    output = subprocess.run(
        ["node", str(HERE / "node" / "dolos_pairs.mjs"), "--ignore", str(starter), *files],
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE / "node",
    ).stdout
    return {
        tuple(sorted((Path(pair["a"]).name, Path(pair["b"]).name))): float(pair["similarity"])
        for pair in json.loads(output)
    }


def _usable(rows: list[dict], names: tuple[str, ...]) -> np.ndarray:
    """Rows that have every feature: pairs with a starter-only side get no relative features (the detector scores
    them with the raw-channel model alone)."""
    return np.array([all(name in row for name in names) for row in rows])


def _every_row(row: dict) -> bool:
    return True


def _keeps_names(row: dict) -> bool:
    """A negative, or a copy that kept its author's names: what the kept-names model learns from."""
    return not row["label"] or row["level"] in NAMES_KEPT_LEVELS


def _learns_from(rows: list[dict], names: tuple[str, ...], rule: Callable[[dict], bool]) -> np.ndarray:
    """Rows a model over these features is fitted on: those that have them and pass the rule."""
    return _usable(rows, names) & np.array([rule(row) for row in rows])


def cross_validated(rows: list[dict], names: tuple[str, ...], rule: Callable[[dict], bool] = _every_row) -> np.ndarray:
    """Leave-one-task-out probabilities of a model over these features (fitted on the rows the rule lets through);
    NaN for rows without them."""
    usable = _usable(rows, names)
    learns_from = _learns_from(rows, names, rule)
    features = np.array([[row.get(name, 0.0) for name in names] for row in rows])
    labels = np.array([row["label"] for row in rows])
    tasks = np.array([row["task"] for row in rows])
    scores = np.full(len(rows), np.nan)
    for task in sorted(set(tasks)):
        train, test = learns_from & (tasks != task), usable & (tasks == task)
        scores[test] = _model().fit(features[train], labels[train]).predict_proba(features[test])[:, 1]
    return scores


def _model() -> LogisticRegression:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=1.0, class_weight="balanced", max_iter=5000)


def fitted(rows: list[dict], names: tuple[str, ...], rule: Callable[[dict], bool] = _every_row) -> Calibration:
    usable = [row for row, keep in zip(rows, _learns_from(rows, names, rule)) if keep]
    model = _model().fit(
        np.array([[row[name] for name in names] for row in usable]), np.array([row["label"] for row in usable])
    )
    return Calibration(
        names,
        tuple(float(weight) for weight in model.coef_[0]),
        float(model.intercept_[0]),
        f"bench/plagiarism dev set, {len(usable)} pairs",
    )


def metrics(scores: np.ndarray, labels: np.ndarray, levels: np.ndarray) -> dict[str, dict[str, float]]:
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score

    negatives = scores[labels == 0]
    threshold = float(np.quantile(negatives, 0.99))
    result = {}
    for level in ("overall", *LEVELS):
        chosen = labels == 1 if level == "overall" else (labels == 1) & (levels == level)
        level_scores = np.concatenate([negatives, scores[chosen]])
        level_labels = np.concatenate([np.zeros(len(negatives)), np.ones(chosen.sum())])
        precision, recall, _ = precision_recall_curve(level_labels, level_scores)
        f1 = np.max(2 * precision * recall / np.maximum(precision + recall, 1e-12))
        result[level] = {
            "auc": float(roc_auc_score(level_labels, level_scores)),
            "ap": float(average_precision_score(level_labels, level_scores)),
            "best_f1": float(f1),
            "recall_at_1pct_fpr": float(np.mean(scores[chosen] > threshold)),
            "positives": int(chosen.sum()),
        }
    return result


def by_task(scores: np.ndarray, rows: list[dict]) -> list[str]:
    """Markdown rows: each task's copies found at the pooled 1 %-FPR threshold, by a model that never saw the task, and
    which pairs of files its negatives above the threshold are (one pair of files recurs in every cohort holding both).
    The last columns set the threshold at 1 % of the other tasks' negatives only, as a new task would meet it."""
    labels = np.array([row["label"] for row in rows])
    tasks = np.array([row["task"] for row in rows])
    threshold = float(np.quantile(scores[labels == 0], 0.99))
    lines = [
        "| task (held out) | all copies | structural | paraphrase | its negatives above the threshold | those pairs of files (cohorts) |"
        " threshold set without it: structural | paraphrase | negatives above |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for task in sorted(set(tasks)):

        def found(level: str | None, at: float) -> str:
            chosen = [
                position
                for position, row in enumerate(rows)
                if row["task"] == task and row["label"] and level in (None, row["level"])
            ]
            return f"{sum(scores[position] > at for position in chosen)}/{len(chosen)}"

        negatives = [position for position, row in enumerate(rows) if row["task"] == task and not row["label"]]
        above = Counter(
            " – ".join(sorted((rows[position]["a"], rows[position]["b"])))
            for position in negatives
            if scores[position] > threshold
        )
        files = ", ".join(f"{pair} ({count})" for pair, count in above.most_common()) or "none"
        without = float(np.quantile(scores[(labels == 0) & (tasks != task)], 0.99))
        lines.append(
            f"| {task} | {found(None, threshold)} | {found('structural', threshold)} | {found('paraphrase', threshold)} | {sum(above.values())}/{len(negatives)} | {files} |"
            f" {found('structural', without)} | {found('paraphrase', without)} | {sum(scores[position] > without for position in negatives)}/{len(negatives)} |"
        )
    return lines


def _allowed_false_positives(task: str, rows: list[dict]) -> int:
    return int(0.01 * sum(1 for row in rows if row["task"] == task and not row["label"]))


def _reachable(task: str, scores: np.ndarray, rows: list[dict]) -> bool:
    """Whether any threshold at all, even one chosen on the task itself, keeps its negatives within 1 % and finds 0.9
    of its structural rewrites and of its paraphrases: the weakest copy it must find outscores the first negative too many."""
    negatives = sorted(
        (scores[position] for position, row in enumerate(rows) if row["task"] == task and not row["label"]),
        reverse=True,
    )
    first_too_many = negatives[_allowed_false_positives(task, rows)]
    for level in ("structural", "paraphrase"):
        copies = sorted(
            (
                scores[position]
                for position, row in enumerate(rows)
                if row["task"] == task and row["label"] and row["level"] == level
            ),
            reverse=True,
        )
        if copies and copies[math.ceil(0.9 * len(copies)) - 1] <= first_too_many:
            return False
    return True


def per_task_bound(scores: np.ndarray, rows: list[dict]) -> str:
    """What the per-task target (>= 0.9 structural and paraphrase recall, <= 1 % of the task's negatives) runs into: a
    threshold at 1 % of the pooled negatives leaves more above it than the tasks' 1 % allow together when 1 % of a
    task is no whole number, and on some tasks no threshold meets both bounds."""
    labels = np.array([row["label"] for row in rows])
    above = int(np.sum(scores[labels == 0] > np.quantile(scores[labels == 0], 0.99)))
    tasks = sorted({row["task"] for row in rows})
    allowed = sum(_allowed_false_positives(task, rows) for task in tasks)
    verdict = (
        "so at least one task exceeds 1 % whatever the model"
        if above > allowed
        else "so every task can stay within 1 %"
    )
    unreachable = [task for task in tasks if not _reachable(task, scores, rows)]
    return (
        f"{above} pooled negatives lie above the threshold; 1 % of each task's negatives allows at most {allowed} over the"
        f" {len(tasks)} tasks, {verdict}. Tasks where no threshold, even one chosen on the task itself, meets both bounds"
        f" with these scores: {', '.join(unreachable) or 'none'}."
    )


def markdown(
    table: dict[str, dict[str, dict[str, float]]], rows: list[dict], seconds: float, combined: np.ndarray
) -> str:
    negatives = sum(1 for row in rows if not row["label"])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    levels = ("overall", *LEVELS)
    lines = [
        "## Plagiarism: detection quality",
        "",
        f"`python bench/plagiarism/evaluate.py` (commit {commit}, {time.strftime('%Y-%m-%d', time.gmtime())}, {seconds:.0f} s on the"
        f" shared 2-core machine). Dev set `bench/plagiarism/devset/`: {len({row['task'] for row in rows})} course-like tasks,"
        f" {len(rows)} pairs, {len(rows) - negatives} copies, {negatives} non-copies (independent solutions, textbook twins, starter-only)."
        " Combined models fitted leave-one-task-out; recall at one threshold set at 1 % false positives over all negatives"
        " pooled. Targets: ROC-AUC ≥ 0.99, recall ≥ 0.95 overall and ≥ 0.9 on structural rewrites and paraphrases.",
        "",
        "| method | ROC-AUC | AP | " + " | ".join(f"recall {level}" for level in levels) + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in levels) + " |",
    ]
    for method in METHODS:
        overall = table[method]["overall"]
        recalls = " | ".join(f"{table[method][level]['recall_at_1pct_fpr']:.2f}" for level in levels)
        lines.append(f"| {method} | {overall['auc']:.3f} | {overall['ap']:.3f} | {recalls} |")
    lines += [
        "",
        "Combined, each task held out (scored by models fitted on the others):",
        "",
        *by_task(combined, rows),
        "",
        per_task_bound(combined, rows),
    ]
    lines += ["", *CHANNEL_NOTES]
    return "\n".join(lines) + "\n"


def update_results(section: str) -> None:
    """Replace the detection-quality section of bench/RESULTS.md (or append it)."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = text.find("## Plagiarism: detection quality")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 3)
        text = text[:start] + section + (text[end:] if end >= 0 else "")
    RESULTS.write_text(text)


def main() -> None:
    started = time.perf_counter()
    build_dir = HERE / "build"
    cohorts = build(build_dir)
    settings = Settings()
    encoder = SentenceEncoder(settings.embedding_model, graph_folder=settings.data_dir / "plagiarism-cache")
    cache = EmbeddingCache(settings.data_dir / "plagiarism-cache", encoder.name)
    rows = []
    for cohort in cohorts:
        folder, starter = build_dir / cohort["folder"], HERE / cohort["starter"] / "solution.py"
        channels = channel_scores(cohort, build_dir, encoder, cache)
        known = [starter.parent] + ([HERE / cohort["known_sources"]] if cohort["known_sources"] else [])
        baseline = copydetect_scores(folder, known)
        dolos = dolos_scores(folder, starter)
        for pair in cohort["pairs"]:
            key = tuple(sorted((pair["a"], pair["b"])))
            rows.append(
                {
                    **pair,
                    "task": cohort["task"],
                    "level": cohort["level"],
                    **channels[key],
                    "copydetect": baseline.get(key, 0.0),
                    "dolos": dolos.get(key, 0.0),
                }
            )
    rows_array = {name: np.array([row[name] for row in rows]) for name in ("label", "level")}
    raw = cross_validated(rows, WEIGHED)
    # Scored as the detector scores: the kept-names model is a floor under the raw-channel one, which is a floor under
    # the one with the relative features.
    floor = np.fmax(raw, cross_validated(rows, KEPT_NAMES, _keeps_names))
    combined = {"combined": np.fmax(cross_validated(rows, FEATURES), floor), "combined_raw": raw}  # fmax: NaN gives way
    table = {
        method: metrics(
            combined[method] if method in combined else np.array([row[method] for row in rows]),
            rows_array["label"],
            rows_array["level"],
        )
        for method in METHODS
    }
    # The raw-channel model scores pairs where a side has too few partners for the relative features, and is a floor.
    # Flagged from the score that 1 % of the independent pairs reach, as the recall column counts.
    threshold = float(np.quantile(combined["combined"][rows_array["label"] == 0], 0.99))
    calibration = replace(
        fitted(rows, FEATURES),
        fallback=replace(fitted(rows, WEIGHED), fallback=fitted(rows, KEPT_NAMES, _keeps_names)),
        flag_threshold=threshold,
    )
    calibration.save(DEFAULT_PATH)
    (build_dir / "scores.json").write_text(
        json.dumps(
            [
                {**row, **{name: float(scores[position]) for name, scores in combined.items()}}
                for position, row in enumerate(rows)
            ],
            indent=1,
        )
    )
    section = markdown(table, rows, time.perf_counter() - started, combined["combined"])
    update_results(section)
    print(section)


if __name__ == "__main__":
    # Without arguments it rebuilds the cohorts and rewrites calibration.json and RESULTS.md: --help must not.
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    main()
