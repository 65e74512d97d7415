// @vitest-environment jsdom
import { cleanup, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import type { Step } from '../../api/types';
import { runFacts } from '../../nodes/run-facts';
import { RunTotal } from './RunTotal';

const usage = { prompt_tokens: 12_000, completion_tokens: 431, cached_tokens: 0, total_tokens: 12_431, llm_calls: 3, cost_micros: 41_500 };

afterEach(cleanup);

describe("a run's tokens and cost", () => {
  it('are a compact line on a step node that made LLM calls, and absent on one that made none', () => {
    const step = (extra: Partial<Step>) => ({ branch: null, items_total: null, iteration: 0, child_status: null, ...extra }) as Step;
    expect(runFacts(step({ usage }))).toEqual(['12.4K tokens · $0.0415']);
    expect(runFacts(step({ usage: { ...usage, total_tokens: 0, llm_calls: 0, cost_micros: 0 } }))).toEqual([]);
  });

  it("are the run's total in its header", () => {
    render(<RunTotal usage={usage} />);
    expect(screen.getByLabelText('Run total').textContent).toBe('12.4K tokens · $0.0415 · 3 LLM calls');
  });
});
