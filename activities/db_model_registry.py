"""Model configs from the database, resolved afresh on every attempt."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker

from activities.model_registry import ModelConfig, UnknownModel
from db.model_configs import decrypted_config
from db.secrets import SecretBox
from db.uow import UnitOfWork


class DatabaseModelRegistry:
    def __init__(self, sessions: async_sessionmaker[Any], secrets: SecretBox) -> None:
        self._sessions = sessions
        self._secrets = secrets

    async def resolve(self, name: str, workspace: str = "default") -> ModelConfig:
        async with UnitOfWork(self._sessions, workspace) as uow:
            row = await uow.model_configs.get(name)
            if row is None:
                raise UnknownModel(name)
            return ModelConfig(**decrypted_config(row, self._secrets))

    async def names(self) -> set[str]:
        async with UnitOfWork(self._sessions) as uow:
            return await uow.model_configs.names()
