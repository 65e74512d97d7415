import { useEffect } from 'react';
import { api, ApiError } from '../../api/client';
import { graphToDefinition } from '../../lib/graph';
import { mapIssues, NO_ISSUES } from '../../lib/validation';
import type { AppNode } from '../../nodes/types';
import { useDesigner, type DesignerState } from '../../stores/designer-store';

type Parts = Pick<DesignerState, 'nodes' | 'edges' | 'inputs' | 'extras'>;

/** True when `next` may stand for another definition than `prev`: not just moved, selected or measured nodes. */
function definitionMayDiffer(prev: Parts | null, next: Parts): boolean {
  if (!prev) return true;
  if (prev.edges !== next.edges || prev.inputs !== next.inputs || prev.extras !== next.extras) return true;
  if (prev.nodes === next.nodes) return false;
  if (prev.nodes.length !== next.nodes.length) return true;
  return next.nodes.some((node: AppNode, i) => {
    const old = prev.nodes[i];
    return old?.id !== node.id || old.type !== node.type || old.data !== node.data;
  });
}

const DEBOUNCE_MS = 400;

/**
 * Validate the definition on the server ~400 ms after it last changed, and put each
 * error on its node and field. Moving nodes changes no definition, so it checks nothing.
 */
export function useLiveValidation(): void {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let controller: AbortController | undefined;
    let last = '';
    let checked: Parts | null = null;

    const check = () => {
      const state = useDesigner.getState();
      // A drag changes the nodes on every pointer move; building and comparing the
      // definition each time would cost more than the move itself.
      if (!definitionMayDiffer(checked, state)) return;
      checked = { nodes: state.nodes, edges: state.edges, inputs: state.inputs, extras: state.extras };
      const spec = graphToDefinition(state);
      const key = JSON.stringify(spec);
      if (key === last) return;
      last = key;
      clearTimeout(timer);
      controller?.abort();
      state.setValidation('checking');
      timer = setTimeout(async () => {
        const current = new AbortController();
        controller = current;
        try {
          await api.validate(spec, current.signal);
          useDesigner.getState().setValidation('valid', NO_ISSUES);
        } catch (error) {
          if (current.signal.aborted) return;
          if (error instanceof ApiError && error.status === 422) {
            useDesigner.getState().setValidation('invalid', mapIssues(error.issues, spec));
          } else {
            useDesigner.getState().setValidation('unknown');
          }
        }
      }, DEBOUNCE_MS);
    };

    check();
    const unsubscribe = useDesigner.subscribe(check);
    return () => {
      unsubscribe();
      clearTimeout(timer);
      controller?.abort();
    };
  }, []);
}
