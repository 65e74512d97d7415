/**
 * What a role in the current workspace may do, and why not: the one place the UI decides
 * which buttons to offer. The API decides for real (each operation's `x-kasal-role` in
 * the OpenAPI document); this mirrors it so that nobody is offered a button that answers 403.
 */
import { enums, type components } from '../api/schema';

export type Role = components['schemas']['Role'];

/** Every role, lowest first: each may do everything the ones before it may. */
export const ROLES: readonly Role[] = enums.Role;

/** What the UI offers, by the lowest role the API accepts for it. */
export const MINIMUM_ROLE = {
  /** Start a run, retry or skip a step, cancel or fork a run. */
  operate: 'operator',
  /** Create, save or delete a workflow definition. */
  edit: 'editor',
  /** Model configs, HTTP tools and MCP servers. */
  configure: 'admin',
  /** The workspace's members. */
  manageMembers: 'admin',
  /** The audit log. */
  readAudit: 'admin',
  /** The workspace's monthly budget. */
  setBudget: 'admin',
} as const satisfies Record<string, Role>;

export type Action = keyof typeof MINIMUM_ROLE;

const WHAT: Record<Action, string> = {
  operate: 'run workflows, retry, skip or cancel steps',
  edit: 'create, save or delete workflows',
  configure: 'add, change or test models, tools and MCP servers',
  manageMembers: 'manage members',
  readAudit: 'read the audit log',
  setBudget: "set the workspace's monthly budget",
};

const PLURAL: Record<Role, string> = { viewer: 'Viewers', operator: 'Operators', editor: 'Editors', admin: 'Admins' };

export const isRole = (name: string): name is Role => (ROLES as readonly string[]).includes(name);

/** Whether `role` is `minimum` or above it. */
export function atLeast(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}

/** Whether `role` may do `action`. */
export function can(role: Role | null, action: Action): boolean {
  return role !== null && atLeast(role, MINIMUM_ROLE[action]);
}

/**
 * Why `role` may not do `action`, in a sentence; null when it may.
 * e.g. "Only operators and above can run workflows, retry, skip or cancel steps: you are a viewer here."
 */
export function reason(role: Role | null, action: Action): string | null {
  if (can(role, action)) return null;
  const minimum = MINIMUM_ROLE[action];
  const who = minimum === 'admin' ? 'Only admins' : `Only ${PLURAL[minimum].toLowerCase()} and above`;
  const you = role ? `you are ${role === 'viewer' ? 'a' : 'an'} ${role} here` : 'you are not signed in';
  return `${who} can ${WHAT[action]}: ${you}.`;
}

/**
 * Whether the user (`email`, with `role` in the run's workspace) may decide a gate with
 * these `approvers`: an approver is an email, or a role name that admits that role and the
 * ones above it; a gate without approvers admits operators and above. As workflows/roles.py.
 */
export function mayDecide(approvers: readonly string[], email: string, role: Role | null): boolean {
  if (role === null) return false;
  if (!approvers.length) return atLeast(role, 'operator');
  const me = email.trim().toLowerCase();
  return approvers.some((approver) =>
    isRole(approver) ? atLeast(role, approver) : approver.trim().toLowerCase() === me,
  );
}

/** Who may decide a gate, for the people who may not: "alice@x.test or editors and above". */
export function approversText(approvers: readonly string[]): string {
  if (!approvers.length) return 'operators and above';
  return approvers
    .map((approver) => (isRole(approver) ? (approver === 'admin' ? 'admins' : `${approver}s and above`) : approver))
    .join(' or ');
}
