"""Validation of an assignment's requirements ledger against its handout, judge, rubric and mutants.

The ledger (`grader.domain.ledger`) claims: every numbered requirement of the handout is tested by hidden checks,
every check can fail (a mutant of the reference fails it; `check-references` proves it), every numeric bar a judge
compares a student's result against is either printed in the handout or deliberately hidden, with a reason, and every
step budget of assignment.yaml (a time limit that costs points when passed) is printed in the handout.
Here those claims are held against the files.
"""

from __future__ import annotations

import ast
import math
import re
from pathlib import Path

from grader.domain.assignment import Limits
from grader.domain.ledger import REQUIREMENT_ID, Ledger
from grader.domain.rubric import Rubric
from grader.references import MutantError, load_mutant

# `<a id="R3"></a>**R3**` starts the sentence or bullet that states requirement R3: visible and linkable.
ANCHOR = re.compile(r'<a id="(R[0-9]+)"></a>\*\*(R[0-9]+)\*\*')
BOLD_REQUIREMENT = re.compile(r"\*\*(R[0-9]+)\*\*")
NUMBER = re.compile(r"(?<![\w.])(\d[\d,_]*(?:\.\d+)?(?:[eE]-?\d+)?)(\s*(?:%|percent|percentage points?))?")
NUMBER_WORDS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "twelve": 12,
    "twenty": 20,
    "hundred": 100,
}


def handout_anchors(readme: str) -> tuple[list[str], list[str]]:
    """The requirement ids anchored in the handout, and problems with how they are written."""
    problems = []
    anchored = []
    for match in ANCHOR.finditer(readme):
        if match.group(1) != match.group(2):
            problems.append(f'the anchor <a id="{match.group(1)}"> is followed by **{match.group(2)}**')
        anchored.append(match.group(1))
    bare = sorted({m.group(1) for m in BOLD_REQUIREMENT.finditer(ANCHOR.sub("", readme))} - set(anchored))
    problems += [f'**{r}** in the handout has no anchor: write <a id="{r}"></a>**{r}**' for r in bare]
    twice = sorted({r for r in anchored if anchored.count(r) > 1})
    problems += [f"the handout anchors {r} more than once" for r in twice]
    return anchored, problems


def judge_bars(*judge_sources: str) -> dict[str, float]:
    """UPPER_CASE module-level numeric constants of a judge that a comparison uses, directly or through a local
    variable computed from them (`required = baseline + MARGIN; accuracy >= required`), or as a call's keyword
    (`np.allclose(..., atol=ATOL)`). A judge may be split into modules: a constant of one may be compared in another."""
    trees = [ast.parse(source) for source in judge_sources]
    constants = {name: value for tree in trees for name, value in _numeric_constants(tree).items()}
    used: set[str] = set()
    for tree in trees:
        for function in (node for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))):
            used |= _compared_constants(function, set(constants))
    return {name: value for name, value in constants.items() if name in used}


def literal_thresholds(judge_source: str) -> list[tuple[int, float]]:
    """(line, value) of each float literal a judge compares with (`x < 1e-6`, `a > b + 1e-6`, `x < -1e-6`) or passes
    as a keyword (`atol=1e-6`): a threshold that should be a named bar. A factor in a formula (`0.5 * distance`) and
    integers (counts, indices) are left alone."""
    found = set()
    for node in ast.walk(ast.parse(judge_source)):
        operands = (
            [node.left, *node.comparators]
            if isinstance(node, ast.Compare)
            else [keyword.value for keyword in node.keywords]
            if isinstance(node, ast.Call)
            else []
        )
        for operand in operands:
            terms = (
                [operand.left, operand.right]
                if isinstance(operand, ast.BinOp) and isinstance(operand.op, (ast.Add, ast.Sub))
                else [operand]
            )
            for term in terms:
                term = term.operand if isinstance(term, ast.UnaryOp) and isinstance(term.op, ast.USub) else term
                if isinstance(term, ast.Constant) and type(term.value) is float:
                    found.add((term.lineno, term.value))
    return sorted(found)


def _numeric_constants(tree: ast.Module) -> dict[str, float]:
    found: dict[str, float] = {}
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or node.value is None:
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            continue
        for target in targets:
            names = (
                [target]
                if isinstance(target, ast.Name)
                else list(target.elts)
                if isinstance(target, ast.Tuple) and isinstance(value, tuple)
                else []
            )
            values = [value] if isinstance(target, ast.Name) else list(value)
            for name, item in zip(names, values):
                if isinstance(name, ast.Name) and name.id.isupper() and _is_number(item):
                    found[name.id] = float(item)
    return found


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _names(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}


