import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { api, errorMessage } from '../../api/client';
import type { ValidationIssue } from '../../api/types';
import { Notice } from '../../components/Notice';
import { navigate } from '../../router';
import { useDesigner } from '../../stores/designer-store';
import { useModels } from '../../stores/models-store';

type Phase =
  | { kind: 'idle' }
  | { kind: 'generating' }
  | { kind: 'failed'; errors: ValidationIssue[] }
  | { kind: 'error'; message: string };

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * "Describe your workflow": a model writes a definition (repaired until it compiles, on a
 * worker), which opens unsaved in the designer. `pollMs` is how often the generation is read.
 */
export function GenerateWorkflow({ pollMs = 1000 }: { pollMs?: number }) {
  const { models, ensureLoaded } = useModels(useShallow((s) => ({ models: s.models, ensureLoaded: s.ensureLoaded })));
  const [prompt, setPrompt] = useState('');
  const [model, setModel] = useState('');
  const [phase, setPhase] = useState<Phase>({ kind: 'idle' });
  // A generation outlives the page only on the server: leaving stops the polling.
  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    void ensureLoaded();
    return () => {
      mounted.current = false;
    };
  }, [ensureLoaded]);

  const chosen = model || models[0]?.name || '';
  const generating = phase.kind === 'generating';

  const generate = async (event: FormEvent) => {
    event.preventDefault();
    setPhase({ kind: 'generating' });
    try {
      const { generation_id } = await api.generateWorkflow({ prompt, model: chosen });
      let generation;
      do {
        await wait(pollMs);
        if (!mounted.current) return;
        generation = await api.getGeneration(generation_id);
      } while (generation.status === 'running');
      if (!mounted.current) return;
      if (generation.status === 'completed' && generation.spec) {
        useDesigner.getState().openDraft(generation.spec, prompt.trim());
        navigate('/workflows/draft');
        return;
      }
      setPhase({ kind: 'failed', errors: generation.errors ?? [] });
    } catch (error) {
      if (mounted.current) setPhase({ kind: 'error', message: errorMessage(error) });
    }
  };

  return (
    <form className="panel panel-section generate" aria-label="Generate a workflow" onSubmit={generate}>
      <label className="field__label" htmlFor="generate-prompt">
        Describe your workflow
      </label>
      <textarea
        id="generate-prompt"
        className="input"
        rows={3}
        placeholder="Research a topic, write a brief about it, and ask me before it is published."
        value={prompt}
        onChange={(e) => setPrompt(e.target.value)}
      />
      <div className="generate__actions">
        <label className="field__label" htmlFor="generate-model">
          Model
        </label>
        <select id="generate-model" className="input" value={chosen} onChange={(e) => setModel(e.target.value)}>
          {models.map((config) => (
            <option key={config.name} value={config.name}>
              {config.name}
            </option>
          ))}
        </select>
        <button type="submit" className="btn btn--primary" disabled={generating || !prompt.trim() || !chosen}>
          Generate
        </button>
      </div>
      {generating && (
        <p className="muted small" role="status">
          Writing a definition, and repairing it until it compiles…
        </p>
      )}
      {phase.kind === 'failed' && (
        <Notice>
          Generation failed:
          <ul>
            {phase.errors.map((issue, index) => (
              <li key={index}>
                <span className="mono">{issue.loc.join('.') || 'definition'}</span>: {issue.msg}
              </li>
            ))}
          </ul>
        </Notice>
      )}
      {phase.kind === 'error' && <Notice>Could not generate: {phase.message}</Notice>}
    </form>
  );
}
