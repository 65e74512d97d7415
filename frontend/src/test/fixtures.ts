import type { Role } from '../api/types';
import type { Definition, Layout } from '../lib/definition';
import { useSession } from '../stores/session-store';

/** The contract's example definition, with a second agent and a task after the gate. */
export const definition: Definition = {
  inputs: [{ name: 'topic', description: 'What to research', required: true, default: null }],
  agents: [
    { id: 'researcher', role: 'Researcher', goal: 'Find facts about {topic}', backstory: 'Curious.', llm: 'local', tools: [], max_iter: 5 },
    { id: 'writer', role: 'Writer', goal: 'Write clearly', backstory: 'Precise.', llm: 'local' },
  ],
  steps: [
    {
      id: 'research',
      type: 'task',
      agent: 'researcher',
      description: 'Research {topic}',
      expected_output: 'Notes',
      after: [],
      retry: { max_attempts: 3, initial_interval_seconds: 1, backoff: 2.0 },
      timeout_seconds: 600,
      on_failure: 'pause',
    },
    {
      id: 'review',
      type: 'approval',
      after: ['research'],
      message: 'Publish?',
      timeout_seconds: 86400,
      on_timeout: 'reject',
      on_reject: 'end',
      max_rejections: 3,
    },
    { id: 'publish', type: 'task', agent: 'writer', description: 'Write it up', expected_output: 'An article', after: ['research', 'review'] },
  ],
  max_parallel: 16,
  notify: { webhook_url: null },
};

export const layout: Layout = {
  nodes: {
    researcher: { x: 0, y: 0 },
    writer: { x: 640, y: 0 },
    research: { x: 0, y: 200 },
    review: { x: 320, y: 200 },
    publish: { x: 640, y: 200 },
  },
};

/** Sign in, as far as the app's session store knows, as `email` with `role` in the `default` workspace. */
export function signInAs(role: Role, email = `${role}@kasal.test`): void {
  const workspace = { id: 'default', name: 'default', role, personal: false };
  useSession.setState({
    me: { user: { id: `user-${role}`, email, name: '' }, auth: 'session', workspace, workspaces: [workspace] },
    status: 'signed-in',
    error: null,
  });
}

/**
 * A definition with every step type: a condition and a router choosing branches (one
 * step in two branches, one branch target also after a plain step), a map and a loop
 * with template steps, and a sub-workflow with a template and an expression input.
 */
export const everyType: Definition = {
  inputs: [{ name: 'ticket', required: true }],
  agents: [{ id: 'agent', role: 'Triage', goal: 'Sort tickets', backstory: 'Calm.', llm: 'local' }],
  steps: [
    {
      id: 'classify',
      type: 'task',
      agent: 'agent',
      description: 'Classify {ticket}',
      expected_output: 'JSON',
      after: [],
      join: 'all',
      output_schema: { type: 'object', properties: { label: { type: 'string' } }, required: ['label'] },
    },
    { id: 'urgent', type: 'condition', after: ['classify'], if: 'output("classify").urgent == true', then: ['page'], else: ['route'] },
    { id: 'page', type: 'approval', after: ['urgent'], message: 'Page someone?', join: 'any' },
    {
      id: 'route',
      type: 'router',
      after: ['urgent'],
      routes: [
        { name: 'refund', if: 'output("classify").label == "refund"' },
        { name: 'bug', if: 'output("classify").label matches "bug|crash"' },
      ],
      default: 'general',
      targets: { refund: ['refunds', 'notify'], bug: ['fix_loop'], general: ['notify'] },
    },
    {
      id: 'refunds',
      type: 'map',
      after: ['route'],
      items: 'output("classify").orders',
      max_parallel: 4,
      steps: [{ id: 'refund_one', type: 'task', agent: 'agent', description: 'Refund {item}', expected_output: 'Done' }],
    },
    {
      id: 'fix_loop',
      type: 'loop',
      after: ['route'],
      until: 'output("check") contains "fixed"',
      max_iterations: 5,
      steps: [
        { id: 'check', type: 'task', agent: 'agent', description: 'Check the fix', expected_output: 'fixed or not' },
        { id: 'ok', type: 'approval', message: 'Fixed?', after: ['check'] },
      ],
      join: 'all',
    },
    {
      id: 'notify',
      type: 'workflow',
      after: ['classify', 'route'],
      join: 'any',
      workflow: 'send-notice',
      version: 3,
      inputs: { ticket: '{ticket}', label: { expr: 'output("classify").label' } },
    },
  ],
  max_parallel: 16,
};
