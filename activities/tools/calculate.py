"""The arithmetic and JSON tools: pure functions, no I/O, and no ``eval``."""

from __future__ import annotations

import ast
import json
import math
import operator
from collections.abc import Callable
from typing import Any

from activities.tools.handle import ToolError

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs,
    "round": round,
    "min": min,
    "max": max,
    "sqrt": math.sqrt,
}
# 10**10**10 would take the worker's CPU and memory for good: powers stay bounded.
MAX_EXPONENT = 1000
MAX_POWER_BITS = 100_000
MAX_EXPRESSION_CHARS = 1000


def calculate(expression: str) -> str:
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"the expression is longer than {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression, mode="eval")
        # str() is inside: an int of more than 4,300 digits is a ValueError there.
        return str(_evaluate(tree.body))
    except ToolError:
        raise
    except (SyntaxError, ZeroDivisionError, OverflowError, ValueError, TypeError) as exc:
        raise ToolError(f"cannot calculate {expression!r}: {exc}") from None


def _evaluate(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and (
            abs(right) > MAX_EXPONENT
            or (isinstance(left, int) and left.bit_length() * abs(right) > MAX_POWER_BITS)
        ):
            raise ToolError("the power is too large to calculate")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in _FUNCTIONS
        and not node.keywords
    ):
        return _FUNCTIONS[node.func.id](*(_evaluate(arg) for arg in node.args))
    raise ToolError(f"not allowed in an expression: {ast.unparse(node)!r}")


def json_query(document: str, path: str) -> str:
    try:
        value: Any = json.loads(document)
    except json.JSONDecodeError as exc:
        raise ToolError(f"the document is not JSON: {exc}") from None
    except (ValueError, RecursionError) as exc:  # a 5,000-digit number, deep nesting
        raise ToolError(f"the document cannot be read: {type(exc).__name__}: {exc}") from None
    for key in [part for part in path.split(".") if part]:
        if isinstance(value, list):
            try:
                value = value[int(key)]
            except (ValueError, IndexError):
                raise ToolError(f"no item {key!r} in a list of {len(value)}") from None
        elif isinstance(value, dict):
            if key not in value:
                raise ToolError(f"no key {key!r}; the keys are {sorted(value)[:20]}")
            value = value[key]
        else:
            raise ToolError(f"cannot read {key!r} from {type(value).__name__}")
    return value if isinstance(value, str) else json.dumps(value)
