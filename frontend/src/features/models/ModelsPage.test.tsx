// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ModelConfig } from '../../api/types';
import { useModels } from '../../stores/models-store';
import { signInAs } from '../../test/fixtures';
import { ModelsPage } from './ModelsPage';

const config = (extra: Partial<ModelConfig> = {}): ModelConfig => ({
  name: 'gpt',
  model: 'openai/gpt-4o-mini',
  api_base: null,
  has_api_key: true,
  temperature: null,
  max_tokens: null,
  params: {},
  function_calling: 'auto',
  prices: null,
  max_concurrency: null,
  rpm: null,
  created_at: '2026-11-30T00:00:00Z',
  updated_at: '2026-11-30T00:00:00Z',
  ...extra,
});

let sent: { method: string; path: string; body: unknown }[];

beforeEach(() => {
  signInAs('admin');
  useModels.setState({ models: [], status: 'idle', error: null });
  sent = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (path: string, init?: RequestInit) => {
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      sent.push({ method: init?.method ?? 'GET', path, body });
      if (init?.method === 'PUT') return new Response(JSON.stringify(config(body)), { status: 200 });
      return new Response(JSON.stringify([config()]), { status: 200 });
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('models page', () => {
  it("sets a model's three prices, in USD per million tokens", async () => {
    render(<ModelsPage />);
    expect((await screen.findByRole('row', { name: /^gpt/ })).textContent).toContain('From litellm’s price map');
    fireEvent.click(screen.getByRole('button', { name: 'Edit gpt' }));
    fireEvent.change(screen.getByLabelText(/^Input price/), { target: { value: '3' } });
    fireEvent.change(screen.getByLabelText(/^Output price/), { target: { value: '15' } });
    fireEvent.change(screen.getByLabelText(/^Cached input price/), { target: { value: '0.3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(sent.some((s) => s.method === 'PUT')).toBe(true));
    const put = sent.find((s) => s.method === 'PUT')!;
    expect(put.path).toBe('/api/v1/models/gpt');
    // No key typed: the stored key is kept (api_key is not sent).
    expect(put.body).toEqual({
      model: 'openai/gpt-4o-mini',
      api_base: null,
      prices: { input_per_mtok: 3, output_per_mtok: 15, cached_per_mtok: 0.3 },
    });
    expect((await screen.findByRole('row', { name: /^gpt/ })).textContent).toContain('$3 in · $15 out · $0.3 cached per 1M tokens');
  });

  it('asks for both input and output prices once one is set, and clears prices left all blank', async () => {
    render(<ModelsPage />);
    fireEvent.click(await screen.findByRole('button', { name: 'Edit gpt' }));
    fireEvent.change(screen.getByLabelText(/^Input price/), { target: { value: '3' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(screen.getByLabelText(/^Output price/).getAttribute('aria-invalid')).toBe('true');
    expect(sent.some((s) => s.method === 'PUT')).toBe(false);

    fireEvent.change(screen.getByLabelText(/^Input price/), { target: { value: '' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(sent.find((s) => s.method === 'PUT')?.body).toMatchObject({ prices: null }));
  });
});
