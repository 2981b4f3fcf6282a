"""The instructor dashboard lists the grading workers' heartbeats."""

from __future__ import annotations

from datetime import timedelta

from grader.db.base import make_engine, make_session_factory, utcnow
from grader.db.worker_models import WorkerHeartbeat
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


def test_dashboard_lists_live_and_recently_dead_workers_apart(client, people, settings):
    engine = make_engine(settings.effective_database_url)
    with make_session_factory(engine).begin() as session:
        session.add(
            WorkerHeartbeat(name="gpu-host:41", hostname="gpu-host", queues="gpu,grading", gpu=True, concurrency=2)
        )
        session.add(
            WorkerHeartbeat(
                name="cpu-host:7",
                hostname="cpu-host",
                queues="grading",
                gpu=False,
                concurrency=4,
                last_seen_at=utcnow() - timedelta(hours=1),
            )
        )
    engine.dispose()
    sign_in(client, people["teacher"].email)

    page = client.get("/instructor").text

    assert "Grading workers" in page
    alive_table = page.split('data-workers="alive"')[1].split("</table>")[0]
    dead_table = page.split('data-workers="dead"')[1].split("</table>")[0]
    assert "gpu-host:41" in alive_table and "cpu-host:7" not in alive_table
    assert "cpu-host:7" in dead_table and "gpu-host:41" not in dead_table
    gpu_row = page.split('data-worker="gpu-host:41"')[1].split("</tr>")[0]
    cpu_row = page.split('data-worker="cpu-host:7"')[1].split("</tr>")[0]
    assert "gpu,grading" in gpu_row and "alive" in gpu_row
    assert "silent" in cpu_row
