import { describe, expect, it } from 'vitest';
import type { TemplateStep } from './definition';
import { newTemplateStep, removeTemplateStep, renameTemplateStep, toggleTemplateDependency } from './template-steps';

const steps: TemplateStep[] = [
  { id: 'fetch', type: 'task', agent: 'a', description: 'Fetch {item}', expected_output: 'Text' },
  { id: 'kind', type: 'condition', if: 'output("fetch") contains "x"', after: ['fetch'], then: ['fetch'], else: [] },
  { id: 'route', type: 'router', after: ['fetch', 'kind'], routes: [{ name: 'big', if: 'true' }], default: 'small', targets: { big: ['fetch'], small: [] } },
  { id: 'check', type: 'approval', message: 'OK?', after: ['fetch'] },
];

describe('template steps', () => {
  it('a new step takes the first free id and runs after the last step', () => {
    expect(newTemplateStep('task', [])).toEqual({ id: 'task_1', type: 'task', description: '', expected_output: '', after: [] });
    const withTask = [newTemplateStep('task', [])];
    expect(newTemplateStep('task', withTask)).toMatchObject({ id: 'task_2', after: ['task_1'] });
    expect(newTemplateStep('approval', withTask)).toEqual({ id: 'gate_1', type: 'approval', message: '', after: ['task_1'] });
  });

  it('a rename carries every link to the step, and leaves expressions as typed', () => {
    const renamed = renameTemplateStep(steps, 'fetch', 'download');
    expect(renamed?.map((step) => step.id)).toEqual(['download', 'kind', 'route', 'check']);
    expect(renamed?.[1]).toMatchObject({ after: ['download'], then: ['download'], if: 'output("fetch") contains "x"' });
    expect(renamed?.[2]).toMatchObject({ after: ['download', 'kind'], targets: { big: ['download'], small: [] } });
    expect(renamed?.[3]).toMatchObject({ after: ['download'] });
  });

  it('a rename to an empty or taken id is refused', () => {
    expect(renameTemplateStep(steps, 'fetch', '')).toBeNull();
    expect(renameTemplateStep(steps, 'fetch', 'check')).toBeNull();
    expect(renameTemplateStep(steps, 'fetch', 'fetch')).toEqual(steps);
  });

  it('a removed step takes its links with it', () => {
    const left = removeTemplateStep(steps, 'fetch');
    expect(left.map((step) => step.id)).toEqual(['kind', 'route', 'check']);
    expect(left[0]).toMatchObject({ after: [], then: [] });
    expect(left[1]).toMatchObject({ after: ['kind'], targets: { big: [], small: [] } });
    expect(left[2]).toMatchObject({ after: [] });
  });

  it('a dependency is toggled on and off', () => {
    const waiting = toggleTemplateDependency(steps, 'check', 'route');
    expect(waiting[3]?.after).toEqual(['fetch', 'route']);
    expect(toggleTemplateDependency(waiting, 'check', 'fetch')[3]?.after).toEqual(['route']);
    expect(toggleTemplateDependency(steps, 'fetch', 'check')[0]?.after).toEqual(['check']);
  });
});
