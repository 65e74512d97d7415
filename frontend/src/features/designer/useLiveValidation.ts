import { useEffect } from 'react';
import { api, ApiError } from '../../api/client';
import { graphToDefinition } from '../../lib/graph';
import { mapIssues, NO_ISSUES } from '../../lib/validation';
import { useDesigner } from '../../stores/designer-store';

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

    const check = () => {
      const state = useDesigner.getState();
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
