"""ApproverNoticeWorkflow: tell a gate's approvers that it waits, without holding up the run.

A run starts one as an abandoned child when a gate opens, when it reminds its approvers
(``remind_after_seconds``) and when it escalates (``escalate_after_seconds``). The child
posts ``{"text": …}`` to a Slack-compatible incoming webhook (``notify.slack_webhook_url``
or ``KASAL_SLACK_WEBHOOK_URL``, through the signed ``send_webhook`` activity and its
egress policy) and emails the recipients (``send_approver_email``; role names expand to
the workspace's members with that role or above). Each is retried with backoff for up
to a day, and one that is down never keeps the other from landing.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.workflow import ParentClosePolicy

from workflows.engine.events import ApproverNoticeKind
from workflows.notify import SEND_WEBHOOK, WebhookInput
from workflows.plan import RunMeta

SEND_APPROVER_EMAIL = "send_approver_email"


class ApproverEmail(BaseModel):
    workspace: str
    # Emails and role names; a role is its members in the workspace, and those above it.
    recipients: list[str]
    subject: str
    text: str


class ApproverNotice(BaseModel):
    workspace: str = "default"
    slack_webhook_url: str | None = None
    text: str
    email: ApproverEmail | None = None


_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
)


@workflow.defn(name="ApproverNoticeWorkflow")
class ApproverNoticeWorkflow:
    """Posts one notice to Slack and sends it by email, each retried for up to a day."""

    @workflow.run
    async def run(self, input: ApproverNotice) -> None:
        sends: list[Any] = []
        if input.slack_webhook_url:
            sends.append(
                workflow.execute_activity(
                    SEND_WEBHOOK,
                    WebhookInput(
                        url=input.slack_webhook_url,
                        payload={"text": input.text},
                        workspace=input.workspace,
                    ),
                    start_to_close_timeout=timedelta(seconds=30),
                    schedule_to_close_timeout=timedelta(days=1),
                    retry_policy=_RETRY,
                    summary="approvers → Slack",
                )
            )
        if input.email is not None:
            sends.append(
                workflow.execute_activity(
                    SEND_APPROVER_EMAIL,
                    input.email,
                    start_to_close_timeout=timedelta(seconds=60),
                    schedule_to_close_timeout=timedelta(days=1),
                    retry_policy=_RETRY,
                    summary="approvers → email",
                )
            )
        results = await asyncio.gather(*sends, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result


def notice_text(
    notice: ApproverNoticeKind,
    *,
    workflow_name: str,
    step_id: str,
    message: str,
    approvers: list[str],
    escalated_to: list[str],
    link: str | None,
) -> tuple[str, str]:
    """The subject and text of a notice: Slack gets the text, email both."""
    name = workflow_name or "a workflow"
    who = ", ".join(approvers) or "operators"
    if notice == "waiting":
        subject = f"Approval needed: {name} · {step_id}"
        head = f"Approval needed in *{name}*: gate `{step_id}` waits for a decision."
    elif notice == "reminder":
        subject = f"Reminder: approval needed: {name} · {step_id}"
        head = f"Reminder: gate `{step_id}` in *{name}* still waits for a decision."
    else:
        subject = f"Escalated: approval needed: {name} · {step_id}"
        head = (
            f"Escalated to {', '.join(escalated_to)}: gate `{step_id}` in *{name}* "
            "still waits for a decision."
        )
    lines = [head, f"> {message}", f"Approvers: {who}"]
    if link:
        lines.append(f"Open the run: {link}")
    return subject, "\n".join(lines)


async def start_approver_notice(
    meta: RunMeta,
    notice: ApproverNoticeKind,
    *,
    step_id: str,
    round: int,
    message: str,
    approvers: list[str],
    recipients: list[str],
) -> None:
    """Start an ApproverNoticeWorkflow; it outlives the run and never blocks it.

    A gate opens, reminds and escalates at most once a round, so step, round and notice
    name the child (with the execution, as continue-as-new starts a new one)."""
    info = workflow.info()
    link = f"{meta.app_url}/runs/{info.workflow_id}" if meta.app_url else None
    subject, text = notice_text(
        notice,
        workflow_name=meta.workflow_name,
        step_id=step_id,
        message=message,
        approvers=approvers,
        escalated_to=recipients if notice == "escalation" else [],
        link=link,
    )
    email = (
        ApproverEmail(workspace=meta.workspace, recipients=recipients, subject=subject, text=text)
        if recipients
        else None
    )
    await workflow.start_child_workflow(
        ApproverNoticeWorkflow.run,
        ApproverNotice(
            workspace=meta.workspace,
            slack_webhook_url=meta.slack_webhook_url,
            text=text,
            email=email,
        ),
        id=f"{info.workflow_id}-approvers-{info.run_id}-{step_id}-{round}-{notice}",
        parent_close_policy=ParentClosePolicy.ABANDON,
        static_summary=f"{notice} · {step_id} → approvers",
    )
