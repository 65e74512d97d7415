import { describe, expect, it } from 'vitest';
import { approversText, atLeast, can, mayDecide, reason, ROLES } from './permissions';

describe('roles', () => {
  it('are ordered viewer < operator < editor < admin, as the API says', () => {
    expect(ROLES).toEqual(['viewer', 'operator', 'editor', 'admin']);
    expect(atLeast('editor', 'operator')).toBe(true);
    expect(atLeast('operator', 'editor')).toBe(false);
    expect(atLeast('viewer', 'viewer')).toBe(true);
  });

  it('let each role do what the roles below it do', () => {
    expect(can('viewer', 'operate')).toBe(false);
    expect(can('operator', 'operate')).toBe(true);
    expect(can('operator', 'edit')).toBe(false);
    expect(can('editor', 'edit')).toBe(true);
    expect(can('editor', 'configure')).toBe(false);
    expect(can('admin', 'configure')).toBe(true);
    expect(can('admin', 'readAudit')).toBe(true);
    expect(can(null, 'operate')).toBe(false);
  });

  it('say why not, and nothing when allowed', () => {
    expect(reason('viewer', 'operate')).toBe(
      'Only operators and above can run workflows, retry, skip or cancel steps: you are a viewer here.',
    );
    expect(reason('editor', 'configure')).toBe(
      'Only admins can add, change or test models, tools and MCP servers: you are an editor here.',
    );
    expect(reason('admin', 'configure')).toBeNull();
  });
});

describe('gate approvers', () => {
  it('without approvers, admit operators and above', () => {
    expect(mayDecide([], 'v@x.test', 'viewer')).toBe(false);
    expect(mayDecide([], 'o@x.test', 'operator')).toBe(true);
    expect(mayDecide([], 'a@x.test', 'admin')).toBe(true);
  });

  it('admit a named email whatever the role, ignoring case and spaces', () => {
    expect(mayDecide([' Ann@X.test '], 'ann@x.test', 'viewer')).toBe(true);
    expect(mayDecide(['ann@x.test'], 'bob@x.test', 'admin')).toBe(false);
  });

  it('admit a named role and the roles above it', () => {
    expect(mayDecide(['editor'], 'e@x.test', 'editor')).toBe(true);
    expect(mayDecide(['editor'], 'a@x.test', 'admin')).toBe(true);
    expect(mayDecide(['editor'], 'o@x.test', 'operator')).toBe(false);
    expect(mayDecide(['ann@x.test', 'admin'], 'o@x.test', 'operator')).toBe(false);
    expect(mayDecide(['editor'], 'e@x.test', null)).toBe(false);
  });

  it('are named in a sentence', () => {
    expect(approversText([])).toBe('operators and above');
    expect(approversText(['ann@x.test', 'editor', 'admin'])).toBe('ann@x.test or editors and above or admins');
  });
});
