"""The assignment page is the assignment: the handout README rendered, the public rubric with its points, the limits
of the graded run, and the handout zip, the same as `grader handout` builds."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from fastapi.testclient import TestClient

from grader.handout import build_handout
from grader.settings import Settings
from tests.web.conftest import sign_in


def test_the_assignment_page_renders_the_handout_rubric_and_limits(client: TestClient, people, settings: Settings):
    readme = settings.course_dir / "assignments" / "p1" / "README.md"
    readme.write_text(
        readme.read_text() + '\n## Requirements\n\n1. <a id="R1"></a>**R1** `add(a, b)` returns a + b.\n'
        "\n| name | returns |\n| --- | --- |\n| `mean` | the mean |\n"
    )
    sign_in(client, people["alice"].email)
    page = client.get("/assignments/p1").text
    handout = page[page.index("data-handout>") :]
    assert '<h1 id="sums-write-adda-b-and-meanvalues-in-solutionpy">Sums' in handout
    assert '<a id="R1"></a><strong>R1</strong> <code>add(a, b)</code>' in handout
    assert "<td><code>mean</code></td>" in handout
    rubric = page[page.index("data-rubric") : page.index("</table>", page.index("data-rubric"))]
    assert "<td>Addition</td><td>10</td><td>automatically</td>" in rubric
    assert "<td>Code style (read by an instructor)</td><td>4</td><td>by an instructor</td>" in rubric
    limits = page[page.index("data-limits") : page.index("</ul>", page.index("data-limits"))]
    assert "20 s for the whole run" in limits and "512 MB of memory" in limits


def test_the_handout_zip_is_the_one_grader_handout_builds(
    client: TestClient, people, settings: Settings, tmp_path: Path
):
    sign_in(client, people["bob"].email)
    response = client.get("/assignments/p1/handout.zip")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    downloaded = zipfile.ZipFile(io.BytesIO(response.content))
    built = zipfile.ZipFile(build_handout(settings, "p1", tmp_path / "p1.zip"))
    assert sorted(downloaded.namelist()) == sorted(built.namelist())
    assert {name: downloaded.read(name) for name in downloaded.namelist()} == {
        name: built.read(name) for name in built.namelist()
    }
    assert not any("hidden_tests" in name for name in downloaded.namelist())
    assert client.get("/assignments/p9/handout.zip").status_code == 404
    client.cookies.clear()
    assert client.get("/assignments/p1/handout.zip", follow_redirects=False).status_code == 303  # signed in only
