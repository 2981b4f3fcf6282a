from __future__ import annotations

from pathlib import Path

from grader.plagiarism.detector import DetectorSettings
from grader.plagiarism.report import render_html
from tests.plagiarism.conftest import ALICE, BOB, MALLORY


def test_html_report_renders_the_top_pair_with_highlighted_regions(run_detection, tmp_path: Path):
    detection = run_detection({"alice.py": ALICE, "bob.py": BOB, "mallory.py": MALLORY})
    path = tmp_path / "report.html"
    render_html(detection, path, title="Plagiarism report — hw1")
    html = path.read_text()
    start = html.index('id="pair-1"')
    top_section = html[start : html.index("</details>", start)]
    assert "alice.py" in top_section and "mallory.py" in top_section
    assert top_section.count('<mark class="token">') >= 2  # both sides
    assert '<mark class="unit">' in top_section or top_section.count('<mark class="token">') >= 4
    assert "<svg" in html and "<script" not in html and "http" not in html.split("<body>")[1]  # self-contained
    assert (
        "<dt>kept_names</dt>" in html and f"pairs from {detection.flag_threshold:.3f} are flagged" in html
    )  # drivers and threshold explained


def test_only_the_top_pairs_are_located_and_shown_side_by_side(run_detection, tmp_path: Path):
    detection = run_detection(
        {"alice.py": ALICE, "bob.py": BOB, "mallory.py": MALLORY}, DetectorSettings(side_by_side=1)
    )
    assert len(detection.pairs) == 3
    assert detection.pairs[0].tokens is not None and all(pair.tokens is None for pair in detection.pairs[1:])
    path = tmp_path / "report.html"
    render_html(detection, path, title="Plagiarism report — hw1")
    html = path.read_text()
    assert 'id="pair-1"' in html and 'id="pair-2"' not in html
