import { Position } from '@xyflow/react';
import { STEP_STATUS_LABEL } from '../lib/status';
import { useCanvasInfo } from './canvas-context';
import { NODE_CONFIG } from './config';
import { runFacts } from './run-facts';
import { StepHandle } from './step-handle';
import type { NodeKind, TargetHandle } from './types';

interface NodeShellProps {
  id: string;
  kind: NodeKind;
  selected: boolean;
  /** One line about the node: an agent's role, a task's description, a gate's message. */
  summary: string;
  /** The target handles the node offers; every step also has a source handle. */
  targets: TargetHandle[];
  /** Named source handles along the bottom, one per branch (`then`, `else`, a route); the plain one moves right. */
  branches?: string[];
}

const TARGET_POSITION: Record<TargetHandle, Position> = { agent: Position.Left, in: Position.Top };

/** The frame every node type shares: header, id, summary, handles and a status or error badge. */
export function NodeShell({ id, kind, selected, summary, targets, branches = [] }: NodeShellProps) {
  const { issues, statuses, steps, selectedId, onDelete } = useCanvasInfo();
  const config = NODE_CONFIG[kind];
  const status = statuses?.[id];
  const step = steps?.[id];
  const facts = step ? runFacts(step) : [];
  const problems = issues?.[id] ?? 0;
  const classes = [
    'node',
    `node--${kind}`,
    status ? `tone-${status} node--status` : '',
    problems ? 'node--invalid' : '',
    selected || selectedId === id ? 'node--selected' : '',
  ];
  return (
    <div className={classes.filter(Boolean).join(' ')}>
      {targets.map((handle) => (
        <StepHandle
          key={handle}
          id={handle}
          type="target"
          position={TARGET_POSITION[handle]}
          aria-label={handle === 'agent' ? `Assign an agent to ${id}` : `Run ${id} after another step`}
        />
      ))}
      <div className="node__header">
        <span className="node__icon" aria-hidden="true">
          {config.icon}
        </span>
        <span className="node__kind">{config.title}</span>
        {status && <span className={`badge tone-${status}`}>{STEP_STATUS_LABEL[status]}</span>}
        {problems > 0 && (
          <span className="badge tone-failed">
            {problems} {problems === 1 ? 'issue' : 'issues'}
          </span>
        )}
        {onDelete && (
          <button
            type="button"
            className="node__delete nodrag nopan"
            aria-label={`Delete ${id}`}
            title="Delete"
            onClick={() => onDelete(id)}
          >
            ×
          </button>
        )}
      </div>
      <div className="node__id">{id}</div>
      {summary && <div className="node__summary">{summary}</div>}
      {facts.map((fact) => (
        <div key={fact} className="node__fact">
          {fact}
        </div>
      ))}
      {branches.length > 0 && (
        <div className="node__branches" aria-hidden="true">
          {branches.map((branch) => (
            <span key={branch} className={step?.branch === branch ? 'node__branch node__branch--taken' : 'node__branch'}>
              {branch}
            </span>
          ))}
        </div>
      )}
      {branches.map((branch, index) => (
        <StepHandle
          key={branch}
          id={branch}
          type="source"
          position={Position.Bottom}
          // Level with its label: the labels share the width equally.
          style={{ left: `${((2 * index + 1) / (2 * branches.length)) * 100}%` }}
          aria-label={`Run a step when ${id} takes ${branch}`}
        />
      ))}
      <StepHandle
        id="out"
        type="source"
        position={kind === 'agent' || branches.length > 0 ? Position.Right : Position.Bottom}
        aria-label={kind === 'agent' ? `Assign ${id} to a task` : `Run another step after ${id}`}
      />
    </div>
  );
}
