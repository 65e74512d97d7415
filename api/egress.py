"""The egress policy and the model-params allowlist where the API saves what people
configure: a refused URL or param answers 422 at its ``loc``, before anything is stored.

The API checks what a URL says (its scheme, an address it names, a name the rules
list); the worker checks every address a name resolves to, each time it connects
(activities/egress.py), since DNS may answer differently then.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError

from db.model_configs import ALLOWED_MODEL_PARAMS
from kasal.settings import Settings
from workflows.egress import EgressPolicy

Loc = tuple[str | int, ...]


@lru_cache(maxsize=8)
def _parsed(deny: str, allow: str) -> EgressPolicy:
    return EgressPolicy.parse(deny, allow)


def egress_policy(settings: Settings) -> EgressPolicy:
    return _parsed(settings.KASAL_EGRESS_DENY, settings.KASAL_EGRESS_ALLOW)


async def get_egress_policy(request: Request) -> EgressPolicy:
    return egress_policy(request.app.state.settings)


EgressDep = Annotated[EgressPolicy, Depends(get_egress_policy)]


def url_problems(policy: EgressPolicy, url: str | None, loc: Loc) -> list[dict[str, Any]]:
    """The 422 item for ``url`` at ``loc`` if the policy refuses it, else none."""
    reason = None if url is None else policy.url_refusal(url)
    if reason is None:
        return []
    return [{"loc": loc, "msg": f"refused by the egress policy: {reason}", "type": "egress"}]


def params_problems(params: Mapping[str, Any] | None, loc: Loc) -> list[dict[str, Any]]:
    """A 422 item for each of a model config's params that is not a sampling parameter."""
    allowed = ", ".join(sorted(ALLOWED_MODEL_PARAMS))
    return [
        {
            "loc": (*loc, name),
            "msg": f"not an allowed model param (allowed: {allowed}); where a model is "
            "reached and its key are the config's api_base and api_key",
            "type": "model_param",
        }
        for name in params or {}
        if name not in ALLOWED_MODEL_PARAMS
    ]


def refuse(problems: list[dict[str, Any]]) -> None:
    """Answer 422 with every problem found, as a request body's own errors are answered."""
    if problems:
        raise RequestValidationError(problems)


def check_configured_urls(settings: Settings) -> None:
    """Refuse to start with a ``KASAL_WEBHOOK_URL`` (or ``KASAL_SLACK_WEBHOOK_URL``) the
    policy refuses: every run would try it in vain (the worker refuses it too)."""
    for name in ("KASAL_WEBHOOK_URL", "KASAL_SLACK_WEBHOOK_URL"):
        url = getattr(settings, name)
        reason = None if url is None else egress_policy(settings).url_refusal(url)
        if reason is not None:
            raise ValueError(f"{name} is refused by the egress policy: {reason}")
