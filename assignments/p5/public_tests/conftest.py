"""Run from your repository's root: `cd my_project && pytest path/to/p5/public_tests`."""

from pathlib import Path

import pytest


@pytest.fixture
def repository() -> Path:
    return Path.cwd()


@pytest.fixture
def readme(repository: Path) -> str:
    path = repository / "README.md"
    assert path.is_file(), "run from your repository's root; it needs a README.md"
    return path.read_text(encoding="utf-8")
