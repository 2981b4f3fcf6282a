"""Statement-level normal forms: undo the loop-form and temporary-variable changes of a structural rewrite.

A copier who wants to hide keeps the algorithm but turns `for i in range(n)` into a counted while loop, an append loop
into a comprehension, or inlines a temporary (and the other way round). These rewrites bring every such spelling to one
form before a unit is canonicalised, so the canonical token and embedding channels see the algorithm. They need not
preserve behaviour exactly (a canonical form is never run), only map the common equivalent spellings together.
"""

from __future__ import annotations

import ast
from collections import Counter


def normalise_statements(tree: ast.Module) -> ast.Module:
    """Rewrites every statement list of the tree, innermost first; temporaries are inlined inside functions only."""
    nodes = list(ast.walk(tree))
    for node in reversed(nodes):  # ast.walk is breadth first: reversed, every block comes before the blocks around it
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(node, field, None)
            if isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt):
                in_loop = isinstance(node, ast.For | ast.While) and field == "body"
                setattr(node, field, _rewrite_block(_continue_as_else(statements) if in_loop else statements))
    for node in nodes:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            _inline_single_use(node)
    return tree


def _rewrite_block(statements: list[ast.stmt]) -> list[ast.stmt]:
    result: list[ast.stmt] = []
    for statement in _split_assignments(statements):
        result.append(statement)
        while len(result) >= 2:
            folded = _fold(result[-2], result[-1])
            if folded is None:
                break
            result[-2:] = [folded]
    return result


def _continue_as_else(body: list[ast.stmt]) -> list[ast.stmt]:
    """In a loop body, `if c: A; continue` followed by B is `if c: A else: B` (loop forms students rewrite into each other)."""
    for position, statement in enumerate(body[:-1]):
        ends_in_continue = isinstance(statement, ast.If) and not statement.orelse and len(statement.body) > 1 and isinstance(statement.body[-1], ast.Continue)
        if ends_in_continue:
            rest = _continue_as_else(body[position + 1 :])
            return [*body[:position], ast.If(test=statement.test, body=statement.body[:-1], orelse=rest)]
    return body


def _split_assignments(statements: list[ast.stmt]) -> list[ast.stmt]:
    result: list[ast.stmt] = []
    for statement in statements:
        parts = _independent_parts(statement)
        result.extend([ast.copy_location(ast.Assign(targets=[target], value=value), statement) for target, value in parts] or [statement])
    return result


def _independent_parts(node: ast.stmt) -> list[tuple[ast.expr, ast.expr]]:
    """`a, b = [], 0` as (target, value) pairs, when no value reads a target (a swap `a, b = b, a` stays whole)."""
    if not isinstance(node, ast.Assign) or len(node.targets) != 1 or not isinstance(node.targets[0], ast.Tuple) or not isinstance(node.value, ast.Tuple):
        return []
    targets, values = node.targets[0].elts, node.value.elts
    if len(targets) != len(values) or not all(isinstance(target, ast.Name) for target in targets) or any(isinstance(value, ast.Starred) for value in values):
        return []
    if {target.id for target in targets} & set().union(*(_names_read(value) for value in values)):
        return []
    return list(zip(targets, values))


def _fold(first: ast.stmt, second: ast.stmt) -> ast.stmt | None:
    """One statement for two adjacent ones, or None."""
    name = _assigned_name(first)
    if name is None:
        return None
    value = first.value  # type: ignore[attr-defined]
    if isinstance(second, ast.While):
        return _counted_loop(name, value, second)
    if isinstance(second, ast.For) and not second.orelse:
        return _collected(name, value, second)
    if _assigned_name(second) == name and _load_count(second.value, name) == 1:  # type: ignore[attr-defined]
        # `x = a; x = f(x)` is `x = f(a)`: chains of reassignment read as one expression.
        return ast.copy_location(ast.Assign(targets=second.targets, value=_substitute(second.value, name, value)), second)  # type: ignore[attr-defined]
    return None


def _assigned_name(statement: ast.stmt) -> str | None:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        return statement.targets[0].id
    return None


def _increment(statement: ast.stmt, name: str) -> ast.expr | None:
    """e for `name += e` or `name = name + e` (either order)."""
    if isinstance(statement, ast.AugAssign) and isinstance(statement.op, ast.Add) and isinstance(statement.target, ast.Name) and statement.target.id == name:
        return statement.value
    if _assigned_name(statement) == name and isinstance(statement.value, ast.BinOp) and isinstance(statement.value.op, ast.Add):  # type: ignore[attr-defined]
        left, right = statement.value.left, statement.value.right  # type: ignore[attr-defined]
        if isinstance(left, ast.Name) and left.id == name:
            return right
        if isinstance(right, ast.Name) and right.id == name:
            return left
    return None


