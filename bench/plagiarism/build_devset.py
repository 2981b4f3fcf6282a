"""Builds the labelled benchmark cohorts from the hand-written dev set.

devset/<task>/starter/solution.py      the handout every submission starts from
devset/<task>/independent/s*.py        independent solutions (s1 and s2 follow the same textbook recipe: hard negatives)
devset/<task>/rewrites/<level>_s*.py  hand-written structural rewrites and paraphrases of each independent solution
devset/<task>/known_sources/*.py      where a task has a textbook recipe: the lecture code it comes from, written from the
                                      lecture (not from the solutions), given to the detector as known sources

The mechanical levels are derived here: verbatim, renamed (every identifier the student chose), reordered functions
with dead code (on top of renaming), partial copies (two of the copier's functions replaced by the source's, renamed),
and notebooks (the renamed copy split into cells, with markdown and IPython magics). Each (task, level) is one cohort
folder: the four independent solutions, a starter-only submission and the derived copies; labels.json lists every
pair with its label and level.
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import random
import re
import shutil
import tokenize
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEVSET = HERE / "devset"
LEVELS = ("verbatim", "renamed", "reordered_dead_code", "structural", "paraphrase", "partial", "notebook")
_WORDS = [
    "acc",
    "buf",
    "item",
    "val",
    "res",
    "cur",
    "tmp",
    "data",
    "arr",
    "node",
    "elem",
    "part",
    "count",
    "total",
    "entry",
    "piece",
]


def _api_names(starter: str) -> set[str]:
    tree = ast.parse(starter)
    names = {node.name for node in tree.body if isinstance(node, ast.FunctionDef | ast.ClassDef)}
    names |= {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    return names


def rename_identifiers(code: str, keep: set[str], seed: int) -> str:
    """Renames every identifier the student bound (arguments, locals, own helpers) with tokenize, keeping layout and comments."""
    tree = ast.parse(code)
    imported = {
        (alias.asname or alias.name).split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    bound = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    bound |= {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
    bound |= {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    keyword_args = {
        keyword.arg for node in ast.walk(tree) if isinstance(node, ast.Call) for keyword in node.keywords if keyword.arg
    }
    # The assignment's functions keep their parameter names: callers (the grader) pass them by keyword.
    api_parameters = {
        arg.arg
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name in keep
        for arg in node.args.args + node.args.kwonlyargs
    }
    targets = sorted(bound - keep - imported - set(dir(builtins)) - keyword_args - api_parameters)
    rng = random.Random(seed)
    mapping = {name: f"{rng.choice(_WORDS)}_{index}" for index, name in enumerate(targets)}
    tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    renamed = []
    for position, token in enumerate(tokens):
        previous = tokens[position - 1].string if position else ""
        if token.type == tokenize.NAME and token.string in mapping and previous != ".":
            token = token._replace(string=mapping[token.string])
        elif token.type == tokenize.STRING and token.string[:2].lower() in ("f'", 'f"', "rf", "fr"):
            token = token._replace(string=_rename_in_fstring(token.string, mapping))
        renamed.append(token)
    return tokenize.untokenize(renamed)


def _rename_in_fstring(literal: str, mapping: dict[str, str]) -> str:
    def rename_names(expression: re.Match) -> str:
        return (
            "{"
            + re.sub(r"\b[A-Za-z_]\w*\b", lambda name: mapping.get(name.group(0), name.group(0)), expression.group(1))
            + "}"
        )

    return re.sub(r"\{([^{}]*)\}", rename_names, literal)


def _function_nodes(code: str) -> tuple[ast.Module, list[ast.FunctionDef]]:
    tree = ast.parse(code)
    return tree, [node for node in tree.body if isinstance(node, ast.FunctionDef)]


_DEAD_HELPERS = [
    "def _debug_dump(values, limit=10):\n    shown = list(values)[:limit]\n    if len(shown) > limit:\n        print('too many values')\n    return shown",
    "def _timer():\n    import time\n    start = time.perf_counter()\n    return lambda: time.perf_counter() - start",
    "def _check_shapes(*arrays):\n    for array in arrays:\n        if getattr(array, 'ndim', 1) > 3:\n            raise ValueError('unexpected rank')\n    return True",
    "def _log(message, verbose=False):\n    if verbose:\n        print('[log]', message)",
]


def reorder_with_dead_code(code: str, seed: int, copy_number: int) -> str:
    """Shuffles the top-level functions and adds code that never changes a result (each copy its own dead helper)."""
    rng = random.Random(seed)
    tree, functions = _function_nodes(code)
    lines = code.splitlines()
    first = min(node.lineno - len(node.decorator_list) for node in functions)
    last = max(node.end_lineno for node in functions)
    blocks = ["\n".join(lines[node.lineno - 1 : node.end_lineno]) for node in functions]
    blocks = [_add_dead_statements(block, rng) for block in blocks] + [_DEAD_HELPERS[copy_number % len(_DEAD_HELPERS)]]
    rng.shuffle(blocks)
    # Classes and constants between the functions stay, in their order, ahead of the shuffled functions.
    between = [node for node in tree.body if node not in functions and first <= node.lineno <= last]
    kept = [
        "\n".join(lines[node.lineno - 1 - len(getattr(node, "decorator_list", [])) : node.end_lineno])
        for node in between
    ]
    return "\n".join(lines[: first - 1]) + "\n" + "\n\n\n".join(kept + blocks) + "\n" + "\n".join(lines[last:]) + "\n"


def _add_dead_statements(block: str, rng: random.Random) -> str:
    lines = block.splitlines()
    body_start = next(index for index, line in enumerate(lines) if line.rstrip().endswith(":")) + 1
    if lines[body_start].strip().startswith('"""'):
        body_start = next(index for index in range(body_start, len(lines)) if lines[index].rstrip().endswith('"""')) + 1
    dead = rng.choice(
        [
            "    _checked = True",
            "    if False:\n        print('debug')",
            "    _steps = 0  # kept for debugging",
            "    assert True",
        ]
    )
    return "\n".join(lines[:body_start] + [dead] + lines[body_start:])


