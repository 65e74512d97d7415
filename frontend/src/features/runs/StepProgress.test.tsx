// @vitest-environment jsdom
import { cleanup, render, screen, within } from '@testing-library/react';
import { ReactFlowProvider } from '@xyflow/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Step } from '../../api/types';
import { StatusBadge } from '../../components/StatusBadge';
import { definitionToGraph } from '../../lib/graph';
import { everyType } from '../../test/fixtures';
import { RunGraph } from './RunGraph';
import { groupItems } from '../../lib/run-view';
import { StepList } from './StepList';
import { ChildAttention, StepProgress } from './StepProgress';

// Cast: a step fixture names the fields these tests read.
const step = (id: string, extra: Partial<Step> = {}): Step =>
  ({
    id,
    type: 'task',
    status: 'completed',
    branch: null,
    child_run_ids: [],
    child_status: null,
    items_total: null,
    items_done: 0,
    iteration: 0,
    ...extra,
  }) as Step;

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('run console: branches, maps, loops and child runs', () => {
  it('shows the branch a condition or router chose on its node, and not_taken apart from skipped', () => {
    const steps = [
      step('classify'),
      step('urgent', { type: 'condition', branch: 'else' }),
      step('page', { type: 'approval', status: 'not_taken' }),
      step('route', { type: 'router', branch: 'refund' }),
      step('refunds', { type: 'map', status: 'running', items_total: 10, items_done: 7 }),
      step('fix_loop', { type: 'loop', status: 'skipped', iteration: 2 }),
      step('notify', { type: 'workflow', status: 'waiting', child_run_ids: ['c1', 'c2'], child_status: 'waiting_for_approval' }),
    ];
    // jsdom measures nothing; React Flow only needs the observer to exist.
    vi.stubGlobal(
      'ResizeObserver',
      class {
        observe() {}
        unobserve() {}
        disconnect() {}
      },
    );
    render(
      <ReactFlowProvider>
        <RunGraph graph={definitionToGraph(everyType)} steps={steps} selectedId={null} onSelect={() => undefined} />
      </ReactFlowProvider>,
    );
    const node = (id: string) => screen.getByTestId(`rf__node-${id}`);
    expect(within(node('urgent')).getByText('Branch: else')).toBeTruthy();
    expect(within(node('route')).getByText('Branch: refund')).toBeTruthy();
    expect(within(node('page')).getByText('Not taken').className).toContain('tone-not_taken');
    expect(within(node('fix_loop')).getByText('Skipped').className).toContain('tone-skipped');
    expect(within(node('fix_loop')).getByText('Iteration 2')).toBeTruthy();
    expect(within(node('refunds')).getByText('7 / 10 items')).toBeTruthy();
    expect(within(node('notify')).getByText('Waiting for approval in child run')).toBeTruthy();
  });

  it('gives not_taken its own label and colour', () => {
    render(
      <>
        <StatusBadge step="not_taken" />
        <StatusBadge step="skipped" />
      </>,
    );
    expect(screen.getByText('Not taken').className).toBe('badge tone-not_taken');
    expect(screen.getByText('Skipped').className).toBe('badge tone-skipped');
  });

  it("lists a step's child runs newest first, linked to their consoles, and the map's items with a count", () => {
    render(<StepProgress step={step('refunds', { type: 'map', items_total: 10, items_done: 7, child_run_ids: ['old', 'mid', 'new'] })} />);
    expect(screen.getByText('Child runs (3)')).toBeTruthy();
    const links = within(screen.getByRole('list', { name: 'Child runs, newest first' })).getAllByRole('link');
    expect(links.map((a) => [a.textContent, a.getAttribute('href')])).toEqual([
      ['new', '#/runs/new'],
      ['mid', '#/runs/mid'],
      ['old', '#/runs/old'],
    ]);
    expect(screen.getByRole('progressbar', { name: 'Items done' })).toHaveProperty('value', 7);
    expect(screen.getByText(/7 \/ 10 done/)).toBeTruthy();
  });

  it("brings a child run's waiting gate to the top of the parent's console", () => {
    render(
      <ChildAttention
        steps={[
          step('notify', { type: 'workflow', status: 'running', child_run_ids: ['c1', 'c2'], child_status: 'needs_attention' }),
          step('other', { type: 'workflow', status: 'running', child_run_ids: ['c3'] }),
        ]}
      />,
    );
    const items = within(screen.getByRole('list', { name: 'Child runs that need someone' })).getAllByRole('listitem');
    expect(items.map((li) => li.textContent)).toEqual(['notify: Needs attention in child run Open the child run']);
    expect(screen.getByRole('link', { name: 'Open the child run' }).getAttribute('href')).toBe('#/runs/c2');
  });

  it("groups a map child run's items under their template step, with a count", () => {
    const steps = [step('fetch-0'), step('fetch-1', { status: 'running' }), step('sum-0'), step('sum-1', { status: 'pending' })];
    render(<StepList steps={steps} groups={groupItems(steps, ['fetch', 'sum'])} onSelect={() => undefined} />);
    const fetch = screen.getByRole('list', { name: 'Items of fetch' });
    expect(within(fetch).getAllByRole('button').map((b) => b.textContent)).toEqual(['fetch-0', 'fetch-1']);
    const summaries = screen.getAllByText(/of 2 items done/, { selector: 'summary' }).map((el) => el.textContent);
    expect(summaries).toEqual(['fetch · 1 of 2 items done Running', 'sum · 1 of 2 items done Pending']);
  });
});
