"""The canonical form of Python statements: what the embedding channel compares.

Identifiers a student chose become role names (v1, v2 ..., `helper` for their own top-level functions), docstrings
and comments are gone, and equivalent spellings (x += 1 and x = x + 1, np.dot(a, b) and a @ b) coincide. Names the
assignment fixes and library names are kept: they carry the meaning the model can use.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator

_BUILTINS = frozenset(dir(builtins))
_NUMPY_ALIASES = frozenset({"np", "numpy"})
# numpy functions with a method twin: np.sum(x, ...) and x.sum(...) are one spelling in canonical form.
_ARRAY_METHODS = frozenset(
    {
        "sum",
        "mean",
        "max",
        "min",
        "var",
        "std",
        "argmax",
        "argmin",
        "cumsum",
        "prod",
        "any",
        "all",
        "reshape",
        "transpose",
        "argsort",
        "clip",
        "round",
    }
)
_REDUCTIONS = frozenset({"sum", "mean", "max", "min", "var", "std", "argmax", "argmin", "cumsum", "prod", "any", "all"})
_BINARY_FUNCTIONS = {
    "add": ast.Add,
    "subtract": ast.Sub,
    "multiply": ast.Mult,
    "divide": ast.Div,
    "true_divide": ast.Div,
    "matmul": ast.MatMult,
    "dot": ast.MatMult,
    "power": ast.Pow,
}
# Empty constructors and their literals: bytes() and b"" are one spelling.
_EMPTY_LITERALS = {"bytes": 'b""', "str": '""', "list": "[]", "dict": "{}", "tuple": "()"}
# a > b and b < a are one comparison; the canonical form keeps the "less" direction.
_MIRRORED = {ast.Gt: ast.Lt, ast.GtE: ast.LtE}


def _strip_docstring(body: list[ast.stmt]) -> list[ast.stmt]:
    if (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        return body[1:] or [ast.Pass()]
    return body


class _Canonicaliser(ast.NodeTransformer):
    """Renames a unit's own identifiers to v1, v2 ... in order of appearance; helpers the student added become `helper`."""

    def __init__(self, kept_names: frozenset[str], own_helpers: frozenset[str], read_names: frozenset[str]):
        self.kept_names = kept_names
        self.own_helpers = own_helpers
        self.read_names = read_names  # names the unit ever reads: a constant stored elsewhere is dead
        self.renamed: dict[str, str] = {}

    def _rename(self, name: str) -> str:
        if name in self.own_helpers:
            return "helper"
        if name in self.kept_names or name in _BUILTINS:
            return name
        return self.renamed.setdefault(name, f"v{len(self.renamed) + 1}")

    # Names and arguments are renamed in place: the canonicaliser owns the tree it rewrites.
    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._rename(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg, node.annotation = self._rename(node.arg), None
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = "helper" if node.name in self.own_helpers else node.name
        node.body = _strip_docstring(node.body)
        node.decorator_list, node.returns = [], None
        return self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.body = _strip_docstring(node.body)
        return self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        target = self.visit(node.target)
        # The target is read too: the same node on both sides (a canonical tree is only unparsed and counted, and
        # neither looks at a name's load or store context).
        value = ast.BinOp(left=target, op=node.op, right=self.visit(node.value))
        return ast.copy_location(ast.Assign(targets=[target], value=value), node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is None:
            return ast.Pass()
        return ast.copy_location(ast.Assign(targets=[self.visit(node.target)], value=self.visit(node.value)), node)

    def visit_Assert(self, node: ast.Assert) -> ast.AST | None:
        return None if _constant_truth(node.test) is True else self.generic_visit(node)

    def _visit_condition(self, node: ast.If) -> ast.AST | list[ast.stmt] | None:
        truth = _constant_truth(node.test)
        if truth is None:
            return self.generic_visit(node)
        kept = node.body if truth else node.orelse
        return [self.visit(statement) for statement in kept] or None

    def visit_If(self, node: ast.If) -> ast.AST | list[ast.stmt] | None:
        setdefault = _as_setdefault(node)
        return self.generic_visit(setdefault) if setdefault else self._visit_condition(node)

    def visit_Assign(self, node: ast.Assign) -> ast.AST | None:
        stores_only_unread = all(
            isinstance(target, ast.Name) and target.id not in self.read_names for target in node.targets
        )
        if stores_only_unread and isinstance(node.value, ast.Constant):
            return None  # `_checked = True`: a value nobody reads
        return self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        """1 + x and x + 1 are one spelling: a number moves to the right of + and *."""
        node = self.generic_visit(node)
        if isinstance(node.op, ast.Add | ast.Mult) and _is_number(node.left) and not _is_number(node.right):
            node.left, node.right = node.right, node.left
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        node = self.generic_visit(node)
        if len(node.ops) == 1 and type(node.ops[0]) in _MIRRORED:
            return ast.Compare(left=node.comparators[0], ops=[_MIRRORED[type(node.ops[0])]()], comparators=[node.left])
        return node

    def visit_List(self, node: ast.List) -> ast.AST:
        """[*xs] is list(xs)."""
        node = self.generic_visit(node)
        if len(node.elts) == 1 and isinstance(node.elts[0], ast.Starred):
            return ast.Call(func=ast.Name(id="list", ctx=ast.Load()), args=[node.elts[0].value], keywords=[])
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        """numpy spellings of one operation become one: np.matmul(a, b), np.dot(a, b), a.dot(b) -> a @ b; np.sum(x, 1) -> x.sum(axis=1)."""
        node = self.generic_visit(node)
        function = node.func
        if isinstance(function, ast.Name) and function.id in _EMPTY_LITERALS and not node.args and not node.keywords:
            return ast.parse(_EMPTY_LITERALS[function.id], mode="eval").body
        if not isinstance(function, ast.Attribute):
            return node
        from_numpy = isinstance(function.value, ast.Name) and function.value.id in _NUMPY_ALIASES
        plain_arguments = not node.keywords and not any(isinstance(argument, ast.Starred) for argument in node.args)
        if from_numpy and function.attr in _BINARY_FUNCTIONS and len(node.args) == 2 and plain_arguments:
            return ast.BinOp(left=node.args[0], op=_BINARY_FUNCTIONS[function.attr](), right=node.args[1])
        if not from_numpy and function.attr == "dot" and len(node.args) == 1 and plain_arguments:
            return ast.BinOp(left=function.value, op=ast.MatMult(), right=node.args[0])
        if from_numpy and function.attr == "asarray":
            function.attr = "array"
        if from_numpy and function.attr == "sqrt" and len(node.args) == 1:
            return ast.BinOp(left=node.args[0], op=ast.Pow(), right=ast.Constant(0.5))
        if from_numpy and function.attr in _ARRAY_METHODS and node.args and not isinstance(node.args[0], ast.Starred):
            node = ast.Call(
                func=ast.Attribute(value=node.args[0], attr=function.attr, ctx=ast.Load()),
                args=node.args[1:],
                keywords=node.keywords,
            )
            function = node.func
        if (
            function.attr in _REDUCTIONS
            and len(node.args) == 1
            and not any(keyword.arg == "axis" for keyword in node.keywords)
        ):
            node.keywords = [ast.keyword(arg="axis", value=node.args[0]), *node.keywords]
            node.args = []
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST | None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return None  # a bare string is a comment in disguise
        return self.generic_visit(node)


def _constant_truth(test: ast.expr) -> bool | None:
    return bool(test.value) if isinstance(test, ast.Constant) else None


def _is_number(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float | complex)
        and not isinstance(node.value, bool)
    )


def _as_setdefault(node: ast.If) -> ast.Expr | None:
    """`if k not in d: d[k] = v` is d.setdefault(k, v)."""
    test = node.test
    if (
        node.orelse
        or len(node.body) != 1
        or not isinstance(test, ast.Compare)
        or len(test.ops) != 1
        or not isinstance(test.ops[0], ast.NotIn)
    ):
        return None
    assign = node.body[0]
    if (
        not isinstance(assign, ast.Assign)
        or len(assign.targets) != 1
        or not isinstance(assign.targets[0], ast.Subscript)
    ):
        return None
    target = assign.targets[0]
    key, mapping = test.left, test.comparators[0]
    if ast.unparse(target.slice) != ast.unparse(key) or ast.unparse(target.value) != ast.unparse(mapping):
        return None
    call = ast.Call(
        func=ast.Attribute(value=mapping, attr="setdefault", ctx=ast.Load()), args=[key, assign.value], keywords=[]
    )
    return ast.copy_location(ast.Expr(value=call), node)


def child_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """ast.iter_child_nodes without the iter_fields generator under it: these walks were most of canonicalising a file."""
    for field in node._fields:
        value = getattr(node, field, None)
        if isinstance(value, ast.AST):
            yield value
        elif isinstance(value, list):
            yield from (item for item in value if isinstance(item, ast.AST))


def _size(root: ast.AST) -> int:
    """Nodes under root, root included, counted as ast.walk would."""
    count, stack = 0, [root]
    while stack:
        node = stack.pop()
        count += 1
        stack.extend(child_nodes(node))
    return count


def canonical_form(
    nodes: list[ast.stmt], kept: frozenset[str], helpers: frozenset[str], read_names: frozenset[str]
) -> tuple[str, int]:
    """The canonical text and size of these statements, which it rewrites in place (each is canonicalised once)."""
    module = _Canonicaliser(kept, helpers, read_names).visit(ast.Module(body=list(nodes), type_ignores=[]))
    return ast.unparse(module), _size(module)
