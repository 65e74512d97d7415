"""Kasal's tools, referenced by the id of a row in its tools table, and ours that match.

Only tools that do the same thing are mapped; the rest are dropped with a warning that
names them. The titles are Kasal's (its ``seeds/tools.py``), so a warning says which tool
went, not just its number.
"""

from __future__ import annotations

# Kasal tool id → our built-in tool (workflows/tools.py).
EQUIVALENTS: dict[str, str] = {
    "26": "fetch_url",  # ScrapeWebsiteTool: a web page's content
}

TITLES: dict[str, str] = {
    "6": "Dall-E Tool",
    "16": "SerperDevTool",
    "26": "ScrapeWebsiteTool",
    "31": "PerplexityTool",
    "35": "GenieTool",
    "36": "DatabricksKnowledgeSearchTool",
    "69": "MCPTool",
    "70": "DatabricksJobsTool",
    "71": "AgentBricksTool",
    "72": "Power BI Comprehensive Analysis Tool",
    "73": "Measure Conversion Pipeline",
    "74": "M-Query Conversion Pipeline",
    "75": "Power BI Relationships Tool",
    "76": "Power BI Hierarchies Tool",
    "77": "Power BI Field Parameters & Calculation Groups Tool",
    "78": "Power BI Report References Tool",
    "79": "Power BI Semantic Model Fetcher",
    "80": "Power BI Semantic Model DAX Generator",
    "81": "Power BI Metadata Reducer",
    "82": "Power BI DAX Executor",
    "85": "DAX to SQL Translator",
    "86": "UC Metric View Generator",
    "87": "PBI Measure Allocator",
    "88": "Metric View Deployer",
    "89": "Config Generator",
    "90": "Pipeline Config Generator",
    "91": "Metric View Validator",
    "92": "Genie Space Generator",
    "93": "UCMV Genie Space Config Generator",
    "94": "PBI Visual-UCMV Mapper",
    "95": "Databricks Dashboard Creator",
}
_BY_TITLE = {title.lower(): tool_id for tool_id, title in TITLES.items()}


def equivalent(reference: str) -> str | None:
    """Our tool for a Kasal tool id (or title), if one does the same job."""
    tool_id = _BY_TITLE.get(reference.strip().lower(), reference.strip())
    return EQUIVALENTS.get(tool_id)


def described(reference: str) -> str:
    """How a warning names a Kasal tool: ``95 (Databricks Dashboard Creator)``."""
    title = TITLES.get(reference.strip())
    return f"'{reference}' ({title})" if title else f"'{reference}'"
