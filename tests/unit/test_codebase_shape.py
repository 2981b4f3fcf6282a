"""The codebase's shape, checked: docs name only modules that exist, no import cycles, no oversized modules."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "grader"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def grader_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and "runtime" not in path.parts
    }


def top_level_imports(path: Path, known: set[str]) -> set[str]:
    """grader modules imported when this module is imported (function-level imports are deferred and do not count)."""
    found: set[str] = set()
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        found |= {name for name in names if name in known}
    return found


def test_the_architecture_doc_names_only_paths_that_exist() -> None:
    text = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    named = set(
        re.findall(r"`((?:grader|tests|bench|sandbox|scripts|assignments|reference_solutions)/[\w./-]*)`", text)
    )
    assert len(named) >= 20, "the doc should name the modules it describes"
    missing = sorted(path for path in named if not (REPO / path.rstrip("/")).exists())
    assert not missing, f"docs/ARCHITECTURE.md names paths that do not exist: {missing}"


def test_every_grader_package_is_described_in_the_architecture_doc() -> None:
    text = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    packages = sorted(
        path.parent.relative_to(REPO).as_posix()
        for path in PACKAGE.glob("*/__init__.py")
        if path.parent.name != "migrations"
    )
    undescribed = [package for package in packages if f"`{package}/" not in text]
    assert not undescribed, f"packages with no table in docs/ARCHITECTURE.md: {undescribed}"


def test_no_import_cycle_in_grader() -> None:
    modules = grader_modules()
    graph = {name: top_level_imports(path, set(modules)) - {name} for name, path in modules.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            if state.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target] if target in path else [name, target])
            elif target not in state:
                visit(target, path + [target])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    # A package's __init__ importing its own submodules is the package, not a cycle.
    real = [
        cycle
        for cycle in cycles
        if not all(
            other.startswith(cycle[0] + ".") or cycle[0].startswith(other + ".") or other == cycle[0] for other in cycle
        )
    ]
    assert not real, f"import cycles: {real}"


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda path: path.relative_to(REPO).as_posix())
def test_no_module_is_over_the_size_limit(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(REPO)} has {lines} lines: split it by idea (limit {MAX_LINES})"
