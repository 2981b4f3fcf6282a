from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from grader.db.base import Base, make_engine, make_session_factory
from grader.db.plagiarism_models import PlagiarismCase, PlagiarismRun
from grader.entrypoints.plagiarism import plagiarism, review_app
from grader.plagiarism.calibration import load_calibration
from grader.plagiarism.review import confirmed_cases_for, decide, flag_pairs
from tests.plagiarism.conftest import ALICE, BOB, CAROL, MALLORY, STARTER


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'gradebook.sqlite3'}"
    Base.metadata.create_all(make_engine(url))
    return url


@pytest.fixture
def session(database_url: str) -> Session:
    with make_session_factory(make_engine(database_url))() as session:
        yield session


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> typer.Typer:
    monkeypatch.setenv("GRADER_DATABASE_URL", database_url)
    monkeypatch.setenv("GRADER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GRADER_COURSE_DIR", str(tmp_path / "course"))
    app = typer.Typer()
    app.command("plagiarism")(plagiarism)
    app.add_typer(review_app, name="plagiarism-review")
    return app


def test_confirming_a_case_records_the_decision_for_both_students(session: Session):
    pairs = [
        {"a": "alice.py", "b": "mallory.ipynb", "score": 0.97, "channels": {"token": 0.9}},
        {"a": "bob.py", "b": "carol.py", "score": 0.1, "channels": {}},
    ]
    [case] = flag_pairs(session, "p1", pairs, threshold=0.5)
    assert (case.student_a, case.student_b, case.status) == ("alice", "mallory", "flagged")
    decide(session, case.id, "confirmed", "same quirks in tokenize", "dr.smith")
    assert [c.id for c in confirmed_cases_for(session, "alice")] == [case.id]
    assert [c.id for c in confirmed_cases_for(session, "mallory")] == [case.id]
    assert confirmed_cases_for(session, "bob") == []


def test_a_decision_needs_a_comment_and_a_real_status(session: Session):
    [case] = flag_pairs(session, "p1", [{"a": "a.py", "b": "b.py", "score": 0.9}], threshold=0.5)
    with pytest.raises(ValueError, match="comment"):
        decide(session, case.id, "confirmed", "  ", "dr.smith")
    with pytest.raises(ValueError, match="decision"):
        decide(session, case.id, "flagged", "undo", "dr.smith")


def test_reflagging_keeps_an_instructors_decision(session: Session):
    [case] = flag_pairs(session, "p1", [{"a": "a.py", "b": "b.py", "score": 0.9}], threshold=0.5)
    decide(session, case.id, "dismissed", "pair programming was allowed", "dr.smith")
    [again] = flag_pairs(session, "p1", [{"a": "b.py", "b": "a.py", "score": 0.95}], threshold=0.5)
    assert again.id == case.id and again.status == "dismissed" and again.score == 0.9