def _counted_loop(name: str, start: ast.expr, loop: ast.While) -> ast.stmt | None:
    """`i = a; while i < b: ...; i += 1` is `for i in range(a, b): ...`."""
    test = loop.test
    if loop.orelse or not isinstance(test, ast.Compare) or len(test.ops) != 1 or not isinstance(test.ops[0], ast.Lt):
        return None
    if not (isinstance(test.left, ast.Name) and test.left.id == name) or len(loop.body) < 2:
        return None
    step = _increment(loop.body[-1], name)
    body = loop.body[:-1]
    if not (isinstance(step, ast.Constant) and step.value == 1) or _stores(body, name) or any(isinstance(node, ast.Continue) for statement in body for node in ast.walk(statement)):
        return None
    bounds = [test.comparators[0]] if isinstance(start, ast.Constant) and start.value == 0 else [start, test.comparators[0]]
    iterator = ast.Call(func=ast.Name(id="range", ctx=ast.Load()), args=bounds, keywords=[])
    return ast.copy_location(ast.For(target=ast.Name(id=name, ctx=ast.Store()), iter=iterator, body=body, orelse=[], type_comment=None), loop)


def _collected(name: str, start: ast.expr, loop: ast.For) -> ast.stmt | None:
    """`xs = []; for ...: xs.append(e)` is a list comprehension, `t = 0; for ...: t += e` is sum(...); nested loops and ifs become its clauses."""
    generators: list[ast.comprehension] = []
    node: ast.stmt = loop
    while True:
        if isinstance(node, ast.For) and not node.orelse and len(node.body) == 1:
            generators.append(ast.comprehension(target=node.target, iter=node.iter, ifs=[], is_async=0))
            node = node.body[0]
        elif isinstance(node, ast.If) and not node.orelse and len(node.body) == 1 and generators:
            generators[-1].ifs.append(node.test)
            node = node.body[0]
        else:
            break
    if not generators or any(_load_count(part, name) for generator in generators for part in (generator.iter, *generator.ifs)):
        return None
    if isinstance(start, ast.List) and not start.elts:
        element = _appended(node, name)
        value: ast.expr | None = None if element is None else ast.ListComp(elt=element, generators=generators)
    elif isinstance(start, ast.Constant) and start.value == 0:
        added = _increment(node, name)
        value = None if added is None or _load_count(added, name) else ast.Call(func=ast.Name(id="sum", ctx=ast.Load()), args=[ast.GeneratorExp(elt=added, generators=generators)], keywords=[])
    else:
        value = None
    if value is None:
        return None
    return ast.copy_location(ast.Assign(targets=[ast.Name(id=name, ctx=ast.Store())], value=value), loop)


def _appended(statement: ast.stmt, name: str) -> ast.expr | None:
    if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
        return None
    call = statement.value
    is_append = isinstance(call.func, ast.Attribute) and call.func.attr == "append" and isinstance(call.func.value, ast.Name) and call.func.value.id == name
    if not is_append or len(call.args) != 1 or call.keywords or _load_count(call.args[0], name):
        return None
    return call.args[0]


def _inline_single_use(function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
    """A temporary assigned once and read once is replaced by its value: `d = q.shape[-1]; q @ k.T / d` reads as `q @ k.T / q.shape[-1]`."""
    stores = Counter(node.id for node in ast.walk(function) if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load))
    loads = Counter(node.id for node in ast.walk(function) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load))
    for block_owner in list(ast.walk(function)):
        for field in ("body", "orelse", "finalbody"):
            statements = getattr(block_owner, field, None)
            if not (isinstance(statements, list) and statements and isinstance(statements[0], ast.stmt)):
                continue
            position = 0
            while position < len(statements):
                name = _assigned_name(statements[position])
                if name is None or stores[name] != 1 or loads[name] != 1:
                    position += 1
                    continue
                value = statements[position].value  # type: ignore[attr-defined]
                user = next((index for index in range(position + 1, len(statements)) if _load_count(statements[index], name)), None)
                if user is None or any(_stores(statements[position + 1 : user + 1], read) for read in _names_read(value)):
                    position += 1
                    continue
                statements[user] = _substitute(statements[user], name, value)
                del statements[position]
                stores[name], loads[name] = 0, 0


def _names_read(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}


def _load_count(node: ast.AST, name: str) -> int:
    return sum(1 for child in ast.walk(node) if isinstance(child, ast.Name) and child.id == name and isinstance(child.ctx, ast.Load))


def _stores(statements: list[ast.stmt], name: str) -> bool:
    return any(isinstance(child, ast.Name) and child.id == name and not isinstance(child.ctx, ast.Load) for statement in statements for child in ast.walk(statement))


class _Substitution(ast.NodeTransformer):
    def __init__(self, name: str, value: ast.expr):
        self.name, self.value = name, value

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return self.value if node.id == self.name and isinstance(node.ctx, ast.Load) else node


def _substitute(node: ast.AST, name: str, value: ast.expr) -> ast.AST:
    return _Substitution(name, value).visit(node)
