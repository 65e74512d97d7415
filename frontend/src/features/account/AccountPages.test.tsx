// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiToken, AuditEntry, Member } from '../../api/types';
import { signInAs } from '../../test/fixtures';
import { AuditPage } from './AuditPage';
import { MembersPage } from './MembersPage';
import { TokensPage } from './TokensPage';

interface Sent {
  method: string;
  url: string;
  body: unknown;
}

/** Answer each request with `answer(method, url, body)` as `[status, body]`, and record it. */
function serve(answer: (method: string, url: string, body: unknown) => [number, unknown]) {
  const sent: Sent[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      const body: unknown = init?.body ? JSON.parse(String(init.body)) : undefined;
      sent.push({ method, url, body });
      const [status, payload] = answer(method, url, body);
      return new Response(status === 204 ? null : JSON.stringify(payload), { status });
    }),
  );
  return sent;
}

const token = (id: string, extra: Partial<ApiToken> = {}): ApiToken => ({
  id,
  name: id,
  created_at: '2026-11-01T00:00:00Z',
  expires_at: null,
  revoked_at: null,
  ...extra,
});

const member = (email: string, role: Member['role']): Member => ({ user: { id: `id-${email}`, email, name: '' }, role });

beforeEach(() => {
  vi.spyOn(window, 'confirm').mockReturnValue(true);
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('tokens page', () => {
  it('creates a token, shows its secret once with a copy button, and revokes one', async () => {
    signInAs('viewer');
    let tokens = [token('laptop')];
    const writeText = vi.fn(async () => undefined);
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    const sent = serve((method, url, body) => {
      if (method === 'POST') {
        const made = token('ci', { name: (body as { name: string }).name });
        tokens = [...tokens, made];
        return [201, { ...made, token: 'kasal_secret' }];
      }
      if (method === 'DELETE') {
        tokens = tokens.map((t) => (url.endsWith(t.id) ? { ...t, revoked_at: '2026-11-02T00:00:00Z' } : t));
        return [204, null];
      }
      return [200, tokens];
    });
    render(<TokensPage />);
    expect(await screen.findByText('laptop')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Token name'), { target: { value: 'ci' } });
    fireEvent.change(screen.getByLabelText('Expires after'), { target: { value: '90' } });
    fireEvent.click(screen.getByRole('button', { name: 'Create token' }));
    const secret = await screen.findByRole('region', { name: 'New token' });
    expect((within(secret).getByLabelText('Token secret') as HTMLInputElement).value).toBe('kasal_secret');
    expect(sent.find((r) => r.method === 'POST')?.body).toEqual({ name: 'ci', expires_in_days: 90 });
    fireEvent.click(within(secret).getByRole('button', { name: 'Copy token' }));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith('kasal_secret'));
    fireEvent.click(within(secret).getByRole('button', { name: 'Done' }));
    expect(screen.queryByText('kasal_secret')).toBeNull();

    fireEvent.click(await screen.findByRole('button', { name: 'Revoke laptop' }));
    await waitFor(() => expect(screen.queryByRole('button', { name: 'Revoke laptop' })).toBeNull());
    expect(sent.some((r) => r.method === 'DELETE' && r.url === '/api/v1/me/tokens/laptop')).toBe(true);
    expect(screen.getByText(/^Revoked/)).toBeTruthy();
  });
});

describe('members page', () => {
  it('lets an admin add a member, change a role and remove one', async () => {
    signInAs('admin', 'boss@kasal.test');
    let members = [member('ann@kasal.test', 'viewer')];
    const sent = serve((method, url, body) => {
      if (method === 'POST') {
        const { email, role } = body as { email: string; role: Member['role'] };
        members = [...members.filter((m) => m.user.email !== email), member(email, role)];
        return [200, member(email, role)];
      }
      if (method === 'DELETE') {
        members = members.filter((m) => !url.endsWith(encodeURIComponent(m.user.id)));
        return [204, null];
      }
      return [200, members];
    });
    render(<MembersPage />);
    expect(await screen.findByText('ann@kasal.test')).toBeTruthy();
    fireEvent.change(screen.getByLabelText('Member email'), { target: { value: 'bob@kasal.test' } });
    fireEvent.change(screen.getByLabelText('Member role'), { target: { value: 'operator' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add member' }));
    expect(await screen.findByText('bob@kasal.test')).toBeTruthy();
    expect(sent.at(-2)).toEqual({ method: 'POST', url: '/api/v1/workspaces/default/members', body: { email: 'bob@kasal.test', role: 'operator' } });

    fireEvent.change(screen.getByLabelText('Role of ann@kasal.test'), { target: { value: 'editor' } });
    await waitFor(() => expect((screen.getByLabelText('Role of ann@kasal.test') as HTMLSelectElement).value).toBe('editor'));
    fireEvent.click(screen.getByRole('button', { name: 'Remove bob@kasal.test' }));
    await waitFor(() => expect(screen.queryByText('bob@kasal.test')).toBeNull());
  });

  it('shows others the members, and no controls, with the reason', async () => {
    signInAs('editor');
    serve(() => [200, [member('ann@kasal.test', 'viewer')]]);
    render(<MembersPage />);
    expect(await screen.findByText('ann@kasal.test')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Add member' })).toBeNull();
    expect(screen.queryByLabelText('Role of ann@kasal.test')).toBeNull();
    expect(screen.getByRole('note').textContent).toBe('Only admins can manage members: you are an editor here.');
  });
});

describe('audit page', () => {
  it('pages back with Older until there is nothing older', async () => {
    signInAs('admin');
    const entry = (id: number): AuditEntry => ({
      id,
      at: '2026-11-01T00:00:00Z',
      actor: 'admin@kasal.test',
      action: `action-${id}`,
      target: 'x',
      workspace: 'default',
      source_ip: '127.0.0.1',
      detail: {},
    });
    const sent = serve((_, url) =>
      url.includes('before=') ? [200, { items: [entry(1)], next_before: null }] : [200, { items: [entry(3), entry(2)], next_before: 2 }],
    );
    render(<AuditPage />);
    expect(await screen.findByText('action-3')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Older' }));
    expect(await screen.findByText('action-1')).toBeTruthy();
    expect(screen.getByText('action-2')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Older' })).toBeNull();
    expect(sent.at(-1)?.url).toBe('/api/v1/audit?before=2&limit=50');
  });
});
