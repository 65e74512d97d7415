"""A local SMTP server that accepts every message and keeps it: enough of RFC 5321
(EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for smtplib, without TLS or auth."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SmtpSink:
    messages: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def start(self) -> SmtpSink:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        def reply(line: str) -> None:
            writer.write(f"{line}\r\n".encode())

        sender, recipients = "", []
        reply("220 sink ESMTP")
        try:
            while line := await reader.readline():
                command = line.decode().strip()
                verb = command[:4].upper()
                if verb == "EHLO":
                    reply("250-sink")
                    reply("250 8BITMIME")
                elif verb == "HELO" or verb == "NOOP":
                    reply("250 ok")
                elif verb == "MAIL":
                    sender, recipients = _address(command), []
                    reply("250 ok")
                elif verb == "RCPT":
                    recipients.append(_address(command))
                    reply("250 ok")
                elif verb == "DATA":
                    reply("354 end with .")
                    await writer.drain()
                    data = await reader.readuntil(b"\r\n.\r\n")
                    body = data[: -len(b".\r\n")].replace(b"\r\n..", b"\r\n.")
                    parsed = email.message_from_bytes(body, policy=email.policy.default)
                    assert isinstance(parsed, EmailMessage)
                    self.messages.append(Received(sender, recipients, parsed))
                    reply("250 queued")
                elif verb == "RSET":
                    sender, recipients = "", []
                    reply("250 ok")
                elif verb == "QUIT":
                    reply("221 bye")
                    await writer.drain()
                    break
                else:
                    reply("502 not implemented")
                await writer.drain()
        finally:
            writer.close()


def _address(command: str) -> str:
    return command.partition(":")[2].strip().split()[0].strip("<>")


@pytest.fixture
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    sink = await SmtpSink().start()
    yield sink
    await sink.stop()
