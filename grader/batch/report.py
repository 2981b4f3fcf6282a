"""The batch's outputs: results.csv (one row per student) and a self-contained summary.html (plots inline as SVG)."""

from __future__ import annotations

import csv
import html
import io
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import sessionmaker

from grader.batch.service import PlannedEntry
from grader.domain.rubric import Rubric
from grader.gradebook.repository import Gradebook
from grader.queue.identity import JobTrace, job_trace

if TYPE_CHECKING:
    from matplotlib.figure import Figure

SLOWEST_SHOWN = 10


@dataclass(frozen=True)
class StudentResult:
    student: str
    sha256: str
    status: str
    score: float | None
    message: str
    duration_s: float = 0.0
    criteria: dict[str, float] = field(default_factory=dict)  # criterion id -> points (automated criteria only)
    graded_on: JobTrace | None = None  # the worker that produced this result


def collect_results(session_factory: sessionmaker, planned: Sequence[PlannedEntry]) -> list[StudentResult]:
    """Each student's current gradebook result for the submission of this batch."""
    results = []
    with session_factory() as session:
        gradebook = Gradebook(session)
        for item in planned:
            if item.submission_id is None:
                results.append(StudentResult(item.entry.student, "", "rejected", None, item.rejection or ""))
                continue
            submission = gradebook.submissions.submission(item.submission_id)
            record = gradebook.submissions.current_record(item.submission_id)
            if record is None:  # the batch was interrupted before this one was graded
                results.append(StudentResult(item.entry.student, submission.sha256, "pending", None, ""))
                continue
            result = record.result
            results.append(
                StudentResult(
                    item.entry.student,
                    submission.sha256,
                    record.status,
                    record.score,
                    result.get("message", ""),
                    duration_s=float(result.get("duration_s", 0.0)),
                    criteria={c["id"]: float(c["points"]) for c in result.get("criteria", []) if not c.get("manual")},
                    graded_on=job_trace(gradebook.submissions.job(record.job_id)),
                )
            )
    return results


def write_results_csv(path: Path, rubric: Rubric, results: Sequence[StudentResult]) -> None:
    criterion_ids = [criterion.id for criterion in rubric.criteria]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "sha256", "status", "score", *criterion_ids, "worker", "sandbox_image", "gpu"])
        for result in results:
            trace = result.graded_on
            writer.writerow(
                [
                    result.student,
                    result.sha256,
                    result.status,
                    "" if result.score is None else f"{result.score:g}",
                    *(f"{result.criteria[c]:g}" if c in result.criteria else "" for c in criterion_ids),
                    trace.worker if trace else "",
                    (trace.sandbox_image or "") if trace else "",
                    (trace.gpu or "") if trace else "",
                ]
            )


def _figure(width: float, height: float) -> Figure:
    # Imported here: every grader command loads this module (the CLI registers `batch`), and matplotlib takes a second or two.
    from matplotlib.figure import Figure  # the object API: no pyplot state, no display backend

    return Figure(figsize=(width, height))


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG sits inside HTML


def score_histogram(results: Sequence[StudentResult], max_score: float) -> str:
    figure = _figure(6, 3)
    axes = figure.subplots()
    scores = [r.score for r in results if r.score is not None]
    axes.hist(scores, bins=[x * 0.5 for x in range(int(max_score * 2) + 2)], color="#3b6ea8", edgecolor="white")
    axes.set_xlabel(f"score (of {max_score:g})")
    axes.set_ylabel("students")
    axes.set_title("Score distribution")
    return _svg(figure)


def pass_rates(rubric: Rubric, results: Sequence[StudentResult]) -> dict[str, float]:
    """Share of graded students with full points on each automated criterion."""
    graded = [r for r in results if r.criteria]
    return {
        criterion.id: (
            sum(r.criteria.get(criterion.id, 0.0) >= criterion.points for r in graded) / len(graded) if graded else 0.0
        )
        for criterion in rubric.criteria
        if not criterion.manual
    }


def pass_rate_chart(rates: dict[str, float]) -> str:
    figure = _figure(6, 0.4 * len(rates) + 1)
    axes = figure.subplots()
    names = list(rates)[::-1]
    axes.barh(names, [rates[n] * 100 for n in names], color="#4c9a5b")
    axes.set_xlim(0, 100)
    axes.set_xlabel("students with full points (%)")
    axes.set_title("Per-criterion pass rate")
    return _svg(figure)


def summary_html(title: str, rubric: Rubric, results: Sequence[StudentResult]) -> str:
    max_score = sum(criterion.points for criterion in rubric.criteria)
    statuses = Counter(result.status for result in results)
    slowest = sorted((r for r in results if r.duration_s), key=lambda r: r.duration_s, reverse=True)[:SLOWEST_SHOWN]
    scores = [r.score for r in results if r.score is not None]
    mean = f"{sum(scores) / len(scores):.2f}" if scores else "–"
    status_rows = "".join(f"<tr><td>{html.escape(s)}</td><td>{n}</td></tr>" for s, n in sorted(statuses.items()))
    slow_rows = "".join(
        f"<tr><td>{html.escape(r.student)}</td><td>{r.duration_s:.1f}</td><td>{html.escape(r.status)}</td>"
        f"<td>{'' if r.score is None else f'{r.score:g}'}</td></tr>"
        for r in slowest
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2rem .6rem;text-align:left}}
figure{{margin:1rem 0}}</style></head>
<body>
<h1>{html.escape(title)}</h1>
<p>{len(results)} students; mean score {mean} of {max_score:g} (automated criteria; manual points pending).</p>
<h2>Status</h2>
<table><tr><th>status</th><th>students</th></tr>{status_rows}</table>
<h2>Scores</h2>
<figure>{score_histogram(results, max_score)}</figure>
<h2>Criteria</h2>
<figure>{pass_rate_chart(pass_rates(rubric, results))}</figure>
<h2>Slowest submissions</h2>
<table><tr><th>student</th><th>seconds</th><th>status</th><th>score</th></tr>{slow_rows}</table>
</body></html>
"""


def write_reports(out_dir: Path, title: str, rubric: Rubric, results: Sequence[StudentResult]) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path, html_path = out_dir / "results.csv", out_dir / "summary.html"
    write_results_csv(csv_path, rubric, results)
    html_path.write_text(summary_html(title, rubric, results), encoding="utf-8")
    return csv_path, html_path
