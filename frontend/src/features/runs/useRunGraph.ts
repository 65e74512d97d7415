import { useEffect, useMemo, useState } from 'react';
import { api } from '../../api/client';
import type { Run, Step } from '../../api/types';
import type { Definition, Layout, StepSpec } from '../../lib/definition';
import { definitionToGraph, type Graph } from '../../lib/graph';
import { findTemplate, type RunTemplate } from '../../lib/run-view';

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

/** A definition with only what a run itself tells: its steps, unconnected. */
function fromSteps(steps: Pick<Step, 'id' | 'type'>[]): Definition {
  return { steps: steps.map(({ id, type }) => bareStep(id, type)) };
}

type Source = { definition: Definition; layout: Layout | null } | 'loading' | 'unavailable';

export interface RunGraphSource {
  graph: Graph | null;
  /** The definition drawn (for gate messages): the workflow's, a template's, or one made of the run's steps. */
  definition: Definition | null;
  /** The map or loop this run carries out, when it is one's child run. */
  template: RunTemplate | null;
}

/**
 * The graph a run executes: its workflow version's definition and layout (or, for a
 * map's or loop's child run, that step's template), or, when that cannot be had, its
 * steps alone.
 */
export function useRunGraph(run: Run | null): RunGraphSource {
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

  // Only a change in the run's step list (not in its statuses) changes the graph.
  const stepKey = run ? JSON.stringify(run.steps.map(({ id, type }) => ({ id, type }))) : null;
  return useMemo(() => {
    const steps = stepKey === null ? [] : (JSON.parse(stepKey) as Pick<Step, 'id' | 'type'>[]);
    if (typeof source === 'object') {
      const template = findTemplate(source.definition, steps.map((step) => step.id));
      if (template) return { graph: definitionToGraph(template.definition), definition: template.definition, template };
      return { graph: definitionToGraph(source.definition, source.layout), definition: source.definition, template: null };
    }
    if (source === 'loading' || stepKey === null) return { graph: null, definition: null, template: null };
    const definition = fromSteps(steps);
    return { graph: definitionToGraph(definition), definition, template: null };
  }, [source, stepKey]);
}
