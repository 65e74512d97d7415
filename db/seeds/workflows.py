"""Example workflows to seed. They run on the bundled `local` model, with no key."""

from __future__ import annotations

from typing import Any

RESEARCH_BRIEF: dict[str, Any] = {
    "name": "research-brief",
    "description": "A researcher gathers key points on a topic; a writer turns them into a brief.",
    "spec": {
        "inputs": [{"name": "topic", "description": "What the brief is about", "required": True}],
        "agents": [
            {
                "id": "researcher",
                "role": "Researcher",
                "goal": "Find the key facts about {topic}",
                "backstory": "You are a careful researcher who lists facts plainly.",
                "llm": "local",
                "tools": [],
                "max_iter": 3,
            },
            {
                "id": "writer",
                "role": "Writer",
                "goal": "Write a short, clear brief about {topic}",
                "backstory": "You turn notes into short briefs for busy readers.",
                "llm": "local",
                "tools": [],
                "max_iter": 3,
            },
        ],
        "steps": [
            {
                "id": "research",
                "type": "task",
                "agent": "researcher",
                "description": "List three key facts about {topic}.",
                "expected_output": "Three short bullet points.",
                "after": [],
            },
            {
                "id": "brief",
                "type": "task",
                "agent": "writer",
                "description": "Write a three-sentence brief about {topic} from the notes.",
                "expected_output": "A brief of three sentences.",
                "after": ["research"],
            },
        ],
    },
    "layout": {
        "nodes": {
            "researcher": {"x": 0, "y": 0},
            "writer": {"x": 0, "y": 200},
            "research": {"x": 300, "y": 0},
            "brief": {"x": 300, "y": 200},
        }
    },
}


# The labels classify answers with; the router sends all but refund and bug to "other".
TRIAGE_LABELS = ["refund", "bug", "other"]


def _triage_task(
    step_id: str, agent: str, description: str, expected: str, after: str
) -> dict[str, Any]:
    return {
        "id": step_id,
        "type": "task",
        "agent": agent,
        "description": description,
        "expected_output": expected,
        "after": [after],
    }


SUPPORT_TRIAGE: dict[str, Any] = {
    "name": "support-triage",
    "description": (
        "A triager labels a support ticket; a router sends refunds through an operator's "
        "approval, bugs to a bug report and anything else to an answer; then one reply."
    ),
    "spec": {
        "inputs": [{"name": "ticket", "description": "The customer's message", "required": True}],
        "agents": [
            {
                "id": "triager",
                "role": "Support triager",
                "goal": "Label each support ticket correctly",
                "backstory": "You read tickets and sort them into refunds, bugs and the rest.",
                "llm": "local",
                "tools": [],
                "max_iter": 3,
            },
            {
                "id": "agent",
                "role": "Support agent",
                "goal": "Resolve the customer's ticket: {ticket}",
                "backstory": "You help customers kindly, plainly and briefly.",
                "llm": "local",
                "tools": [],
                "max_iter": 3,
            },
        ],
        "steps": [
            {
                "id": "classify",
                "type": "task",
                "agent": "triager",
                "description": (
                    "Classify this support ticket as refund, bug or other: {ticket}\n"
                    'Answer with JSON only, like {{"label": "refund"}}.'
                ),
                "expected_output": 'JSON with one field, label: "refund", "bug" or "other".',
                "after": [],
                "output_schema": {
                    "type": "object",
                    "properties": {"label": {"type": "string", "enum": TRIAGE_LABELS}},
                    "required": ["label"],
                },
            },
            {
                "id": "route",
                "type": "router",
                "after": ["classify"],
                "routes": [
                    {"name": "refund", "if": 'output("classify").label == "refund"'},
                    {"name": "bug", "if": 'output("classify").label == "bug"'},
                ],
                "default": "other",
                "targets": {
                    "refund": ["approve_refund"],
                    "bug": ["file_bug"],
                    "other": ["answer_question"],
                },
            },
            {
                "id": "approve_refund",
                "type": "approval",
                "after": ["route"],
                # Gate messages are not templates: the ticket is in the run's inputs.
                "message": "Issue a refund for this ticket? (It was classified as a refund.)",
                "approvers": ["operator"],
            },
            _triage_task(
                "issue_refund",
                "agent",
                "The refund was approved. Write the refund confirmation for this ticket: {ticket}",
                "A short refund confirmation.",
                "approve_refund",
            ),
            _triage_task(
                "file_bug",
                "agent",
                "Write a bug report for engineers from this ticket: {ticket}",
                "A bug report: summary, steps to reproduce, expected and actual behaviour.",
                "route",
            ),
            _triage_task(
                "answer_question",
                "agent",
                "Answer the customer's question in this ticket: {ticket}",
                "A short, helpful answer.",
                "route",
            ),
            {
                "id": "reply",
                "type": "task",
                "agent": "agent",
                "description": (
                    "Write the reply to the customer for this ticket, from what was done: {ticket}"
                ),
                "expected_output": "A short, friendly reply to the customer.",
                # Runs once, after whichever branch the router took (README, "Branches and joins").
                "after": ["issue_refund", "file_bug", "answer_question"],
                "join": "all",
            },
        ],
    },
    "layout": {
        "nodes": {
            "triager": {"x": 0, "y": 0},
            "agent": {"x": 0, "y": 300},
            "classify": {"x": 300, "y": 150},
            "route": {"x": 550, "y": 150},
            "approve_refund": {"x": 800, "y": 0},
            "issue_refund": {"x": 1050, "y": 0},
            "file_bug": {"x": 925, "y": 150},
            "answer_question": {"x": 925, "y": 300},
            "reply": {"x": 1300, "y": 150},
        }
    },
}

EXAMPLE_WORKFLOWS = [RESEARCH_BRIEF, SUPPORT_TRIAGE]
