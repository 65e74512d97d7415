"""Seeding is idempotent and never overwrites what a user changed."""

from __future__ import annotations

from pathlib import Path

from db.secrets import load_secret_box
from db.seed import seed
from db.seeds.workflows import RESEARCH_BRIEF, SUPPORT_TRIAGE
from db.session import create_engine, session_factory
from db.uow import UnitOfWork
from kasal.settings import Settings
from workflows.compiler import compile_plan


async def test_seed_twice_creates_each_thing_once(tmp_path: Path, database_url: str) -> None:
    settings = Settings(
        KASAL_DATA_DIR=tmp_path, KASAL_DATABASE_URL=database_url, KASAL_LLM_PORT=9911
    )
    env = {"OPENAI_API_KEY": "sk-openai-seed-test", "DATABRICKS_HOST": "dbc.example.com"}
    await seed(settings, env)
    await seed(settings, env)

    engine = create_engine(database_url)
    try:
        async with UnitOfWork(session_factory(engine)) as uow:
            configs = {row.name: row for row in await uow.model_configs.list()}
            workflows, total = await uow.workflows.list_live(name_contains=None, limit=10, offset=0)
    finally:
        await engine.dispose()
    # Databricks needs both a host and a token; only the host is set.
    assert set(configs) == {"local", "openai"}
    assert configs["local"].api_base == "http://127.0.0.1:9911/v1"
    encrypted = configs["openai"].api_key_encrypted
    assert encrypted is not None and "sk-openai" not in encrypted
    box = load_secret_box(None, tmp_path, create=False)
    assert box.decrypt(encrypted) == "sk-openai-seed-test"
    assert total == 2
    assert {w.name for w in workflows} == {"research-brief", "support-triage"}


def test_the_example_workflow_compiles_on_the_local_model() -> None:
    plan = compile_plan(RESEARCH_BRIEF["spec"], {"topic": "tides"}, {"local"})
    assert [s.id for s in plan.steps] == ["research", "brief"]
    assert "tides" in plan.steps[0].description  # type: ignore[union-attr]


def test_the_support_triage_example_compiles_on_the_local_model() -> None:
    plan = compile_plan(SUPPORT_TRIAGE["spec"], {"ticket": "I was charged twice"}, {"local"})
    assert [s.id for s in plan.steps] == [
        "classify",
        "route",
        "approve_refund",
        "issue_refund",
        "file_bug",
        "answer_question",
        "reply",
    ]
    assert "I was charged twice" in plan.steps[0].description  # type: ignore[union-attr]
