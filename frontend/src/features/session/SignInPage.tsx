import { useEffect, useState, type FormEvent } from 'react';
import { ApiError, auth, errorMessage } from '../../api/client';
import type { AuthMode } from '../../api/types';
import { Field } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { navigate } from '../../router';
import { useSession } from '../../stores/session-store';

/** What a failed sign-in answer means, in a sentence. */
function signInError(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) return 'Wrong email or password.';
  if (error instanceof ApiError && error.status === 429) {
    return 'Too many failed sign-ins from here: wait a few minutes, then try again.';
  }
  return `Could not sign in: ${errorMessage(error)}`;
}

/**
 * Email and password (`KASAL_AUTH=local`), or a word on how this instance signs people in.
 * After signing in, back to `next`, where the user was when the API answered 401.
 */
export function SignInPage({ next, linkExpired }: { next: string; linkExpired: boolean }) {
  const [mode, setMode] = useState<AuthMode | null>(null);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    auth
      .config()
      .then((config) => setMode(config.mode))
      .catch(() => setMode('local'));
  }, []);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await auth.login(email.trim(), password);
      await useSession.getState().load();
      navigate(next);
    } catch (e) {
      setError(signInError(e));
      setBusy(false);
    }
  };

  return (
    <div className="sign-in">
      <div className="panel sign-in__panel">
        <h1 className="page-title">Sign in to Kasal</h1>
        {linkExpired && (
          <Notice tone="info">
            That sign-in link has expired or was used already. Sign in with your password, or ask for a new link
            (<span className="mono">make dev</span> prints one).
          </Notice>
        )}
        {mode === 'local' && (
          <form className="form" onSubmit={submit} aria-label="Sign in">
            <Field label="Email" required>
              {(control) => (
                <input
                  {...control}
                  className="input"
                  type="email"
                  autoComplete="username"
                  required
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                />
              )}
            </Field>
            <Field label="Password" required>
              {(control) => (
                <input
                  {...control}
                  className="input"
                  type="password"
                  autoComplete="current-password"
                  required
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                />
              )}
            </Field>
            {error && <Notice>{error}</Notice>}
            <button type="submit" className="btn btn--primary" disabled={busy} aria-busy={busy}>
              Sign in
            </button>
          </form>
        )}
        {mode === 'oidc' && (
          <div className="form">
            <p>This Kasal signs people in through its identity provider.</p>
            <a className="btn btn--primary" href={`/auth/oidc/login?${new URLSearchParams({ next: `/#${next}` }).toString()}`}>
              Sign in with SSO
            </a>
          </div>
        )}
        {mode === 'proxy' && (
          <p>
            This Kasal is signed into through the proxy in front of it. Sign in there, then{' '}
            <a href={`#${next}`} onClick={() => window.location.reload()}>
              reload
            </a>
            .
          </p>
        )}
        {mode === null && <p className="muted">Loading…</p>}
      </div>
    </div>
  );
}
