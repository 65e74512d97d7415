"""Rules for model configs: names unique, API keys encrypted and never returned."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from api.egress import params_problems, refuse, url_problems
from api.errors import Conflict, NotFound
from api.schemas.models import ModelConfigCreate, ModelConfigRead, ModelConfigUpdate
from db.base import utcnow
from db.model_configs import ModelPrices
from db.models import ModelConfigRow
from db.secrets import SecretBox
from db.uow import UnitOfWork
from workflows.egress import DEFAULT_POLICY, EgressPolicy


class ModelConfigService:
    def __init__(
        self, uow: UnitOfWork, secrets: SecretBox, egress: EgressPolicy = DEFAULT_POLICY
    ) -> None:
        self.uow = uow
        self.secrets = secrets
        self.egress = egress

    async def create(self, data: ModelConfigCreate) -> ModelConfigRead:
        """Store a new config, its key encrypted."""
        self._check(data.api_base, data.params)
        async with self.uow as uow:
            if await uow.model_configs.get(data.name) is not None:
                raise _name_taken(data.name)
            now = utcnow()
            row = ModelConfigRow(
                name=data.name,
                model=data.model,
                api_base=data.api_base,
                api_key_encrypted=self._encrypt(data.api_key),
                temperature=data.temperature,
                max_tokens=data.max_tokens,
                params=data.params,
                function_calling=data.function_calling,
                prices=data.prices.model_dump() if data.prices else None,
                max_concurrency=data.max_concurrency,
                rpm=data.rpm,
                created_at=now,
                updated_at=now,
            )
            # Two requests may pass the check at once; the primary key decides.
            try:
                await uow.model_configs.insert(row)
            except IntegrityError:
                raise _name_taken(data.name) from None
            return _read(row)

    async def get(self, name: str) -> ModelConfigRead:
        """One config, without its key."""
        async with self.uow as uow:
            return _read(await self._existing(uow, name))

    async def get_all(self) -> list[ModelConfigRead]:
        """Every config, by name."""
        async with self.uow as uow:
            return [_read(row) for row in await uow.model_configs.list()]

    async def update(self, name: str, data: ModelConfigUpdate) -> ModelConfigRead:
        """Change the fields sent; an omitted api_key is kept and a null one cleared."""
        self._check(data.api_base, data.params)
        async with self.uow as uow:
            row = await self._existing(uow, name)
            sent = data.model_fields_set
            for field in (
                "model",
                "api_base",
                "temperature",
                "max_tokens",
                "function_calling",
                "max_concurrency",
                "rpm",
            ):
                if field in sent:
                    setattr(row, field, getattr(data, field))
            if "params" in sent:
                row.params = data.params or {}
            if "prices" in sent:
                row.prices = data.prices.model_dump() if data.prices else None
            if "api_key" in sent:
                row.api_key_encrypted = self._encrypt(data.api_key)
            row.updated_at = utcnow()
            return _read(row)

    async def delete(self, name: str) -> None:
        """Remove a config; runs that name it pause until it exists again."""
        async with self.uow as uow:
            await uow.model_configs.delete(await self._existing(uow, name))

    def _check(self, api_base: str | None, params: dict[str, Any] | None) -> None:
        """Where the model is reached passes the egress policy, and params only tune it."""
        refuse(
            url_problems(self.egress, api_base, ("body", "api_base"))
            + params_problems(params, ("body", "params"))
        )

    def _encrypt(self, api_key: str | None) -> str | None:
        return self.secrets.encrypt(api_key) if api_key else None

    @staticmethod
    async def _existing(uow: UnitOfWork, name: str) -> ModelConfigRow:
        row = await uow.model_configs.get(name)
        if row is None:
            raise NotFound(f"no model config '{name}'")
        return row


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a model config named '{name}' already exists")


def _read(row: ModelConfigRow) -> ModelConfigRead:
    return ModelConfigRead(
        name=row.name,
        model=row.model,
        api_base=row.api_base,
        temperature=row.temperature,
        max_tokens=row.max_tokens,
        params=row.params or {},
        function_calling=row.function_calling,  # type: ignore[arg-type]
        prices=ModelPrices.model_validate(row.prices) if row.prices else None,
        max_concurrency=row.max_concurrency,
        rpm=row.rpm,
        has_api_key=row.api_key_encrypted is not None,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
