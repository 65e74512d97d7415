// @vitest-environment jsdom
import { act, cleanup, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Step, TokenEvent } from '../../api/types';
import { useLiveOutputStore } from '../../stores/live-output-store';
import { LiveOutput } from './LiveOutput';

const step = (id: string, status: Step['status']) => ({ id, status }) as Step;
const token = (text: string, call_index = 0): TokenEvent => ({
  run_id: 'run-1',
  step_id: 'draft',
  execution: 1,
  attempt: 1,
  call_index,
  text,
});

beforeEach(() => useLiveOutputStore.getState().reset());
afterEach(cleanup);

describe('live output', () => {
  it("shows a running step's reply as its tokens arrive", () => {
    render(<LiveOutput steps={[step('draft', 'running')]} />);
    expect(screen.queryByRole('log', { name: 'Live output' })).toBeNull();
    act(() => useLiveOutputStore.getState().applyToken(token('Final Answer: the')));
    act(() => useLiveOutputStore.getState().applyToken(token(' tides turn')));
    expect(screen.getByRole('log', { name: 'Live output' }).textContent).toContain('Final Answer: the tides turn');
  });

  it("starts over at the step's next call, and shows nothing once the step stopped", () => {
    const { rerender } = render(<LiveOutput steps={[step('draft', 'running')]} />);
    act(() => useLiveOutputStore.getState().applyToken(token('Thought: look it up')));
    act(() => useLiveOutputStore.getState().applyToken(token('Final Answer: done', 1)));
    const log = screen.getByRole('log', { name: 'Live output' });
    expect(log.textContent).toContain('Final Answer: done');
    expect(log.textContent).not.toContain('Thought');
    rerender(<LiveOutput steps={[step('draft', 'completed')]} />);
    expect(screen.queryByRole('log', { name: 'Live output' })).toBeNull();
  });
});