def _compared_constants(function: ast.AST, constants: set[str]) -> set[str]:
    derived: dict[str, set[str]] = {}  # local variable -> the constants its value was computed from
    changed = True
    while changed:
        changed = False
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                sources = {c for name in _names(node.value) for c in ({name} & constants) | derived.get(name, set())}
                for target in node.targets:
                    for name in _names(target):
                        if not sources <= derived.get(name, set()):
                            derived[name] = derived.get(name, set()) | sources
                            changed = True
    used: set[str] = set()
    for node in ast.walk(function):
        parts = (
            [node]
            if isinstance(node, ast.Compare)
            else [keyword.value for keyword in node.keywords]
            if isinstance(node, ast.Call)
            else []
        )
        for part in parts:
            for name in _names(part):
                used |= ({name} & constants) | derived.get(name, set())
    return used


def states_value(words: str, value: float) -> bool:
    """Whether the handout's words give this number (as digits, with thousands separators or as a percentage, or as
    a number word)."""
    candidates = []
    for match in NUMBER.finditer(words):
        number = float(match.group(1).replace(",", "").replace("_", ""))
        candidates.append(number / 100 if match.group(2) else number)
    candidates += [n for word, n in NUMBER_WORDS.items() if re.search(rf"\b{word}\b", words, re.IGNORECASE)]
    return any(math.isclose(candidate, value, rel_tol=1e-9, abs_tol=1e-12) for candidate in candidates)


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else f"{value:g}"


def _flat(text: str) -> str:
    return " ".join(text.split())


def validate_ledger(
    ledger: Ledger | None,
    *,
    readme: str,
    judge_sources: dict[str, str],
    judge_checks: set[str],
    rubric: Rubric,
    mutants_dir: Path,
    ledger_path: Path,
    limits: Limits,
) -> list[str]:
    """Every way the ledger and the course's files disagree, each a sentence naming what to fix. `judge_sources`: the
    source of each module of the judge's folder, by file name."""
    where = str(ledger_path)
    if ledger is None:
        return [
            f"{where} is missing: number the handout's requirements (R1, ...) and map each to its checks, "
            f"mutants and bars"
        ]
    problems = [f"{where}: {p}" for p in _requirement_problems(ledger, judge_checks, rubric, mutants_dir)]
    anchored, anchor_problems = handout_anchors(readme)
    problems += [f"{where}: {p}" for p in anchor_problems]
    problems += [
        f'{where}: {r} is in the ledger but the handout has no anchor for it (<a id="{r}"></a>**{r}**)'
        for r in ledger.requirements
        if r not in anchored
    ]
    problems += [
        f"{where}: the handout anchors {r}, which the ledger does not list"
        for r in anchored
        if r not in ledger.requirements
    ]
    problems += [f"{where}: {p}" for p in _bar_problems(ledger, readme, judge_bars(*judge_sources.values()))]
    problems += [f"{where}: {p}" for p in _budget_problems(ledger, readme, limits)]
    problems += [
        f"the judge compares with the literal {value:g} (line {line} of {file}): make it an UPPER_CASE "
        f"module-level constant and list it under the ledger's bars"
        for file, source in judge_sources.items()
        for line, value in literal_thresholds(source)
    ]
    return problems


def _requirement_problems(ledger: Ledger, judge_checks: set[str], rubric: Rubric, mutants_dir: Path) -> list[str]:
    problems = []
    manual_criteria = {criterion.id for criterion in rubric.criteria if criterion.manual}
    for requirement_id, requirement in ledger.requirements.items():
        if not REQUIREMENT_ID.match(requirement_id):
            problems.append(f"'{requirement_id}' is not a requirement id (R1, R2, ...)")
        if not requirement.checks and not requirement.manual:
            problems.append(
                f"{requirement_id} has no check (and no manual criterion): add the hidden check that tests it"
            )
        for criterion_id in requirement.manual:
            if criterion_id not in manual_criteria:
                problems.append(f"{requirement_id}: '{criterion_id}' is not a manual criterion of the rubric")
        for check_id, mutants in requirement.checks.items():
            if check_id not in judge_checks:
                problems.append(f"{requirement_id}: the judge has no check '{check_id}'")
            if not mutants:
                problems.append(f"{requirement_id}: check '{check_id}' has no mutant that proves it can fail")
            for mutant in mutants:
                problems += _mutant_problems(requirement_id, check_id, mutant, rubric, mutants_dir)
    tested = set(ledger.check_requirements())
    problems += [
        f"check '{c}' tests no requirement: add it under the requirement it tests"
        for c in sorted(judge_checks - tested)
    ]
    return problems


