"""Learned-quality figures of one graded run, for the seed spreads of p1-p4: grades a solution folder (the real
sandbox, GRADER_GRADING_SEED as set) and prints the quantities the judge compares with its bars, computed from the
run's probe records with the judge's own helpers.

Run:  GRADER_GRADING_SEED=1 python bench/quality_spread.py p3 reference_solutions/p3
"""

from __future__ import annotations

import sys
from pathlib import Path

from grader import pipeline
from grader.judge import ProbeData
from grader.sandbox.select import select_backend
from grader.settings import Settings


def p3_figures(judged: dict, probe: ProbeData) -> dict[str, float]:
    table, results = judged["main_system"](probe)
    valid = judged["valid_ids"](table, judged["MAIN"])
    emitted = judged["answers"](probe)
    spans = {chunk.chunk_id: chunk for chunk in table if chunk.chunk_id in valid}
    questions = judged["MAIN_QUESTIONS"]
    precision = 0.0
    for question in questions:
        cited = [spans[chunk_id] for chunk_id in emitted[question]["citations"] if chunk_id in spans]
        if emitted[question]["text"] != judged["NOT_FOUND_ANSWER"] and cited:
            precision += sum(
                judged["holds_gold"](chunk.source, chunk.start, chunk.end, question) for chunk in cited
            ) / len(emitted[question]["citations"])
    refused = sum(emitted[question]["text"] == judged["NOT_FOUND_ANSWER"] for question in questions)
    return {
        "recall@5": judged["recall_at_k"](results, questions, valid),
        "citation precision": precision / len(questions),
        "answerable not found": refused / len(questions),
    }


def p4_figures(judged: dict, probe: ProbeData) -> dict[str, float]:
    captions, expected = probe.step("captioner").value("captions"), judged["EXPECTED"]["captions"]
    return {
        "caption accuracy": sum(type(got) is str and got.strip() == want for got, want in zip(captions, expected))
        / len(expected)
    }


def p2_figures(judged: dict, probe: ProbeData) -> dict[str, float]:
    predictions, labels = probe.step("hidden_predictions").value("predictions"), judged["HIDDEN_LABELS"]
    accuracy = sum(int(p == y) for p, y in zip(predictions, labels)) / len(labels)
    return {"hidden accuracy": accuracy, "bar": judged["FROZEN"]["baseline_accuracy"] + judged["ACCURACY_MARGIN"]}


def p1_figures(judged: dict, probe: ProbeData) -> dict[str, float]:
    step = probe.step("training")
    return {"training steps": step.value("steps"), "held-out loss": -float(step.array("log_probs_after").mean())}


FIGURES = {
    "p1": ("training_reduces_loss", p1_figures),
    "p2": ("accuracy_beats_baseline", p2_figures),
    "p3": ("recall_at_5", p3_figures),
    "p4": ("caption_accuracy", p4_figures),
}


def main() -> None:
    assignment, folder = sys.argv[1], Path(sys.argv[2])
    captured: list[ProbeData] = []
    judge_outcome = pipeline.judge_outcome

    def capturing(course, outcome, result):
        captured.append(ProbeData.from_files(outcome.files, timed_out=outcome.status == "timeout"))
        return judge_outcome(course, outcome, result)

    pipeline.judge_outcome = capturing
    settings = Settings()
    grader = pipeline.Grader(settings, select_backend(settings, "docker", progress=print))
    verdict = grader.grade_path(folder, assignment)
    check_name, figures = FIGURES[assignment]
    judged = grader.materials(assignment).judge.checks[check_name].__globals__
    values = ", ".join(f"{name} {value:.3f}" for name, value in figures(judged, captured[0]).items())
    print(
        f"{assignment} {folder} seed {settings.grading_seed}: score {verdict.result.score:g} "
        f"[{verdict.result.status}, {verdict.result.duration_s:.0f} s]; {values}"
    )


if __name__ == "__main__":
    main()
