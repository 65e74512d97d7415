"""Store what a Kasal import translates to: every definition, or none, in one unit of work.

Crews are stored first, so that the flows' ``workflow`` steps find them by name when the
flows are checked. Every error of the whole import is collected and answered at once
(422); a name that exists already is a 409 unless ``on_conflict`` says what to do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.errors import Conflict
from api.schemas.imports import ImportedWorkflow, ImportResult, ImportWarning, OnConflict
from api.services.kasal_import.crews import Translated, translate_crew
from api.services.kasal_import.flows import CrewRef, CrewTarget, crew_refs, translate_flow
from api.services.kasal_import.notes import Notes
from api.services.kasal_import.shapes import ModelMap, read_body
from api.services.workflows import WorkflowService
from db.models import Workflow, WorkflowVersion
from db.uow import UnitOfWork
from workflows.compiler import CompilationFailed


class KasalImportService:
    def __init__(self, uow: UnitOfWork, workflows: WorkflowService) -> None:
        self.uow = uow
        self.workflows = workflows

    async def create(self, body: Any, on_conflict: OnConflict | None) -> ImportResult:
        """Translate and store every crew and flow of ``body``; nothing when any fails."""
        notes = Notes()
        documents = read_body(body, notes)
        crews = [translate_crew(c, loc, documents.model_map, notes) for loc, c in documents.crews]
        if notes.errors:
            raise CompilationFailed(notes.errors)
        created: list[ImportedWorkflow] = []
        async with self.uow as uow:
            await _check_models(
                uow, [c for c in crews if c is not None], documents.model_map, notes
            )
            saved = await uow.workflows.list_live_latest() if documents.flows else []
            stored: list[tuple[Translated, str]] = []
            for crew in crews:
                assert crew is not None  # a crew that failed left errors, raised above
                if not notes.errors:
                    item = await self._store(uow, crew, on_conflict, notes)
                    if item is not None:
                        created.append(item)
                        stored.append((crew, item.name))
            for loc, flow in documents.flows:
                targets = _resolve(crew_refs(flow, loc), stored, saved, notes)
                translated = translate_flow(flow, loc, targets, notes)
                if translated is not None and not notes.errors:
                    item = await self._store(uow, translated, on_conflict, notes)
                    if item is not None:
                        created.append(item)
            if notes.errors:
                raise CompilationFailed(notes.errors)  # the unit of work rolls back
        return ImportResult(
            created=created,
            warnings=[ImportWarning(loc=w.loc, msg=w.msg) for w in notes.warnings],
        )

    async def _store(
        self, uow: UnitOfWork, item: Translated, on_conflict: OnConflict | None, notes: Notes
    ) -> ImportedWorkflow | None:
        try:
            await self.workflows.check_in(uow, item.spec)
        except CompilationFailed as exc:
            for error in exc.errors:
                notes.error([*item.loc, "definition", *error.loc], f"as imported, {error.msg}")
            return None
        name = item.name
        existing = await uow.workflows.get_live_by_name(name)
        if existing is not None and on_conflict == "new_version":
            version = await uow.workflows.add_version_after(
                existing,
                existing.latest_version,
                name=name,
                description=item.description,
                spec=item.spec,
                layout=item.layout,
            )
            assert version is not None  # the same transaction just read the latest
            return ImportedWorkflow(
                id=existing.id, name=name, kind=item.kind, version=version.version
            )
        if existing is not None and on_conflict == "rename":
            name = await _free_name(uow, name)
        elif existing is not None:
            raise Conflict(
                f"a workflow named '{name}' already exists: import with "
                "?on_conflict=new_version (a new version of it) or ?on_conflict=rename"
            )
        workflow, version = await uow.workflows.create(
            name=name, description=item.description, spec=item.spec, layout=item.layout
        )
        return ImportedWorkflow(id=workflow.id, name=name, kind=item.kind, version=version.version)


async def _check_models(
    uow: UnitOfWork, crews: list[Translated], model_map: ModelMap, notes: Notes
) -> None:
    """A model name without a config is an error that names it, at the agent's ``llm``."""
    known = set(await uow.model_configs.names())
    mapped_from = {ours: kasal for kasal, ours in model_map.items()}
    for crew in crews:
        for loc, name in crew.models:
            if name in known:
                continue
            source = mapped_from.get(name)
            via = f" (model_map maps '{source}' to it)" if source and source != name else ""
            notes.error(
                loc,
                f"model '{name}'{via} has no config in this workspace: create a model config "
                f'of that name, or map it ("model_map": {{"{name}": "local"}})',
            )


def _resolve(
    refs: list[CrewRef],
    stored: list[tuple[Translated, str]],
    saved: Sequence[tuple[Workflow, WorkflowVersion]],
    notes: Notes,
) -> dict[str, CrewTarget]:
    """Each crewNode's crew: by id, then by exact name; in this import, then saved before."""
    in_bundle = [(c.kasal_id, c.name, CrewTarget(name, tuple(c.inputs))) for c, name in stored]
    before = [
        (_kasal_id(version.layout), workflow.name, CrewTarget(workflow.name, _inputs(version.spec)))
        for workflow, version in saved
    ]
    found: dict[str, CrewTarget] = {}
    for ref in refs:
        candidates = [*in_bundle, *before]
        match = next((t for kid, _, t in candidates if ref.crew_id and kid == ref.crew_id), None)
        for name in ref.names:
            match = match or next((t for _, n, t in candidates if n == name), None)
        if match is None:
            named = f"'{ref.names[0]}'" if ref.names else "with no name"
            notes.error(
                [*ref.loc, "crewId"],
                f"crew {named} (id {ref.crew_id}) was not found: import it in the same "
                "bundle, or before this flow",
            )
        else:
            found[ref.node_id] = match
    return found


def _kasal_id(layout: dict[str, Any] | None) -> str | None:
    kasal = (layout or {}).get("kasal")
    return kasal.get("id") if isinstance(kasal, dict) and kasal.get("kind") == "crew" else None


def _inputs(spec: dict[str, Any]) -> tuple[str, ...]:
    inputs = spec.get("inputs")
    if not isinstance(inputs, list):
        return ()
    return tuple(
        i["name"] for i in inputs if isinstance(i, dict) and isinstance(i.get("name"), str)
    )


async def _free_name(uow: UnitOfWork, name: str) -> str:
    n = 2
    while await uow.workflows.get_live_by_name(f"{name} ({n})") is not None:
        n += 1
    return f"{name} ({n})"
