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

EXAMPLE_WORKFLOWS = [RESEARCH_BRIEF]
