"""What every tool is to a step, whatever its kind: a catalogue entry and an async call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from workflows.tools import ToolInfo


class ToolError(Exception):
    """A failure the agent is told about and may react to (a 404, a bad argument)."""


class ToolHandle(Protocol):
    @property
    def info(self) -> ToolInfo: ...

    async def call(self, arguments: dict[str, Any]) -> str: ...


@dataclass(frozen=True)
class FunctionTool:
    """A tool whose call is a plain async function of its arguments."""

    info: ToolInfo
    function: Callable[[dict[str, Any]], Awaitable[str]]

    async def call(self, arguments: dict[str, Any]) -> str:
        return await self.function(arguments)
