import { describe, expect, it } from 'vitest';
import { definition, everyType } from '../test/fixtures';
import { issueCount, mapIssues, runInputIssues } from './validation';

describe('mapIssues', () => {
  it('puts agent errors on the agent node and field', () => {
    const map = mapIssues([{ loc: ['agents', 1, 'llm'], msg: "unknown model 'x'" }], definition);
    expect(map.nodes).toEqual({ writer: { llm: ["unknown model 'x'"] } });
  });

  it('puts step errors on the step node and field', () => {
    const map = mapIssues(
      [
        { loc: ['steps', 2, 'agent'], msg: "unknown agent 'ghost'" },
        { loc: ['steps', 2, 'after', 1], msg: 'cycle: a → b → a' },
        { loc: ['steps', 0, 'retry', 'backoff'], msg: 'Input should be less than or equal to 10' },
        { loc: ['steps', 1, 'message'], msg: 'String should have at least 1 character' },
      ],
      definition,
    );
    expect(map.nodes).toEqual({
      publish: { agent: ["unknown agent 'ghost'"], after: ['cycle: a → b → a'] },
      research: { 'retry.backoff': ['Input should be less than or equal to 10'] },
      review: { message: ['Required'] },
    });
    expect(issueCount(map.nodes.publish)).toBe(2);
  });

  it('puts a tool error under the tools field, wherever it is in the list', () => {
    const map = mapIssues([{ loc: ['agents', 0, 'tools', 3], msg: 'unknown tool' }], definition);
    expect(map.nodes.researcher).toEqual({ tools: ['unknown tool'] });
  });

  it('puts input errors on the input and field, and list errors on the list', () => {
    const map = mapIssues(
      [
        { loc: ['inputs', 0, 'name'], msg: "String should match pattern '^[A-Za-z_][A-Za-z0-9_]{0,63}$'" },
        { loc: ['inputs', 0, 'name'], msg: "duplicate input 'topic'" },
        { loc: ['inputs'], msg: 'Input should be a valid list' },
      ],
      definition,
    );
    expect(map.inputs[0]?.name).toEqual([
      'Start with a letter or "_", then use letters, digits or "_"',
      "duplicate input 'topic'",
    ]);
    expect(map.inputs[-1]).toEqual({ '': ['Input should be a valid list'] });
    expect(map.nodes).toEqual({});
  });

  it('keeps errors of the whole definition, or of no node, for the canvas', () => {
    const map = mapIssues(
      [
        { loc: ['steps'], msg: 'List should have at least 1 item after validation, not 0' },
        { loc: ['max_parallel'], msg: 'Input should be greater than or equal to 1' },
        { loc: ['steps', 9, 'id'], msg: 'Field required' },
      ],
      definition,
    );
    expect(map.root).toEqual([
      'Add at least one task or approval gate',
      'Input should be greater than or equal to 1',
      'steps.9.id: Required',
    ]);
  });
});

describe('runInputIssues', () => {
  it('keys run errors by input name', () => {
    expect(
      runInputIssues([
        { loc: ['inputs', 'topic'], msg: 'Field required' },
        { loc: ['version'], msg: 'no such version' },
      ]),
    ).toEqual({ topic: ['Required'], '': ['version: no such version'] });
  });
});

describe('mapIssues for the new step types', () => {
  it('puts route, target, template-step and sub-workflow input errors on their fields', () => {
    const map = mapIssues(
      [
        { loc: ['steps', 3, 'routes', 1, 'if'], msg: "unknown step 'clasify'" },
        { loc: ['steps', 3, 'targets', 'general', 0], msg: 'unknown step' },
        { loc: ['steps', 4, 'steps', 0, 'description'], msg: 'Field required' },
        { loc: ['steps', 6, 'inputs', 'label', 'expr'], msg: 'parse error at 3' },
        { loc: ['steps', 1, 'if'], msg: 'parse error at 1' },
        { loc: ['steps', 0, 'output_schema'], msg: 'not a JSON Schema' },
      ],
      everyType,
    );
    expect(map.nodes).toEqual({
      route: { 'routes.1.if': ["unknown step 'clasify'"], 'targets.general': ['unknown step'] },
      refunds: { steps: ['refund_one.description: Required'] },
      notify: { inputs: ['label.expr: parse error at 3'] },
      urgent: { if: ['parse error at 1'] },
      classify: { output_schema: ['not a JSON Schema'] },
    });
  });
});
