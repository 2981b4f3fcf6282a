"""The mutation report: figures per file and per criterion, as JSON and as one self-contained HTML page."""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from grader.mutation.generate import unified_diff
from grader.mutation.run import MutantOutcome, MutationRun

STATUSES = ("killed", "survived", "timed_out", "equivalent", "errored")


def counts(outcomes: list[MutantOutcome]) -> dict[str, int]:
    found = Counter(item.status for item in outcomes)
    return {status: found.get(status, 0) for status in STATUSES}


def mutation_score(figures: dict[str, int]) -> float | None:
    """killed / (analysed - equivalent); None when nothing non-equivalent was analysed."""
    considered = sum(figures.values()) - figures["equivalent"]
    return round(figures["killed"] / considered, 4) if considered else None


def per_file(outcomes: list[MutantOutcome]) -> dict[str, dict[str, int]]:
    grouped: dict[str, list[MutantOutcome]] = defaultdict(list)
    for item in outcomes:
        grouped[item.mutant.file].append(item)
    return {file: counts(items) for file, items in sorted(grouped.items())}


def per_criterion(run: MutationRun) -> dict[str, dict[str, int]]:
    """For each automated criterion: the mutants that lose points on it, and the survivors triaged as its gaps."""
    killed = Counter(c for item in run.outcomes for c in item.lost_criteria)
    gaps = Counter(item.gap_criterion for item in run.outcomes if item.status == "survived" and item.gap_criterion)
    return {
        criterion: {"killed": killed.get(criterion, 0), "gaps": gaps.get(criterion, 0)}
        for criterion in sorted(run.reference.points)
    }


def untriaged_survivors(run: MutationRun) -> list[str]:
    return [item.mutant.id for item in run.outcomes if item.status == "survived" and item.triage is None]


def stale_equivalences(run: MutationRun) -> list[str]:
    """Mutants triaged equivalent that the checks do kill: the triage entry is wrong."""
    return [item.mutant.id for item in run.outcomes if item.triage == "equivalent" and item.status == "killed"]


def shows_diff(item: MutantOutcome) -> bool:
    """Every graded mutant that was not killed; those of files triaged equivalent as a whole are only counted."""
    return item.graded and item.status != "killed"


def report_data(run: MutationRun, reference_dir: Path) -> dict[str, Any]:
    figures = counts(run.outcomes)
    return {
        "assignment": run.assignment_id,
        "generated": run.generated,
        "analysed": run.sampled,
        "timeout_s": run.timeout_s,
        "reference_duration_s": run.reference.duration_s,
        "totals": figures,
        "score": mutation_score(figures),
        "per_file": per_file(run.outcomes),
        "per_criterion": per_criterion(run),
        "untriaged_survivors": untriaged_survivors(run),
        "stale_equivalences": stale_equivalences(run),
        "mutants": [
            {
                "id": item.mutant.id,
                "file": item.mutant.file,
                "line": item.mutant.line,
                "operator": item.mutant.operator,
                "status": item.status,
                "triage": item.triage,
                "lost_criteria": list(item.lost_criteria),
                "failed_checks": list(item.failed_checks),
                "duration_s": item.duration_s,
                "graded": item.graded,
                "diff": unified_diff(reference_dir, item.mutant) if shows_diff(item) else None,
            }
            for item in run.outcomes
        ],
    }


def _table(header: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def report_html(data: dict[str, Any]) -> str:
    score = "–" if data["score"] is None else f"{data['score']:.1%}"
    files = _table(["file", *STATUSES], [[f, *(c[s] for s in STATUSES)] for f, c in data["per_file"].items()])
    criteria = _table(
        ["criterion", "mutants losing points on it", "survivors triaged as its gaps"],
        [[c, v["killed"], v["gaps"]] for c, v in data["per_criterion"].items()],
    )
    shown = [m for m in data["mutants"] if m["diff"] is not None]
    survivors = "".join(
        f"<h3>{html.escape(m['id'])} · {m['status']} · {html.escape(m['triage'] or 'not triaged')}</h3>"
        f"<pre>{html.escape(m['diff'] or '')}</pre>"
        for m in shown
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mutation analysis: {html.escape(data["assignment"])}</title>
<style>body{{font-family:sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.2rem .6rem;text-align:left}}
pre{{background:#f6f6f6;padding:.5rem;overflow-x:auto}}</style></head>
<body>
<h1>Mutation analysis of {html.escape(data["assignment"])}'s hidden tests</h1>
<p>{data["analysed"]} of {data["generated"]} generated mutants analysed; per-mutant timeout {data["timeout_s"]} s.
Score (killed / (analysed − equivalent)): <strong>{score}</strong>.</p>
{_table(list(STATUSES), [[data["totals"][s] for s in STATUSES]])}
<p>Survivors not triaged in mutation.yaml: {len(data["untriaged_survivors"])};
equivalences the checks contradict: {len(data["stale_equivalences"])}.</p>
<h2>Per file</h2>{files}
<h2>Per criterion</h2>{criteria}
<h2>Graded mutants not killed</h2>{survivors or "<p>none</p>"}
</body></html>
"""


def write_report(run: MutationRun, reference_dir: Path, out_dir: Path) -> tuple[Path, Path]:
    data = report_data(run, reference_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, html_path = out_dir / "report.json", out_dir / "report.html"
    json_path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    html_path.write_text(report_html(data), encoding="utf-8")
    return json_path, html_path
