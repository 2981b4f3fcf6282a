"""Writing a detection out: a self-contained HTML report (Jinja2), JSON and CSV for tools."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from grader.plagiarism.detector import Detection, PairResult
from grader.plagiarism.submissions import SubmittedCode

TEMPLATES = Path(__file__).with_name("templates")


def pair_record(pair: PairResult) -> dict:
    return {
        "a": pair.a,
        "b": pair.b,
        "a_origin": pair.a_origin,
        "b_origin": pair.b_origin,
        "score": round(pair.score, 4),
        "percentile": round(pair.percentile, 4),
        "channels": {name: round(value, 4) for name, value in pair.channels.items()},
        "relative": {name: round(value, 3) for name, value in pair.relative.items()},
        "driver": pair.driver,
        "units": [
            dict(vars(match)) for match in pair.unit_matches
        ],  # flat fields: asdict's deep copies cost seconds over thousands of pairs
    }


def detection_record(detection: Detection) -> dict:
    return {
        "pairs": [pair_record(pair) for pair in detection.pairs],
        "clusters": detection.clusters,
        "flag_threshold": detection.flag_threshold,
        "skipped": [asdict(item) for item in detection.skipped],
        "stats": detection.stats,
    }


def write_json(detection: Detection, path: Path) -> None:
    # Compact: json's C encoder does not indent, and a synthetic cohort of 1,000 lists ~9,000 pairs (6 s indented).
    path.write_text(json.dumps(detection_record(detection)) + "\n")


def write_csv(detection: Detection, path: Path) -> None:
    channel_names = sorted({name for pair in detection.pairs for name in pair.channels})
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["a", "b", "a_origin", "b_origin", "score", "percentile", *channel_names, "driver"])
        for pair in detection.pairs:
            writer.writerow(
                [
                    pair.a,
                    pair.b,
                    pair.a_origin,
                    pair.b_origin,
                    f"{pair.score:.4f}",
                    f"{pair.percentile:.4f}",
                    *(f"{pair.channels[name]:.4f}" for name in channel_names),
                    pair.driver,
                ]
            )


@dataclass(frozen=True)
class Segment:
    text: str
    kind: str  # "", "token" (shared fingerprints) or "unit" (a matched code unit)


def _file_offsets(submission: SubmittedCode) -> dict[str, int]:
    """Where each file's code starts in submission.code (after its `# file:` header)."""
    offsets, position = {}, 0
    for source in submission.files:
        header = f"# file: {source.path}\n"
        offsets[source.path] = position + len(header)
        position += len(header) + len(source.code) + 1
    return offsets


def _line_range(code: str, start_offset: int, lines: tuple[int, int]) -> tuple[int, int]:
    starts = [0] + [index + 1 for index, character in enumerate(code) if character == "\n"]
    first = starts[min(lines[0] - 1, len(starts) - 1)]
    last = starts[lines[1]] if lines[1] < len(starts) else len(code)
    return start_offset + first, start_offset + last


def segments(
    submission: SubmittedCode, token_ranges: list[tuple[int, int]], unit_ranges: list[tuple[int, int]]
) -> list[Segment]:
    text = submission.code
    kinds = [""] * len(text)
    for kind, ranges in (("unit", unit_ranges), ("token", token_ranges)):
        for start, end in ranges:
            for index in range(max(start, 0), min(end, len(text))):
                kinds[index] = kind
    result: list[Segment] = []
    start = 0
    for index in range(1, len(text) + 1):
        if index == len(text) or kinds[index] != kinds[start]:
            result.append(Segment(text[start:index], kinds[start]))
            start = index
    return result


def _unit_ranges(submission: SubmittedCode, matches: list[tuple[str, tuple[int, int]]]) -> list[tuple[int, int]]:
    offsets = _file_offsets(submission)
    codes = {source.path: source.code for source in submission.files}
    return [_line_range(codes[path], offsets[path], lines) for path, lines in matches if path in codes]


def _histogram(scores: list[float], bins: int = 20) -> list[dict]:
    counts = [0] * bins
    for score in scores:
        counts[min(int(score * bins), bins - 1)] += 1
    tallest = max(counts) or 1
    return [{"low": index / bins, "count": count, "height": count / tallest} for index, count in enumerate(counts)]


def side_by_side(detection: Detection, strong_unit: float = 0.5) -> list[dict]:
    """The top pairs, whose matching regions the detector located (`DetectorSettings.side_by_side`): each side's code
    cut into segments, shared fingerprints and strongly matched units marked."""
    by_key = {(submission.origin, submission.name): submission for submission in detection.submissions}
    views = []
    for rank, pair in enumerate(detection.pairs, start=1):
        if pair.tokens is None:
            break
        first, second = by_key[(pair.a_origin, pair.a)], by_key[(pair.b_origin, pair.b)]
        strong = [match for match in pair.unit_matches if match.similarity >= strong_unit]
        views.append(
            {
                "rank": rank,
                "pair": pair,
                "left": segments(
                    first,
                    pair.tokens.slices_a,
                    _unit_ranges(first, [(match.file_a, match.lines_a) for match in strong]),
                ),
                "right": segments(
                    second,
                    pair.tokens.slices_b,
                    _unit_ranges(second, [(match.file_b, match.lines_b) for match in strong]),
                ),
            }
        )
    return views


def case_records(detection: Detection) -> list[dict]:
    """The cohort's pairs as review cases take them: the pair record, with the side-by-side view where located."""
    views = {(view["pair"].a, view["pair"].b): view for view in side_by_side(detection)}
    records = []
    for pair in detection.pairs:
        if pair.a_origin != "cohort" or pair.b_origin != "cohort":
            continue
        record = pair_record(pair)
        if (view := views.get((pair.a, pair.b))) is not None:
            record["details"] = {
                "driver": pair.driver,
                "relative": record["relative"],
                "left": [[segment.text, segment.kind] for segment in view["left"]],
                "right": [[segment.text, segment.kind] for segment in view["right"]],
            }
        records.append(record)
    return records


def render_html(detection: Detection, path: Path, title: str, strong_unit: float = 0.5) -> None:
    views = side_by_side(detection, strong_unit)
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    html = environment.get_template("report.html.j2").render(
        title=title, detection=detection, views=views, histogram=_histogram(detection.all_scores)
    )
    path.write_text(html)
