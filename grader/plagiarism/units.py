"""Code units (functions, methods, top-level blocks) of a submission, each in canonical form (`canonical.py`).

A unit is what the embedding channel compares; its size (AST nodes) weights it in a submission's score. Dead code
(helpers nothing calls, constants nobody reads) and imports are no part of any unit.
"""

from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass

from grader.plagiarism.canonical import canonical_form, child_nodes
from grader.plagiarism.submissions import SubmittedCode


@dataclass(frozen=True)
class CodeUnit:
    submission: int  # index into the detector's submission list
    label: str  # "def top_p_filter", "Model.forward", "top-level code"
    file: str
    first_line: int
    last_line: int
    canonical: str
    size: int  # AST nodes: weights the unit in a submission's score


@dataclass
class _Names:
    """The names one pass over a file finds: per top-level statement and class member, and for the whole file."""

    read_by: dict[ast.AST, frozenset[str]]  # names each statement (or method) reads
    attributes: set[str]
    imported: set[str]

    @property
    def module_reads(self) -> frozenset[str]:
        return frozenset().union(*self.read_by.values())


def _names(tree: ast.Module) -> _Names:
    """One walk over the file: what each top-level statement and each method reads, attributes used, names imported."""
    names = _Names({}, set(), set())
    # A class's members are read separately (each is a unit); its bases and decorators count for the module only.
    roots = [child for node in tree.body for child in (child_nodes(node) if isinstance(node, ast.ClassDef) else [node])]
    for root in roots:
        read: set[str] = set()
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Name):
                if isinstance(node.ctx, ast.Load):
                    read.add(node.id)
            elif isinstance(node, ast.Attribute):
                names.attributes.add(node.attr)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                names.imported.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
            stack.extend(child_nodes(node))
        names.read_by[root] = frozenset(read)
    return names


def _top_level_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(target.id for target in node.targets if isinstance(target, ast.Name))
    return names


def _comment_free(code: str) -> str:
    try:
        tokens = [
            token for token in tokenize.generate_tokens(io.StringIO(code).readline) if token.type != tokenize.COMMENT
        ]
        return tokenize.untokenize(tokens)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return code


def _is_import(node: ast.stmt) -> bool:
    return isinstance(node, ast.Import | ast.ImportFrom)


def file_units(submission_index: int, path: str, code: str, api_names: frozenset[str]) -> list[CodeUnit]:
    """Units of one file. A file that does not parse is one unit of its comment-free text, so it still takes part."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        lines = code.count("\n") + 1
        text = _comment_free(code)
        return [CodeUnit(submission_index, f"{path} (does not parse)", path, 1, lines, text, max(1, len(text.split())))]
    own = _top_level_names(tree) - api_names
    names = _names(tree)
    module_reads = names.module_reads
    referenced = module_reads | names.attributes
    kept = frozenset(api_names | names.imported)
    helpers = frozenset(own)
    units: list[CodeUnit] = []
    block: list[ast.stmt] = []

    def add(label: str, nodes: list[ast.stmt], unit_kept: frozenset[str], read_names: frozenset[str]) -> None:
        first, last = nodes[0].lineno, nodes[-1].end_lineno or nodes[0].lineno  # before canonicalising rewrites them
        canonical, size = canonical_form(nodes, unit_kept, helpers, read_names)
        if canonical.strip():
            units.append(CodeUnit(submission_index, label, path, first, last, canonical, size))

    def close_block() -> None:
        statements = [node for node in block if not _is_import(node)]
        if statements:
            add("top-level code", statements, kept, module_reads)
        block.clear()

    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            close_block()
            if node.name in own and node.name not in referenced:
                continue  # a helper nothing calls is dead code, whoever wrote it
            add(f"def {node.name}", [node], kept, names.read_by[node])
        elif isinstance(node, ast.ClassDef):
            close_block()
            for member in node.body:
                if isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef):
                    add(f"{node.name}.{member.name}", [member], kept | {member.name}, names.read_by[member])
        else:
            block.append(node)
    close_block()
    return units


def submission_units(submission_index: int, submission: SubmittedCode, api_names: frozenset[str]) -> list[CodeUnit]:
    return [
        unit
        for source in submission.files
        for unit in file_units(submission_index, source.path, source.code, api_names)
    ]


def api_names_of(starter_code: list[str]) -> frozenset[str]:
    """Top-level names the starter defines: the assignment's interface, kept verbatim in canonical forms."""
    names: set[str] = set()
    for code in starter_code:
        try:
            names |= _top_level_names(ast.parse(code))
        except (SyntaxError, ValueError):
            continue
    return frozenset(names)