def _mutant_problems(
    requirement_id: str, check_id: str, mutant_name: str, rubric: Rubric, mutants_dir: Path
) -> list[str]:
    path = mutants_dir / f"{mutant_name}.yaml"
    if not path.is_file():
        return [f"{requirement_id}: mutant '{mutant_name}' (for check '{check_id}') does not exist ({path})"]
    try:
        mutant = load_mutant(path)
    except (MutantError, ValueError) as error:
        return [f"{requirement_id}: mutant '{mutant_name}' does not load: {error}"]
    criteria = {criterion.id for criterion in rubric.criteria if check_id in criterion.checks}
    if check_id not in mutant.fails_checks and not criteria & set(mutant.loses):
        return [
            f"{requirement_id}: mutant '{mutant_name}' is listed for check '{check_id}' but declares neither "
            f"'loses' on its criterion ({', '.join(sorted(criteria)) or 'none'}) nor 'fails_checks: "
            f"[{check_id}]'"
        ]
    return []


def _bar_problems(ledger: Ledger, readme: str, bars: dict[str, float]) -> list[str]:
    problems = []
    handout = _flat(readme)
    used = {bar for requirement in ledger.requirements.values() for bar in requirement.bars}
    for name, value in sorted(bars.items()):
        if name not in ledger.bars:
            problems.append(
                f"the judge's bar {name} = {_number(value)} is not in the ledger: list it under 'bars' with "
                f"its value and either 'stated' (the handout's words) or 'hidden' (why)"
            )
        elif not math.isclose(ledger.bars[name].value, value, rel_tol=1e-12):
            problems.append(
                f"bar {name} is {_number(value)} in the judge but {_number(ledger.bars[name].value)} in the ledger"
            )
    for name, bar in sorted(ledger.bars.items()):
        if name not in bars:
            problems.append(f"bar {name} is in the ledger but no judge comparison uses it")
        if bool(bar.stated) == bool(bar.hidden):
            problems.append(
                f"bar {name} needs exactly one of 'stated' (the handout's words giving its value) or "
                f"'hidden' (why students are not told)"
            )
        elif bar.stated and _flat(bar.stated) not in handout:
            problems.append(f"bar {name}: the handout does not contain the words {bar.stated!r}")
        elif bar.stated and not states_value(bar.stated, bar.value):
            problems.append(f"bar {name}: the words {bar.stated!r} do not give its value {_number(bar.value)}")
        if name not in used:
            problems.append(
                f"bar {name} is held to no requirement: list it under the 'bars' of the requirement it applies to"
            )
    for requirement_id, requirement in ledger.requirements.items():
        problems += [
            f"{requirement_id} lists bar {bar}, which the ledger's 'bars' does not define"
            for bar in requirement.bars
            if bar not in ledger.bars
        ]
    return problems


def _budget_problems(ledger: Ledger, readme: str, limits: Limits) -> list[str]:
    """Every step budget of assignment.yaml (and its GPU value) is stated in the handout, in the ledger's words."""
    handout = _flat(readme)
    gpu_budgets = limits.gpu.budgets_s if limits.gpu else {}
    problems = [
        f"the step budget {name} ({_number(seconds)} s, assignment.yaml limits.budgets_s) is not in the ledger: list "
        f"it under 'budgets' with the handout's words that state it (students must know every time limit)"
        for name, seconds in sorted(limits.budgets_s.items())
        if name not in ledger.budgets
    ]
    for name, budget in sorted(ledger.budgets.items()):
        if name not in limits.budgets_s:
            problems.append(f"budget {name} is in the ledger but assignment.yaml's limits.budgets_s has no {name}")
            continue
        stated = [("stated", budget.stated, limits.budgets_s[name])]
        if name in gpu_budgets:
            stated.append(("gpu_stated", budget.gpu_stated, gpu_budgets[name]))
        elif budget.gpu_stated:
            problems.append(f"budget {name} has 'gpu_stated' but limits.gpu.budgets_s has no {name}")
        for key, words, seconds in stated:
            if not words:
                problems.append(f"budget {name} needs '{key}': the handout's words giving its {_number(seconds)} s")
            elif _flat(words) not in handout:
                problems.append(f"budget {name}: the handout does not contain the words {words!r}")
            elif not states_value(words, seconds):
                problems.append(f"budget {name}: the words {words!r} do not give its {_number(seconds)} s")
    return problems
