// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Generation, ModelConfig } from '../../api/types';
import { useDesigner } from '../../stores/designer-store';
import { useModels } from '../../stores/models-store';
import { definition } from '../../test/fixtures';
import { GenerateWorkflow } from './GenerateWorkflow';

const model = (name: string): ModelConfig => ({
  name,
  model: `openai/${name}`,
  api_base: null,
  has_api_key: true,
  temperature: null,
  max_tokens: null,
  params: {},
  function_calling: 'auto',
  prices: null,
  max_concurrency: null,
  rpm: null,
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
});

/** The API: a generation that runs for `polls` reads, then ends as `outcome`. */
function serve(outcome: Generation, polls = 2) {
  const sent: { method: string; path: string; body: unknown }[] = [];
  let reads = 0;
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      const path = url.replace('/api/v1', '');
      sent.push({ method, path, body: init?.body ? JSON.parse(String(init.body)) : undefined });
      if (method === 'POST' && path === '/workflows/generate') {
        return new Response(JSON.stringify({ generation_id: 'g-1' }), { status: 202 });
      }
      if (method === 'GET' && path === '/workflows/generations/g-1') {
        reads += 1;
        return new Response(JSON.stringify(reads < polls ? { status: 'running' } : outcome), { status: 200 });
      }
      return new Response(JSON.stringify({ detail: 'not here' }), { status: 404 });
    }),
  );
  return sent;
}

const describeIt = (text: string) =>
  fireEvent.change(screen.getByRole('textbox', { name: 'Describe your workflow' }), { target: { value: text } });

beforeEach(() => {
  window.location.hash = '#/';
  useDesigner.getState().reset();
  useModels.setState({ models: [model('local'), model('gpt')], status: 'ready', error: null });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('generate a workflow', () => {
  it('starts a generation, polls it, and opens the draft unsaved in the designer', async () => {
    const sent = serve({ status: 'completed', spec: definition });
    render(<GenerateWorkflow pollMs={1} />);
    const generate = screen.getByRole('button', { name: 'Generate' }) as HTMLButtonElement;
    expect(generate.disabled).toBe(true);
    describeIt('Research a topic, then ask me');
    fireEvent.change(screen.getByLabelText('Model'), { target: { value: 'gpt' } });
    fireEvent.click(generate);
    expect(await screen.findByRole('status')).toBeTruthy();
    await waitFor(() => expect(window.location.hash).toBe('#/workflows/draft'));

    expect(sent[0]).toEqual({
      method: 'POST',
      path: '/workflows/generate',
      body: { prompt: 'Research a topic, then ask me', model: 'gpt' },
    });
    expect(sent.filter((request) => request.path === '/workflows/generations/g-1')).toHaveLength(2);
    const designer = useDesigner.getState();
    expect(designer.workflowId).toBeNull();
    expect(designer.dirty).toBe(true);
    expect(designer.description).toBe('Research a topic, then ask me');
    expect(designer.nodes.map((node) => node.id).sort()).toEqual(
      ['publish', 'research', 'researcher', 'review', 'writer'],
    );
  });

  it('shows the last errors when the model never wrote a definition that compiles', async () => {
    serve({ status: 'failed', errors: [{ loc: ['steps', 0, 'agent'], msg: "unknown agent 'ghost'" }] }, 1);
    render(<GenerateWorkflow pollMs={1} />);
    describeIt('Anything');
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('steps.0.agent');
    expect(alert.textContent).toContain("unknown agent 'ghost'");
    expect(window.location.hash).toBe('#/');
    expect(useDesigner.getState().nodes).toHaveLength(0);
  });
});
