"""A lost point on the result page links to the handout's numbered requirements it comes from."""

from __future__ import annotations

from datetime import datetime, timezone

from grader.services.result_views import result_view
from grader.web.rendering import make_templates

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def stored_result(visibility: str = "always") -> dict:
    return {
        "assignment": "p1",
        "status": "graded",
        "duration_s": 1.0,
        "criteria": [
            {
                "id": "cleaning",
                "title": "Cleaning",
                "points": 1.0,
                "max_points": 2.0,
                "visibility": visibility,
                "feedback": "clean_corpus differs.\nRequirements of the handout not met: R3, R6.",
                "requirements": ["R3", "R6"],
            },
            {"id": "size", "title": "Size", "points": 1.0, "max_points": 1.0, "feedback": "ok"},
        ],
    }


def rendered(view) -> str:
    template = make_templates().env.get_template("_result.html")
    return template.render(result=view, deadline=None)


def test_the_requirements_of_a_lost_point_link_into_the_handout():
    view = result_view(stored_result(), {}, deadline=None, now=NOW, sees_everything=False)
    assert view.criteria[0].requirements == ("R3", "R6") and view.criteria[1].requirements == ()
    page = rendered(view)
    assert '<a href="/assignments/p1#R3">R3</a>' in page and '<a href="/assignments/p1#R6">R6</a>' in page


def test_a_hidden_criterion_names_no_requirement():
    view = result_view(
        stored_result("after_deadline"),
        {},
        deadline=datetime(2027, 1, 1, tzinfo=timezone.utc),
        now=NOW,
        sees_everything=False,
    )
    assert view.criteria[0].hidden and view.criteria[0].requirements == ()
    assert "#R3" not in rendered(view)
