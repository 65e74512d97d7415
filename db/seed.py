"""Seed runner: idempotent, so it runs on every start and never overwrites a user's edits."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping

from db.base import utcnow
from db.migrate import upgrade_to_head
from db.models import ModelConfigRow
from db.secrets import SecretBox, load_secret_box
from db.seeds.model_configs import local_model, provider_models
from db.seeds.workflows import EXAMPLE_WORKFLOWS
from db.session import create_engine, session_factory
from db.uow import UnitOfWork
from kasal.settings import Settings

log = logging.getLogger("kasal.seed")


async def seed(settings: Settings, env: Mapping[str, str] | None = None) -> None:
    await asyncio.to_thread(upgrade_to_head, settings.database_url)
    secrets = load_secret_box(settings.KASAL_SECRET_KEY, settings.KASAL_DATA_DIR, create=True)
    engine = create_engine(settings.database_url)
    try:
        async with UnitOfWork(session_factory(engine)) as uow:
            await seed_model_configs(uow, secrets, settings, os.environ if env is None else env)
            await seed_workflows(uow)
    finally:
        await engine.dispose()


async def seed_model_configs(
    uow: UnitOfWork, secrets: SecretBox, settings: Settings, env: Mapping[str, str]
) -> None:
    for model in [local_model(settings.local_llm_url), *provider_models(env)]:
        if await uow.model_configs.get(model.name) is not None:
            continue
        now = utcnow()
        uow.model_configs.add(
            ModelConfigRow(
                name=model.name,
                model=model.model,
                api_base=model.api_base,
                api_key_encrypted=secrets.encrypt(model.api_key) if model.api_key else None,
                temperature=model.temperature,
                max_tokens=model.max_tokens,
                params={},
                created_at=now,
                updated_at=now,
            )
        )
        log.info("seeded model config %s", model.name)


async def seed_workflows(uow: UnitOfWork) -> None:
    for example in EXAMPLE_WORKFLOWS:
        if await uow.workflows.get_live_by_name(example["name"]) is not None:
            continue
        await uow.workflows.create(
            name=example["name"],
            description=example["description"],
            spec=example["spec"],
            layout=example["layout"],
        )
        log.info("seeded workflow %s", example["name"])
