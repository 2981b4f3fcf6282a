"""The gradebook over SQLAlchemy: one unit of work's repositories, all on one session. The caller's
`session_factory.begin()` block is the unit of work, so everything done through one Gradebook commits (or rolls back)
together. Job claiming is the queue's (grader/queue/claims.py)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from grader.gradebook.accounts import Accounts
from grader.gradebook.manual_scores import ManualScores
from grader.gradebook.regrades import Regrades
from grader.gradebook.submissions import Submissions


class Gradebook:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.accounts = Accounts(session)
        self.submissions = Submissions(session)
        self.manual_scores = ManualScores(session)
        self.regrades = Regrades(session)
