// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useSession } from '../../stores/session-store';
import { SignInPage } from './SignInPage';

/** The API's sign-in routes: `login` answers with `status`; /me knows the user once signed in. */
function serve(status: number) {
  const fetchMock = vi.fn(async (url: string) => {
    if (url === '/auth/config') return new Response(JSON.stringify({ mode: 'local' }));
    if (url === '/auth/login') {
      return status === 204 ? new Response(null, { status }) : new Response(JSON.stringify({ detail: 'no' }), { status });
    }
    const workspace = { id: 'default', name: 'default', role: 'viewer', personal: false };
    return new Response(JSON.stringify({ user: { id: 'u', email: 'ann@kasal.test', name: '' }, auth: 'session', workspace, workspaces: [workspace] }));
  });
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

async function signIn() {
  fireEvent.change(await screen.findByLabelText(/Email/), { target: { value: 'ann@kasal.test' } });
  fireEvent.change(screen.getByLabelText(/Password/), { target: { value: 'secret words' } });
  fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.location.hash = '';
});

describe('sign-in page', () => {
  it('signs in and goes back to where the user was', async () => {
    const fetchMock = serve(204);
    render(<SignInPage next="/runs/run-1" linkExpired={false} />);
    await signIn();
    await waitFor(() => expect(window.location.hash).toBe('#/runs/run-1'));
    expect(useSession.getState().me?.user.email).toBe('ann@kasal.test');
    const [, init] = fetchMock.mock.calls.find(([url]) => url === '/auth/login') as unknown as [string, RequestInit];
    expect(JSON.parse(String(init.body))).toEqual({ email: 'ann@kasal.test', password: 'secret words' });
  });

  it('says what a 401 and a 429 mean', async () => {
    serve(401);
    const { unmount } = render(<SignInPage next="/" linkExpired={false} />);
    await signIn();
    expect((await screen.findByRole('alert')).textContent).toBe('Wrong email or password.');
    unmount();
    serve(429);
    render(<SignInPage next="/" linkExpired={false} />);
    await signIn();
    expect((await screen.findByRole('alert')).textContent).toMatch(/^Too many failed sign-ins/);
  });

  it('says when a sign-in link has expired', async () => {
    serve(204);
    render(<SignInPage next="/" linkExpired />);
    expect(screen.getByRole('status').textContent).toMatch(/link has expired or was used already/);
    expect(await screen.findByLabelText(/Password/)).toBeTruthy();
  });
});
