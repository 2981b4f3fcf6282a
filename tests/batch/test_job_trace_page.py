"""The instructor's submission page names the worker that graded the shown result."""

from __future__ import annotations

from grader.db.base import make_engine, make_session_factory
from grader.domain.result import GradeResult
from grader.gradebook.repository import Gradebook
from grader.pipeline import accept_submission
from grader.queue.claims import JobClaims
from tests.web.conftest import (  # noqa: F401  (the web app's fixtures)
    client,
    course_dir,
    database_url,
    password_hash,
    people,
    settings,
    sign_in,
    web_options,
)


def test_the_submission_page_names_the_grading_worker_image_and_gpu(client, people, settings, tmp_path):
    upload = tmp_path / "solution.py"
    upload.write_text("def add(a, b):\n    return a + b\n")
    stored = accept_submission(upload, upload.name, "p1", settings)
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        gradebook = Gradebook(session)
        recorded = gradebook.submissions.record_submission(
            people["alice"].id, "p1", stored.sha256, stored.kind, upload.name, stored.size_bytes
        )
        job = JobClaims(session).claim(recorded.job_id)
        job.worker_host, job.worker_pid, job.worker_gpu = "gpu-host-3", 812, "NVIDIA H100 80GB HBM3"
        job.sandbox_image = "grader-sandbox:7bf394d7f591"
        result = GradeResult(assignment="p1", status="graded", score=16.0)
        JobClaims(session).finish(job, result.model_dump(mode="json"), None)
    engine.dispose()
    sign_in(client, people["teacher"].email)

    page = client.get(f"/instructor/submissions/{recorded.submission_id}").text

    assert "gpu-host-3:812 · grader-sandbox:7bf394d7f591 · NVIDIA H100 80GB HBM3" in page
