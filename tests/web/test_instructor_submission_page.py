"""The instructor's submission page: the code inline with syntax highlighting, every check's pass/fail, and which
sandbox graded it, a local (weakly isolated) result marked plainly."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.web.conftest import sign_in, submission_id_of, upload, wait_graded


def test_code_checks_and_a_weak_local_sandbox_are_on_the_page(client: TestClient, people):
    csrf = sign_in(client, people["alice"].email)
    submission_id = submission_id_of(upload(client, csrf, "half.py"))
    assert wait_graded(client, submission_id) == "graded"
    assert client.get("/instructor/code.css").status_code == 403

    sign_in(client, people["teacher"].email)
    page = client.get(f"/instructor/submissions/{submission_id}").text
    code = page[page.index('data-code="solution.py"') :]
    assert '<span class="k">def</span><span class="w"> </span><span class="nf">add</span>' in code  # Pygments' tokens
    checks = dict(re.findall(r'<tr data-check="(\w+)">.*?<span class="status [\w-]+">(\w+)</span>', page))
    assert checks == {"add_correct": "pass", "mean_correct": "fail"}
    assert "Sandbox: <strong>local</strong>" in page and "data-weak-isolation" in page
    stylesheet = client.get("/instructor/code.css")
    assert stylesheet.headers["content-type"].startswith("text/css") and ".highlight .k" in stylesheet.text
