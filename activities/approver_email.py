"""The ``send_approver_email`` activity: one email to a gate's approvers over SMTP.

Recipients are emails and role names; a role name is the run's workspace members with
that role or above, read from the database when the email is sent. Without
``KASAL_SMTP_HOST`` nothing is sent (the Slack-compatible webhook may still be).
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db.uow import UnitOfWork
from kasal.settings import Settings
from workflows.approver_notice import SEND_APPROVER_EMAIL, ApproverEmail
from workflows.roles import Role, is_role

SMTP_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = True

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpSettings | None:
        if not settings.KASAL_SMTP_HOST:
            return None
        password = settings.KASAL_SMTP_PASSWORD
        return cls(
            host=settings.KASAL_SMTP_HOST,
            port=settings.KASAL_SMTP_PORT,
            sender=settings.KASAL_SMTP_FROM,
            username=settings.KASAL_SMTP_USERNAME,
            password=password.get_secret_value() if password is not None else None,
            starttls=settings.KASAL_SMTP_STARTTLS,
        )


class ApproverMailer:
    """Sends approver notices by SMTP (stdlib ``smtplib``, in a thread)."""

    def __init__(self, smtp: SmtpSettings | None, sessions: async_sessionmaker[Any] | None) -> None:
        self._smtp = smtp
        self._sessions = sessions

    @activity.defn(name=SEND_APPROVER_EMAIL)
    async def send_approver_email(self, input: ApproverEmail) -> list[str]:
        """An activity because it is network I/O that Temporal retries until it lands.
        Returns the addresses it was sent to."""
        if self._smtp is None:
            activity.logger.info("no KASAL_SMTP_HOST: approver email not sent")
            return []
        addresses = await self.addresses(input.workspace, input.recipients)
        if not addresses:
            return []
        await asyncio.to_thread(_send, self._smtp, addresses, input.subject, input.text)
        return addresses

    async def addresses(self, workspace: str, recipients: Sequence[str]) -> list[str]:
        """Each email once (case aside), and each role's members in the workspace."""
        emails = [r for r in recipients if not is_role(r)]
        roles = [Role(r) for r in recipients if is_role(r)]
        if roles and self._sessions is not None:
            lowest = min(roles, key=lambda role: role.rank)
            names = [role.value for role in Role if role.at_least(lowest)]
            async with UnitOfWork(self._sessions) as uow:
                emails += await uow.workspaces.member_emails_with_role(workspace, names)
        seen: set[str] = set()
        unique: list[str] = []
        for email in emails:
            if email.strip().lower() not in seen:
                seen.add(email.strip().lower())
                unique.append(email.strip())
        return unique


def _send(smtp: SmtpSettings, to: list[str], subject: str, text: str) -> None:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message.set_content(text)
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_SECONDS) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        # Every recipient refused: sending again will not change the server's mind.
        raise ApplicationError(
            f"SMTP refused every recipient: {', '.join(exc.recipients)}",
            type="EmailRefused",
            non_retryable=True,
        ) from None
    except smtplib.SMTPResponseException as exc:
        # 5xx is permanent (bad sender, auth refused); 4xx and the rest are retried.
        raise ApplicationError(
            f"SMTP {smtp.host}:{smtp.port} answered {exc.smtp_code}: {exc.smtp_error!r}",
            type="EmailRefused",
            non_retryable=500 <= exc.smtp_code < 600,
        ) from None
