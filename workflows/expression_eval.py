"""Evaluating a parsed expression (workflows/expressions.py) against a run's values:
deterministic, no I/O. What cannot be evaluated (ordering text against a number, a regex
that does not compile) raises ``EvaluationError``, which pauses the step that asked."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from workflows.expressions import Call, Literal, Name, Node, Not, Path


class EvaluationError(ValueError):
    """An expression that parsed could not be evaluated against these values."""


@dataclass(frozen=True)
class Scope:
    """What an expression may read: step outputs as written (text), inputs, and a
    template's variables (``item``, ``index``, ``iteration``)."""

    outputs: Mapping[str, str | None]
    inputs: Mapping[str, str]
    variables: Mapping[str, Any]


def as_json(text: str | None) -> Any:
    """An output as a value: its JSON if it is JSON (fenced or not), else the text."""
    if text is None:
        return None
    stripped = text.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", stripped, re.DOTALL)
    if fenced:
        stripped = fenced.group(1)
    try:
        return json.loads(stripped)
    except ValueError:
        return text


def evaluate(node: Node, scope: Scope) -> Any:
    return _Evaluator(scope).value(node)


def holds(node: Node, scope: Scope) -> bool:
    return bool(evaluate(node, scope))


class _Evaluator:
    def __init__(self, scope: Scope) -> None:
        self.scope = scope

    def value(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Name):
            if node.name in self.scope.variables:
                return self.scope.variables[node.name]
            if node.name in self.scope.inputs:
                return self.scope.inputs[node.name]
            raise EvaluationError(f"'{node.name}' is not an input or a template variable")
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Path):
            return self.path(node)
        if isinstance(node, Not):
            return not self.value(node.operand)
        if node.op == "and":
            return bool(self.value(node.left)) and bool(self.value(node.right))
        if node.op == "or":
            return bool(self.value(node.left)) or bool(self.value(node.right))
        return _COMPARE[node.op](self.value(node.left), self.value(node.right))

    def call(self, node: Call) -> Any:
        if node.function in ("output", "input"):
            first = node.args[0]
            assert isinstance(first, Literal)
            name = str(first.value)
            if node.function == "output":
                return as_json(self.scope.outputs.get(name))
            return self.scope.inputs.get(name)
        argument = self.value(node.args[0])
        if node.function == "length":
            if isinstance(argument, str | list | dict):
                return len(argument)
            return 0 if argument is None else 1
        return argument.lower() if isinstance(argument, str) else argument

    def path(self, node: Path) -> Any:
        current = self.value(node.base)
        for key in node.keys:
            if isinstance(current, str) and not isinstance(key, int):
                current = as_json(current)  # an input that holds JSON
            if isinstance(key, int) and isinstance(current, list):
                current = current[key] if -len(current) <= key < len(current) else None
            elif isinstance(key, str) and isinstance(current, dict):
                current = current.get(key)
            else:
                return None
        return current


def _numbers(left: Any, right: Any) -> tuple[Any, Any]:
    """Inputs are text: compared with a number, text that is a number counts as one."""
    if _is_number(left) and isinstance(right, str):
        right = _number_or_text(right)
    elif _is_number(right) and isinstance(left, str):
        left = _number_or_text(left)
    return left, right


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number_or_text(text: str) -> Any:
    try:
        return float(text)
    except ValueError:
        return text


def _equal(left: Any, right: Any) -> bool:
    left, right = _numbers(left, right)
    return bool(left == right)


def _ordered(test: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    def compare(left: Any, right: Any) -> bool:
        left, right = _numbers(left, right)
        if left is None or right is None:
            return False
        if _is_number(left) and _is_number(right):
            return test(left, right)
        if isinstance(left, str) and isinstance(right, str):
            return test(left, right)
        raise EvaluationError(
            f"cannot order {type(left).__name__} and {type(right).__name__}: {left!r}, {right!r}"
        )

    return compare


def _contains(left: Any, right: Any) -> bool:
    if isinstance(left, str):
        return isinstance(right, str) and right in left
    if isinstance(left, list):
        return right in left
    if isinstance(left, dict):
        return isinstance(right, str) and right in left
    return False


def _matches(left: Any, right: Any) -> bool:
    if not isinstance(right, str):
        raise EvaluationError("matches takes a regular expression as text")
    if left is None:
        return False
    text = left if isinstance(left, str) else json.dumps(left)
    try:
        return re.search(right, text) is not None
    except re.error as error:
        raise EvaluationError(f"invalid regular expression {right!r}: {error}") from error


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": lambda left, right: not _equal(left, right),
    "<": _ordered(lambda a, b: a < b),
    "<=": _ordered(lambda a, b: a <= b),
    ">": _ordered(lambda a, b: a > b),
    ">=": _ordered(lambda a, b: a >= b),
    "contains": _contains,
    "matches": _matches,
}
