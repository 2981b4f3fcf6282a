"""`grader admin ...`; registered on the main Typer app by grader/entrypoints/cli.py."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from grader.settings import Settings

if TYPE_CHECKING:
    from grader.gradebook.accounts import RosterEntry
    from grader.gradebook.repository import Gradebook

# The database is imported inside the commands: every `grader` call loads this module
# (grader/entrypoints/cli.py).

admin = typer.Typer(
    help="Gradebook administration: accounts, invitations, API tokens, migrations.", no_args_is_help=True
)
BASE_URL_HELP = "where students reach the server, for the invitation links"


@contextmanager
def _gradebook(settings: Settings) -> Iterator[Gradebook]:
    """The gradebook in one transaction, its schema brought up to date first."""
    from grader.db.base import make_engine, make_session_factory
    from grader.db.migrations import upgrade_to_head
    from grader.gradebook.repository import Gradebook

    upgrade_to_head(settings.effective_database_url)
    with make_session_factory(make_engine(settings.effective_database_url)).begin() as session:
        yield Gradebook(session)


def read_roster(path: Path) -> list[RosterEntry]:
    """CSV with a header row: email, name, and optionally student_number."""
    from grader.gradebook.accounts import RosterEntry

    with path.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    missing = [n for n, row in enumerate(rows, start=2) if not (row.get("email") or "").strip() or not row.get("name")]
    if missing:
        raise typer.BadParameter(f"rows without email or name: lines {missing}")
    return [RosterEntry(row["email"], row["name"], (row.get("student_number") or "").strip() or None) for row in rows]


@admin.command("migrate")
def migrate() -> None:
    """Bring the database schema up to date (the server also does this at start)."""
    from grader.db.migrations import upgrade_to_head

    settings = Settings()
    upgrade_to_head(settings.effective_database_url)
    typer.echo(f"database at head: {settings.effective_database_url.split('@')[-1]}")


@admin.command("import-roster")
def import_roster(
    csv_path: Path = typer.Argument(..., exists=True, dir_okay=False),
    base_url: str = typer.Option("http://127.0.0.1:8000", help=BASE_URL_HELP),
) -> None:
    """Create student accounts from a roster CSV and print one invitation link per new student."""
    entries = read_roster(csv_path)
    with _gradebook(Settings()) as gradebook:
        created = gradebook.accounts.import_roster(entries)
        lines = [f"{user.email},{base_url.rstrip('/')}/invite/{invite}" for user, invite in created]
    typer.echo("email,invitation_link")
    for line in lines:
        typer.echo(line)
    typer.echo(f"{len(lines)} new, {len(entries) - len(lines)} already known", err=True)


@admin.command("create-instructor")
def create_instructor(
    email: str,
    name: str = typer.Option(..., prompt=True),
    base_url: str = typer.Option("http://127.0.0.1:8000", help=BASE_URL_HELP),
) -> None:
    """Create an instructor account and print its invitation link."""
    from grader.gradebook.accounts import RosterEntry

    with _gradebook(Settings()) as gradebook:
        if gradebook.accounts.user_by_email(email):
            raise typer.BadParameter(f"{email} already has an account")
        _, invite = gradebook.accounts.add_user(RosterEntry(email, name), "instructor")
    typer.echo(f"{base_url.rstrip('/')}/invite/{invite}")


@admin.command("reinvite")
def reinvite(email: str, base_url: str = typer.Option("http://127.0.0.1:8000", help=BASE_URL_HELP)) -> None:
    """Issue a fresh one-time invitation link (e.g. a forgotten password); the old password stops working."""
    with _gradebook(Settings()) as gradebook:
        user = gradebook.accounts.user_by_email(email)
        if user is None:
            raise typer.BadParameter(f"no account for {email}")
        invite = gradebook.accounts.reissue_invite(user)
    typer.echo(f"{base_url.rstrip('/')}/invite/{invite}")


@admin.command("create-token")
def create_token(email: str, label: str = typer.Option("script")) -> None:
    """Print a new JSON API bearer token for an account."""
    with _gradebook(Settings()) as gradebook:
        user = gradebook.accounts.user_by_email(email)
        if user is None:
            raise typer.BadParameter(f"no account for {email}")
        typer.echo(gradebook.accounts.issue_api_token(user, label))


@admin.command("extend")
def extend(
    email: str = typer.Argument(..., help="the student's e-mail"),
    assignment_id: str = typer.Argument(..., help="the project, e.g. p3"),
    days: int = typer.Argument(..., help="days added to the student's dates for it (0 withdraws)"),
    by: str = typer.Option(..., "--by", help="e-mail of the instructor granting it (kept in the audit row)"),
    note: str = typer.Option("", help="the reason, kept in the audit row"),
) -> None:
    """Grant one student N more days for one project: their due date and course end for it move, nobody else's."""
    from grader.course_files import assignment_ids
    from grader.services.access import Forbidden, InvalidInput, NotFound
    from grader.services.deadlines import grant_in

    settings = Settings()
    if assignment_id not in assignment_ids(settings):
        raise typer.BadParameter(f"unknown assignment {assignment_id!r} (known: {', '.join(assignment_ids(settings))})")
    with _gradebook(settings) as gradebook:
        student, instructor = gradebook.accounts.user_by_email(email), gradebook.accounts.user_by_email(by)
        if student is None:
            raise typer.BadParameter(f"no account for {email}")
        try:
            grant_in(gradebook, student, instructor, assignment_id, days, note)
        except (Forbidden, InvalidInput, NotFound) as error:
            raise typer.BadParameter(f"{error} ({email}, --by {by})") from error
    typer.echo(f"{email}: {days} extra day(s) for {assignment_id}, granted by {by}")
