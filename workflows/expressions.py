"""The expression language of conditions, routers, maps and loops: small, safe, deterministic.

    output("classify").label == "refund" and not (input("tier") == "free")
    output("review") contains "LGTM" or output("draft").score >= 0.8
    output("triage").title matches "(?i)urgent"

An expression reads the outputs of upstream steps (``output("id")``, parsed as JSON when
it is JSON), the run's inputs (``input("name")``, or the bare name) and, in a map or loop
template, ``item``, ``index`` and ``iteration``. Paths go into JSON: ``.field``, ``[0]``,
``["a key"]``; a path that is not there reads ``null``. It compares (``==``, ``!=``,
``<``, ``<=``, ``>``, ``>=``), tests (``contains``, regex ``matches``), combines (``and``,
``or``, ``not``) and calls ``length(x)`` and ``lower(x)``. This module parses; evaluating is
workflows/expression_eval.py. There is no ``eval``, no I/O
and no clock: the workflow and every replay of it reach the same value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MAX_LENGTH = 2000


class ExpressionError(ValueError):
    """A parse error, with where it was found (0-based position in the text)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"at position {position}: {message}")
        self.position = position


# --- syntax -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Name:
    """An input, or a template's ``item``, ``index`` or ``iteration``."""

    name: str
    position: int


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]
    position: int


@dataclass(frozen=True)
class Path:
    base: Node
    keys: tuple[str | int, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node
    position: int


Node = Literal | Name | Call | Path | Not | Binary

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|\.|,)
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "contains", "matches", "true", "false", "null"}
_COMPARISONS = {"==", "!=", "<", "<=", ">", ">=", "contains", "matches"}
FUNCTIONS = {"output": 1, "input": 1, "length": 1, "lower": 1}


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, op, word, end
    text: str
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            if text[position:].strip() == "":
                break
            offset = position + len(text[position:]) - len(text[position:].lstrip())
            raise ExpressionError(f"unexpected character {text[offset]!r}", offset)
        kind = match.lastgroup
        assert kind is not None
        tokens.append(_Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    tokens.append(_Token("end", "", len(text)))
    return tokens


class _Parser:
    """Recursive descent, lowest precedence first: or, and, not, comparison, path."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> _Token:
        return self.tokens[self.at]

    def take(self) -> _Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def expect(self, text: str) -> _Token:
        token = self.take()
        if token.text != text or token.kind == "string":
            raise ExpressionError(f"expected '{text}', found {_shown(token)}", token.position)
        return token

    def parse(self) -> Node:
        node = self.disjunction()
        token = self.peek()
        if token.kind != "end":
            raise ExpressionError(f"unexpected {_shown(token)}", token.position)
        return node

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.peek().kind == "word" and self.peek().text == "or":
            token = self.take()
            node = Binary("or", node, self.conjunction(), token.position)
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.peek().kind == "word" and self.peek().text == "and":
            token = self.take()
            node = Binary("and", node, self.negation(), token.position)
        return node

    def negation(self) -> Node:
        if self.peek().kind == "word" and self.peek().text == "not":
            self.take()
            return Not(self.negation())
        return self.comparison()

    def comparison(self) -> Node:
        node = self.path()
        token = self.peek()
        if token.kind in ("op", "word") and token.text in _COMPARISONS:
            self.take()
            right = self.path()
            if token.text == "matches" and isinstance(right, Literal):
                _check_pattern(right.value, token.position)
            node = Binary(token.text, node, right, token.position)
        return node

    def path(self) -> Node:
        node = self.primary()
        keys: list[str | int] = []
        while self.peek().text in (".", "[") and self.peek().kind == "op":
            if self.take().text == ".":
                name = self.take()
                if name.kind != "word":
                    raise ExpressionError(
                        f"expected a field name after '.', found {_shown(name)}", name.position
                    )
                keys.append(name.text)
            else:
                key = self.take()
                if key.kind == "string":
                    keys.append(_unquote(key))
                elif key.kind == "number" and key.text.lstrip("-").isdigit():
                    keys.append(int(key.text))
                else:
                    raise ExpressionError(
                        f"expected an index or a quoted key, found {_shown(key)}", key.position
                    )
                self.expect("]")
        return Path(node, tuple(keys)) if keys else node

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "number":
            number = float(token.text)
            return Literal(int(number) if number.is_integer() and "." not in token.text else number)
        if token.kind == "string":
            return Literal(_unquote(token))
        if token.kind == "op" and token.text == "(":
            node = self.disjunction()
            self.expect(")")
            return node
        if token.kind == "word":
            if token.text in ("true", "false", "null"):
                return Literal({"true": True, "false": False, "null": None}[token.text])
            if token.text in _KEYWORDS:
                raise ExpressionError(f"unexpected '{token.text}'", token.position)
            if self.peek().text == "(" and self.peek().kind == "op":
                return self.call(token)
            return Name(token.text, token.position)
        raise ExpressionError(f"expected a value, found {_shown(token)}", token.position)

    def call(self, name: _Token) -> Node:
        arity = FUNCTIONS.get(name.text)
        if arity is None:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"unknown function '{name.text}' (known: {known})", name.position)
        self.expect("(")
        args: list[Node] = []
        if self.peek().text != ")":
            args.append(self.disjunction())
            while self.peek().text == "," and self.peek().kind == "op":
                self.take()
                args.append(self.disjunction())
        self.expect(")")
        if len(args) != arity:
            raise ExpressionError(
                f"{name.text}() takes {arity} argument, not {len(args)}", name.position
            )
        if name.text in ("output", "input") and not (
            isinstance(args[0], Literal) and isinstance(args[0].value, str)
        ):
            raise ExpressionError(f"{name.text}() takes a quoted name", name.position)
        return Call(name.text, tuple(args), name.position)


def _shown(token: _Token) -> str:
    return "the end" if token.kind == "end" else f"'{token.text}'"


def _unquote(token: _Token) -> str:
    body = token.text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)


def _check_pattern(pattern: object, position: int) -> None:
    if not isinstance(pattern, str):
        raise ExpressionError("matches takes a quoted regular expression", position)
    try:
        re.compile(pattern)
    except re.error as error:
        raise ExpressionError(f"invalid regular expression: {error}", position) from error


def parse(text: str) -> Node:
    """The expression's syntax tree; ``ExpressionError`` says what is wrong, and where."""
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"longer than {MAX_LENGTH} characters", MAX_LENGTH)
    return _Parser(text).parse()


@dataclass(frozen=True)
class Reference:
    kind: str  # "output", "input" or "name"
    name: str
    position: int


def references(node: Node) -> list[Reference]:
    """Every step output, input and bare name the expression reads, in reading order."""
    found: list[Reference] = []
    pending: list[Node] = [node]
    while pending:
        current = pending.pop()
        if isinstance(current, Name):
            found.append(Reference("name", current.name, current.position))
        elif isinstance(current, Call):
            first = current.args[0]
            if current.function in ("output", "input") and isinstance(first, Literal):
                found.append(Reference(current.function, str(first.value), current.position))
            else:
                pending.extend(reversed(current.args))
        elif isinstance(current, Path):
            pending.append(current.base)
        elif isinstance(current, Not):
            pending.append(current.operand)
        elif isinstance(current, Binary):
            pending.extend([current.right, current.left])
    return sorted(found, key=lambda r: r.position)
