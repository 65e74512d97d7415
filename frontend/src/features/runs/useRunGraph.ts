import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { Run, Step } from '../../api/types';
import type { Definition, Layout, StepSpec } from '../../lib/definition';
import { definitionToGraph, type Graph } from '../../lib/graph';
import { groupSteps } from '../../lib/run-view';

/** A step of the given type with only its id, for a graph drawn from a run alone. */
function bareStep(id: string, type: Step['type']): StepSpec {
  switch (type) {
    case 'task':
      return { id, type, description: '', expected_output: '' };
    case 'approval':
      return { id, type, message: '' };
    case 'condition':
      return { id, type, if: '' };
    case 'router':
      return { id, type, routes: [], default: '', targets: {} };
    case 'map':
      return { id, type, items: '', steps: [] };
    case 'loop':
      return { id, type, steps: [], until: '' };
    case 'workflow':
      return { id, type, workflow: '' };
  }
}

/** A definition with only what a run itself tells: its top-level steps, unconnected. */
function fromSteps(steps: Pick<Step, 'id' | 'type'>[]): Definition {
  const members = new Set(groupSteps(steps).flatMap((group) => group.members.map((step) => step.id)));
  return { steps: steps.filter(({ id }) => !members.has(id)).map(({ id, type }) => bareStep(id, type)) };
}

type Source = { definition: Definition; layout: Layout | null } | 'loading' | 'unavailable';

/**
 * The graph a run executes: its workflow version's definition and layout, or, when that
 * cannot be had, its steps alone. Also returns the definition (for gate messages).
 */
export function useRunGraph(run: Run | null): { graph: Graph | null; definition: Definition | null } {
  const [source, setSource] = useState<Source>('loading');
  const workflowId = run ? run.workflow_id : undefined;
  const version = run?.version;

  useEffect(() => {
    if (workflowId === undefined) return; // the run is not loaded yet
    if (workflowId === null) {
      setSource('unavailable');
      return;
    }
    let active = true;
    setSource('loading');
    api
      .listVersions(workflowId)
      .then((versions) => {
        const match = versions.find((v) => v.version === version);
        if (active) setSource(match ? { definition: match.spec, layout: match.layout } : 'unavailable');
      })
      .catch(() => active && setSource('unavailable'));
    return () => {
      active = false;
    };
  }, [workflowId, version]);

  // Only a change in the run's step list (not in its statuses) changes the fallback graph.
  const stepKey = source === 'unavailable' && run ? JSON.stringify(run.steps.map(({ id, type }) => ({ id, type }))) : null;
  return useMemo(() => {
    if (typeof source === 'object') {
      return { graph: definitionToGraph(source.definition, source.layout), definition: source.definition };
    }
    if (stepKey === null) return { graph: null, definition: null };
    const definition = fromSteps(JSON.parse(stepKey) as Pick<Step, 'id' | 'type'>[]);
    return { graph: definitionToGraph(definition), definition };
  }, [source, stepKey]);
}
