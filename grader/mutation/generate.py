"""First-order mutants of a reference solution, made with mutmut's operators (libCST).

mutmut applies its operators inside a trampoline that switches mutants at run time; the grader needs each mutant as
a plain folder it can hand to the sandbox, so only the operator set is taken (`mutation_operators`) and each mutation
is written back into its own copy of the file. mutmut's skip rules that guard definition-time code are kept
(annotations, decorators, calls of `len`/`isinstance`, `# pragma: no mutate`); its rule against decorated functions
exists for the trampoline only and is not.

A mutant's id is stable while its file is unchanged: `<file>:<line>:<operator>:<occurrence>`, the occurrence
counting the mutations of that operator on that line in source order.
"""

from __future__ import annotations

import difflib
import random
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

SAMPLE_SEED = 20240518  # a fixed seed: `--sample N` picks the same mutants on every machine and every rerun
SKIPPED_FOLDERS = ("mutants", "alternatives", "__pycache__")
NOT_COPIED = (*SKIPPED_FOLDERS, "mutation.yaml")  # what a graded copy of the reference leaves out


class MutationEngineMissing(Exception):
    """The optional mutation engine is not installed."""


@dataclass(frozen=True)
class GeneratedMutant:
    file: str  # relative to the reference, POSIX separators
    line: int
    operator: str
    occurrence: int
    source: str  # the whole mutated file

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}:{self.operator}:{self.occurrence}"

    @property
    def folder_name(self) -> str:
        """A file-system-safe, unique name (the batch uses it as the 'student' id)."""
        return self.id.replace("/", "__").replace(":", "--").replace(".py", "_py")


def _operators() -> list[tuple[type, object]]:
    try:
        from mutmut.mutation.mutators import mutation_operators
    except ImportError as error:
        raise MutationEngineMissing(
            "mutation analysis needs mutmut's operators: pip install -e '.[mutation]'"
        ) from error
    return list(mutation_operators)


def _never_mutated_calls() -> set[str]:
    from mutmut.mutation.file_mutation import NEVER_MUTATE_FUNCTION_CALLS

    return set(NEVER_MUTATE_FUNCTION_CALLS)


def _pragma_lines(code: str) -> set[int]:
    return {number for number, text in enumerate(code.splitlines(), start=1) if "pragma: no mutate" in text}


class _Collector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, operators: list[tuple[type, object]], skipped_lines: set[int], never_called: set[str]):
        self.operators = operators
        self.skipped_lines = skipped_lines
        self.never_called = never_called
        self.found: list[tuple[int, str, cst.CSTNode, cst.CSTNode]] = []  # line, operator, original, mutated

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, (cst.Annotation, cst.Decorator)):
            return False  # evaluated at definition time: a mutant there breaks the import, not the behaviour
        if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in self.never_called:
            return False
        line = self.get_metadata(PositionProvider, node).start.line
        if line in self.skipped_lines:
            return True
        for node_type, operator in self.operators:
            if isinstance(node, node_type):
                for mutated in operator(node):  # type: ignore[operator]
                    self.found.append((line, operator.__name__.removeprefix("operator_"), node, mutated))
        return True


class _ReplaceOne(cst.CSTTransformer):
    def __init__(self, old: cst.CSTNode, new: cst.CSTNode):
        self.old, self.new = old, new

    def on_visit(self, node: cst.CSTNode) -> bool:
        return node is not self.old

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:  # type: ignore[override]
        return self.new if original_node is self.old else updated_node


def mutate_source(relative: str, code: str) -> list[GeneratedMutant]:
    """Every first-order mutant of one file, in source order; mutants that leave the text unchanged are dropped."""
    wrapper = MetadataWrapper(cst.parse_module(code))
    collector = _Collector(_operators(), _pragma_lines(code), _never_mutated_calls())
    wrapper.visit(collector)
    occurrences: Counter[tuple[int, str]] = Counter()
    mutants = []
    for line, operator, original, mutated in collector.found:
        source = wrapper.module.visit(_ReplaceOne(original, mutated)).code
        if source == code:
            continue
        occurrences[line, operator] += 1
        mutants.append(GeneratedMutant(relative, line, operator, occurrences[line, operator], source))
    return mutants


def python_files(reference: Path) -> list[Path]:
    return sorted(
        path
        for path in reference.rglob("*.py")
        if not any(part in SKIPPED_FOLDERS for part in path.relative_to(reference).parts)
    )


def generate_mutants(reference: Path) -> list[GeneratedMutant]:
    """The mutants of every .py of the reference (its mutants/ and alternatives/ aside), sorted by id's parts."""
    return [
        mutant
        for path in python_files(reference)
        for mutant in mutate_source(path.relative_to(reference).as_posix(), path.read_text(encoding="utf-8"))
    ]


def sample(mutants: list[GeneratedMutant], size: int | None) -> list[GeneratedMutant]:
    """`size` mutants drawn with the fixed seed, kept in generation order; all of them when `size` is None."""
    if size is None or size >= len(mutants):
        return list(mutants)
    chosen = set(random.Random(SAMPLE_SEED).sample(range(len(mutants)), size))
    return [mutant for index, mutant in enumerate(mutants) if index in chosen]


def copy_reference(reference: Path, destination: Path) -> Path:
    """The reference as a student would hand it in: without its mutants, alternatives and triage."""
    shutil.copytree(reference, destination, ignore=shutil.ignore_patterns(*NOT_COPIED))
    return destination


def write_mutant(reference: Path, mutant: GeneratedMutant, destination: Path) -> Path:
    """A copy of the reference with the one mutated file."""
    copy_reference(reference, destination)
    (destination / mutant.file).write_text(mutant.source, encoding="utf-8")
    return destination


def unified_diff(reference: Path, mutant: GeneratedMutant) -> str:
    original = (reference / mutant.file).read_text(encoding="utf-8")
    return "".join(
        difflib.unified_diff(
            original.splitlines(keepends=True),
            mutant.source.splitlines(keepends=True),
            f"a/{mutant.file}",
            f"b/{mutant.file}",
            n=1,
        )
    )