def partial_copy(own: str, source: str, keep: set[str], seed: int) -> str:
    """The copier's own file with two of the assignment's functions replaced by the source's (renamed)."""
    renamed_source = rename_identifiers(source, keep, seed)
    _, source_functions = _function_nodes(renamed_source)
    _, own_functions = _function_nodes(own)
    source_lines = renamed_source.splitlines()
    by_name = {
        node.name: "\n".join(source_lines[node.lineno - 1 : node.end_lineno])
        for node in source_functions
        if node.name in keep
    }
    own_lines = own.splitlines()
    candidates = [
        node for node in own_functions if node.name in by_name and "NotImplementedError" not in by_name[node.name]
    ]
    largest = sorted(candidates, key=lambda node: node.end_lineno - node.lineno, reverse=True)[:2]
    for node in sorted(largest, key=lambda node: node.lineno, reverse=True):
        own_lines[node.lineno - 1 : node.end_lineno] = by_name[node.name].splitlines()
    return "\n".join(own_lines) + "\n"


def to_notebook(code: str) -> str:
    """One cell per top-level statement group, markdown between them, and the magics students leave in."""
    tree, _ = _function_nodes(code)
    lines = code.splitlines()
    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# My solution\n", "Run all cells in order."]}]
    cells.append(
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": ["%matplotlib inline\n", "!pip install numpy\n"],
        }
    )
    for node in tree.body:
        start = node.lineno - len(getattr(node, "decorator_list", []))
        text = "\n".join(lines[start - 1 : node.end_lineno])
        cells.append(
            {
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": text.splitlines(keepends=True),
            }
        )
        if isinstance(node, ast.FunctionDef):
            cells.append({"cell_type": "markdown", "metadata": {}, "source": [f"`{node.name}` done."]})
    cells.append(
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": ["%%time\n", "main()\n"],
        }
    )
    notebook = {
        "cells": cells,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    return json.dumps(notebook, indent=1)


def _derived(
    task: Path, level: str, originals: dict[str, str], keep: set[str]
) -> list[tuple[str, str, str, str | None]]:
    """(file name, content, source it copies, donor it was built on) for one level."""
    seed = sum(map(ord, task.name + level))
    if level == "verbatim":
        return [(f"copy_{name}.py", code, name, None) for name, code in originals.items()]
    if level == "renamed":
        return [
            (f"copy_{name}.py", rename_identifiers(code, keep, seed + i), name, None)
            for i, (name, code) in enumerate(originals.items())
        ]
    if level == "reordered_dead_code":
        return [
            (
                f"copy_{name}.py",
                reorder_with_dead_code(rename_identifiers(code, keep, seed + i), seed + i, i),
                name,
                None,
            )
            for i, (name, code) in enumerate(originals.items())
        ]
    if level in ("structural", "paraphrase"):
        return [
            (f"copy_{name}.py", (task / "rewrites" / f"{level}_{name}.py").read_text(), name, None)
            for name in originals
            if (task / "rewrites" / f"{level}_{name}.py").is_file()
        ]
    if level == "partial":
        names = list(originals)
        return [
            (
                f"copy_{name}.py",
                partial_copy(originals[names[(i + 1) % len(names)]], code, keep, seed + i),
                name,
                names[(i + 1) % len(names)],
            )
            for i, (name, code) in enumerate(originals.items())
        ]
    if level == "notebook":
        return [
            (f"copy_{name}.ipynb", to_notebook(rename_identifiers(code, keep, seed + i)), name, None)
            for i, (name, code) in enumerate(originals.items())
        ]
    raise ValueError(level)


def build(out: Path) -> list[dict]:
    """Writes out/<task>/<level>[/<n>]/ cohorts; returns one manifest entry per cohort."""
    shutil.rmtree(out, ignore_errors=True)
    manifest = []
    for task in sorted(path for path in DEVSET.iterdir() if path.is_dir()):
        starter = (task / "starter" / "solution.py").read_text()
        keep = _api_names(starter)
        originals = {path.stem: path.read_text() for path in sorted((task / "independent").glob("s*.py"))}
        for level in LEVELS:
            derived = _derived(task, level, originals, keep)
            # A partial copy's donor is its author's own earlier work, so each partial copy gets a cohort without its donor.
            groups = [[item] for item in derived] if level == "partial" else [derived]
            for number, group in enumerate(groups):
                folder = out / task.name / level / str(number)
                folder.mkdir(parents=True)
                donors = {donor for *_, donor in group if donor}
                members = {f"{name}.py": code for name, code in originals.items() if name not in donors}
                members["starter_only.py"] = starter
                members.update({file_name: content for file_name, content, _, _ in group})
                for file_name, content in members.items():
                    (folder / file_name).write_text(content)
                positives = {(f"{source}.py", file_name) for file_name, _, source, _ in group}
                names = sorted(members)
                pairs = [
                    {"a": a, "b": b, "label": int((a, b) in positives or (b, a) in positives)}
                    for index, a in enumerate(names)
                    for b in names[index + 1 :]
                ]
                manifest.append(
                    {
                        "task": task.name,
                        "level": level,
                        "folder": str(folder.relative_to(out)),
                        "starter": str((task / "starter").relative_to(HERE)),
                        "known_sources": str((task / "known_sources").relative_to(HERE))
                        if (task / "known_sources").is_dir()
                        else None,
                        "pairs": pairs,
                    }
                )
    (out / "labels.json").write_text(json.dumps(manifest, indent=1))
    return manifest


if __name__ == "__main__":
    cohorts = build(HERE / "build")
    positives = sum(pair["label"] for cohort in cohorts for pair in cohort["pairs"])
    print(f"{len(cohorts)} cohorts, {sum(len(c['pairs']) for c in cohorts)} pairs, {positives} copies")
