from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from grader.entrypoints.admin import admin
from grader.settings import Settings
from grader.web.app import create_app
from tests.web.conftest import PASSWORD, csrf_from, sqlite_url


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return sqlite_url(tmp_path)


def test_import_roster_prints_one_working_invitation_link_per_new_student(
    tmp_path: Path, settings: Settings, web_options
):
    roster = tmp_path / "roster.csv"
    roster.write_text("email,name,student_number\nAna@Example.edu,Ana Ames,s010\nben@example.edu,Ben Bo,\n")
    env = {
        "GRADER_DATA_DIR": str(settings.data_dir),
        "GRADER_DATABASE_URL": settings.effective_database_url,
        "GRADER_COURSE_DIR": str(settings.course_dir),
    }
    runner = CliRunner()

    first = runner.invoke(admin, ["import-roster", str(roster), "--base-url", "http://testserver"], env=env)
    assert first.exit_code == 0, first.output
    links = dict(line.split(",") for line in first.stdout.splitlines()[1:])
    assert set(links) == {"ana@example.edu", "ben@example.edu"}
    again = runner.invoke(admin, ["import-roster", str(roster)], env=env)
    assert again.stdout.splitlines() == ["email,invitation_link"]

    with TestClient(create_app(settings, web_options)) as client:
        invite = links["ana@example.edu"].removeprefix("http://testserver")
        page = client.get(invite)
        client.post(invite, data={"password": PASSWORD, "password_again": PASSWORD, "csrf_token": csrf_from(page.text)})
        assert "Ana Ames (student)" in client.get("/assignments").text

    token = runner.invoke(admin, ["create-token", "ana@example.edu"], env=env).stdout.strip()
    with TestClient(create_app(settings, web_options)) as client:
        assert client.get("/api/assignments", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_roster_row_without_an_email_is_refused(tmp_path: Path, settings: Settings):
    roster = tmp_path / "roster.csv"
    roster.write_text("email,name\n,Nobody\n")
    result = CliRunner().invoke(
        admin,
        ["import-roster", str(roster)],
        env={"GRADER_DATA_DIR": str(settings.data_dir), "GRADER_DATABASE_URL": settings.effective_database_url},
    )
    assert result.exit_code != 0
    assert "lines [2]" in result.output
