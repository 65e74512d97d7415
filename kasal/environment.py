"""Process environment that CrewAI and litellm need before they are imported."""

from __future__ import annotations

import os

# Without these, CrewAI phones home and makes exit hang for 10 s or more, and litellm
# fetches a price list in the background that slows generation.
QUIET_DEFAULTS = {
    "CREWAI_DISABLE_TELEMETRY": "true",
    "CREWAI_DISABLE_TRACKING": "true",
    "CREWAI_TESTING": "true",
    # Unset, CrewAI reads (and creates) its user-data file on every task to ask whether
    # the user agreed to tracing: about 1 ms of each step.
    "CREWAI_TRACING_ENABLED": "false",
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
    # litellm caps its HTTP pool at 500 connections per host, which would cap a worker
    # at 500 steps in flight against one provider.
    "AIOHTTP_CONNECTOR_LIMIT": "4000",
    "AIOHTTP_CONNECTOR_LIMIT_PER_HOST": "4000",
    # litellm keeps an idle connection 15 s; many servers (uvicorn, so llama.cpp-style
    # local servers and the stub) close theirs after 5 s. A call that picked up a closed
    # one failed with "Connection error" and cost the step an attempt.
    "AIOHTTP_KEEPALIVE_TIMEOUT": "4",
}


def quiet_crewai() -> None:
    for key, value in QUIET_DEFAULTS.items():
        os.environ.setdefault(key, value)