def test_cli_ranks_pairs_writes_reports_and_opens_cases_to_review(cli: typer.Typer, tmp_path: Path, database_url: str):
    cohort = tmp_path / "submissions"
    cohort.mkdir()
    for name, code in {
        "alice.py": ALICE,
        "bob.py": BOB,
        "carol.py": CAROL,
        "mallory.py": MALLORY,
        "broken.py": "x = 'é'\n".encode("latin-1"),
    }.items():
        (cohort / name).write_bytes(code if isinstance(code, bytes) else code.encode())
    starter = tmp_path / "starter.py"
    starter.write_text(STARTER)
    archive = tmp_path / "last_year"
    archive.mkdir()
    (archive / "old_bob.py").write_text(BOB)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "plagiarism",
            "--assignment",
            "p1",
            "--starter",
            str(starter),
            str(cohort),
            "--against",
            str(archive),
            "--report",
            str(tmp_path / "r.html"),
            "--json",
            str(tmp_path / "p.json"),
            "--csv",
            str(tmp_path / "p.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "p.json").read_text())
    top = report["pairs"][0]
    assert {top["a"], top["b"]} in ({"alice.py", "mallory.py"}, {"bob.py", "old_bob.py"})
    assert (
        set(top["channels"]) == {"token", "canonical_token", "literal_token", "identifiers", "semantic"}
        and 0 <= top["score"] <= 1
    )
    assert set(top["relative"]) == set(top["channels"]), (
        "each channel also as it stands against both students' other partners"
    )
    assert report["flag_threshold"] == load_calibration().flag_threshold
    assert any(
        {pair["a"], pair["b"]} == {"bob.py", "old_bob.py"}
        and pair["b_origin"] == "last_year"
        and pair["score"] >= report["flag_threshold"]
        for pair in report["pairs"]
    )
    assert (
        report["skipped"] == [{"name": "broken.py", "reason": report["skipped"][0]["reason"]}]
        and "UTF-8" in report["skipped"][0]["reason"]
    )
    assert (tmp_path / "p.csv").read_text().startswith("a,b,a_origin,b_origin,score")
    html = (tmp_path / "r.html").read_text()
    assert '<mark class="token">' in html and "mallory.py" in html

    listed = runner.invoke(cli, ["plagiarism-review", "list", "--assignment", "p1"])
    assert listed.exit_code == 0, listed.output
    rows = [line.split("\t") for line in listed.output.strip().splitlines()]
    assert [(row[2], row[3], row[5]) for row in rows] == [
        ("alice", "mallory", "flagged")
    ]  # archive matches are not cases
    confirmed = runner.invoke(
        cli, ["plagiarism-review", "confirm", rows[0][0], "--comment", "identical tokenizer quirks", "--by", "dr.smith"]
    )
    assert confirmed.exit_code == 0, confirmed.output
    with make_session_factory(make_engine(database_url))() as session:
        [case] = confirmed_cases_for(session, "mallory")
        assert (case.comment, case.decided_by) == ("identical tokenizer quirks", "dr.smith")


def test_cli_dismiss_of_an_unknown_case_fails_cleanly(cli: typer.Typer):
    result = CliRunner().invoke(cli, ["plagiarism-review", "dismiss", "999", "--comment", "x", "--by", "me"])
    assert result.exit_code == 1
    assert "no plagiarism case 999" in result.output


def test_a_case_from_a_moodle_export_lands_on_the_keys_batch_grading_gives_the_students(
    session: Session, tmp_path: Path
):
    """The detector names submissions by their folder; batch grading keys the same folders by participant number."""
    from grader.batch.discover import discover_folder

    export = tmp_path / "export"
    for folder in ("Ada Lovelace_1001_assignsubmission_file_", "Alan Turing_1002_assignsubmission_file_"):
        (export / folder).mkdir(parents=True)
        (export / folder / "solution.py").write_text("x = 1\n")
    graded_as = {entry.original_name: entry.student for entry in discover_folder(export)}
    pairs = [
        {
            "a": "Ada Lovelace_1001_assignsubmission_file_/",
            "b": "Alan Turing_1002_assignsubmission_file_/solution.py",
            "score": 0.95,
        }
    ]
    [case] = flag_pairs(session, "p1", pairs, threshold=0.5)
    assert (case.student_a, case.student_b) == ("1001", "1002")
    assert {case.student_a, case.student_b} == set(graded_as.values())


def test_a_decided_case_reads_its_dates_back_in_utc_on_sqlite(database_url: str):
    with make_session_factory(make_engine(database_url))() as session:
        [case] = flag_pairs(session, "p1", [{"a": "a.py", "b": "b.py", "score": 0.9}], threshold=0.5)
        decide(session, case.id, "dismissed", "same textbook recipe", "dr.smith")
        session.commit()
    with make_session_factory(make_engine(database_url))() as session:
        [stored] = session.scalars(select(PlagiarismCase)).all()
        assert stored.created_at.tzinfo is not None and stored.created_at.utcoffset().total_seconds() == 0
        assert stored.decided_at.tzinfo is not None


def test_detector_runs_asked_for_are_carried_out_once_by_serving_workers(database_url: str, tmp_path: Path):
    """Under Celery every worker serves the dashboard's detector runs: two servers at once, each run carried out once."""
    import threading
    import time

    from grader.plagiarism import runs
    from grader.settings import Settings

    settings = Settings(database_url=database_url, data_dir=tmp_path / "data", course_dir=tmp_path / "course")
    factory = make_session_factory(make_engine(database_url))
    with factory.begin() as session:
        run_id = runs.request_run(session, "p1", "dr.smith").id
    carried_out: list[bool] = []
    real = runs.execute_run

    def counted(*args, **kwargs) -> bool:
        carried_out.append(real(*args, **kwargs))
        return carried_out[-1]

    stopping = threading.Event()
    original, runs.execute_run = runs.execute_run, counted
    try:
        servers = [threading.Thread(target=runs.serve_runs, args=(settings, factory, stopping, 0.05)) for _ in range(2)]
        for server in servers:
            server.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with factory() as session:
                if session.get(PlagiarismRun, run_id).state in ("done", "failed"):
                    break
            time.sleep(0.05)
    finally:
        stopping.set()
        for server in servers:
            server.join()
        runs.execute_run = original
    with factory() as session:
        run = session.get(PlagiarismRun, run_id)
        assert run.state in ("done", "failed") and run.finished_at is not None and run.summary
    assert carried_out.count(True) == 1
