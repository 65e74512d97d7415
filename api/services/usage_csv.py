"""A usage report as CSV: a header row, then one row per group, the JSON's fields."""

from __future__ import annotations

import csv
import io

from api.schemas.usage import UsageReport

COLUMNS = (
    "key",
    "name",
    "prompt_tokens",
    "completion_tokens",
    "cached_tokens",
    "total_tokens",
    "llm_calls",
    "cost_micros",
    "cost_usd",
)
# A spreadsheet takes a cell starting with one of these as a formula (CSV injection);
# workflow names are written by users.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def usage_csv(report: UsageReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in report.items:
        row = item.model_dump()
        writer.writerow([_cell(row[column]) for column in COLUMNS])
    return out.getvalue()


def csv_filename(report: UsageReport) -> str:
    return f"kasal-usage-by-{report.group_by}-{report.from_}-to-{report.to}.csv"


def _cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
