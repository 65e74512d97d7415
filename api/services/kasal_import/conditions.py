"""Kasal's router conditions in our expression language (workflows/expressions.py).

Kasal evaluates a condition as a small Python expression over ``state``, the JSON its
crews answered, merged (``state.get('label') == 'refund'``). Here a router reads the
output of the step it follows, so ``state`` becomes ``output("<that step>")``:

    state.get('label') == 'refund'      →  output("classify").label == "refund"
    'urgent' in state['tags']           →  output("classify").tags contains "urgent"
    len(state.get('items')) > 3         →  length(output("classify").items) > 3

Anything else (arithmetic, other calls, comprehensions) has no translation: the caller
keeps the route with a condition that never holds, as Kasal treats a condition that fails.
"""

from __future__ import annotations

import ast
import re

from workflows.expressions import ExpressionError, parse

NEVER = "false"
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Words of the language: a key spelled like one is written ["and"].
_WORDS = {"and", "or", "not", "contains", "matches", "true", "false", "null"}
_COMPARE = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
}
# Kasal's converters: our comparisons already read numeric text as numbers.
_PASS_THROUGH = {"str", "int", "float"}


class Untranslatable(ValueError):
    pass


def translate(condition: str, source_step: str) -> str:
    """Our expression for ``condition``, reading ``state`` from ``source_step``'s output.

    Raises Untranslatable with the reason when there is none.
    """
    try:
        tree = ast.parse(condition.strip(), mode="eval")
    except SyntaxError as exc:
        raise Untranslatable(f"not an expression: {exc.msg}") from None
    text = _Emitter(source_step).emit(tree.body)
    try:
        parse(text)
    except ExpressionError as exc:  # a guard: every form emitted above parses
        raise Untranslatable(str(exc)) from None
    return text


class _Emitter:
    def __init__(self, source_step: str) -> None:
        self.state = f"output({_quoted(source_step)})"

    def emit(self, node: ast.expr) -> str:
        if isinstance(node, ast.BoolOp):
            joiner = " and " if isinstance(node.op, ast.And) else " or "
            return joiner.join(self.grouped(value) for value in node.values)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return f"not {self.grouped(node.operand)}"
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)
        ):
            return f"-{node.operand.value!r}"
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Constant):
            return _literal(node.value)
        if isinstance(node, ast.Call):
            return self.call(node)
        path = self.path(node)
        if path is not None:
            return path
        raise Untranslatable(f"'{ast.unparse(node)}' has no equivalent")

    def grouped(self, node: ast.expr) -> str:
        text = self.emit(node)
        return f"({text})" if isinstance(node, ast.BoolOp | ast.Compare) else text

    def compare(self, node: ast.Compare) -> str:
        parts: list[str] = []
        left = node.left
        for op, right in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                test = f"{self.grouped(right)} contains {self.grouped(left)}"
                parts.append(f"not ({test})" if isinstance(op, ast.NotIn) else test)
            elif type(op) in _COMPARE:
                parts.append(f"{self.grouped(left)} {_COMPARE[type(op)]} {self.grouped(right)}")
            else:
                raise Untranslatable(f"the comparison '{ast.unparse(node)}' has no equivalent")
            left = right
        return " and ".join(f"({p})" for p in parts) if len(parts) > 1 else parts[0]

    def call(self, node: ast.Call) -> str:
        func = node.func
        if isinstance(func, ast.Name) and len(node.args) == 1 and not node.keywords:
            if func.id == "len":
                return f"length({self.emit(node.args[0])})"
            if func.id in _PASS_THROUGH:
                return self.emit(node.args[0])
            if func.id == "bool":
                return self.emit(node.args[0])
        if (
            isinstance(func, ast.Attribute)
            and func.attr == "lower"
            and not node.args
            and not node.keywords
        ):
            return f"lower({self.emit(func.value)})"
        path = self.path(node)
        if path is not None:
            return path
        raise Untranslatable(f"the call '{ast.unparse(node)}' has no equivalent")

    def path(self, node: ast.expr) -> str | None:
        """``state``, ``state['a']``, ``state.get('a')``, ``state.a`` and chains of them."""
        if isinstance(node, ast.Name):
            return self.state if node.id == "state" else None
        if isinstance(node, ast.Subscript):
            base = self.path(node.value)
            key = node.slice
            if base is None or not isinstance(key, ast.Constant):
                return None
            return base + _key(key.value)
        if isinstance(node, ast.Attribute):
            base = self.path(node.value)
            return None if base is None else base + _key(node.attr)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and 1 <= len(node.args) <= 2
            and isinstance(node.args[0], ast.Constant)
        ):
            base = self.path(node.func.value)
            # A default for a missing key cannot be said here: a missing key reads null.
            return None if base is None else base + _key(node.args[0].value)
        return None


def _key(key: object) -> str:
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise Untranslatable(f"the key {key!r} has no equivalent")
    if isinstance(key, int):
        return f"[{key}]"
    plain = _IDENTIFIER.match(key) and key not in _WORDS
    return f".{key}" if plain else f"[{_quoted(key)}]"


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, int | float):
        return repr(value)
    raise Untranslatable(f"the literal {value!r} has no equivalent")


def _quoted(text: str) -> str:
    """A string literal of ours: only a backslash escapes, the next character."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
