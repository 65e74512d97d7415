import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { api, errorMessage } from '../../api/client';
import type { ApiToken, ApiTokenIssued } from '../../api/types';
import { Field } from '../../components/Field';
import { type Column, ListTable } from '../../components/ListTable';
import { Notice } from '../../components/Notice';
import { formatDateTime } from '../../lib/format';

const LIFETIMES: { days: number | null; label: string }[] = [
  { days: 7, label: '7 days' },
  { days: 30, label: '30 days' },
  { days: 90, label: '90 days' },
  { days: 365, label: '1 year' },
  { days: null, label: 'Never' },
];

const isExpired = (token: ApiToken) => token.expires_at !== null && new Date(token.expires_at).getTime() < Date.now();

function tokenState(token: ApiToken): string {
  if (token.revoked_at) return `Revoked ${formatDateTime(token.revoked_at)}`;
  return isExpired(token) ? 'Expired' : 'Active';
}

/** The secret of a token just made: shown this once, with a copy button. */
function NewSecret({ issued, onDone }: { issued: ApiTokenIssued; onDone: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(issued.token);
      setCopied('Copied.');
    } catch {
      setCopied('Could not copy: select the token and copy it yourself.');
    }
  };
  return (
    <section className="panel secret-box" aria-label="New token">
      <p>
        Your token <strong>{issued.name || 'without a name'}</strong>. Copy it now: Kasal stores only a hash and cannot show
        it again. Send it as <span className="mono">Authorization: Bearer …</span>.
      </p>
      <Field label="Token secret">
        {(control) => (
          <input {...control} className="input mono" readOnly value={issued.token} onFocus={(e) => e.target.select()} />
        )}
      </Field>
      <div className="button-row">
        <button type="button" className="btn btn--primary btn--sm" onClick={() => void copy()}>
          Copy token
        </button>
        <button type="button" className="btn btn--ghost btn--sm" onClick={onDone}>
          Done
        </button>
        {copied && (
          <span className="small" role="status">
            {copied}
          </span>
        )}
      </div>
    </section>
  );
}

/** The signed-in user's personal API tokens: make one (its secret shows once), revoke one. */
export function TokensPage() {
  const [tokens, setTokens] = useState<ApiToken[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [days, setDays] = useState('30');
  const [issued, setIssued] = useState<ApiTokenIssued | null>(null);
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setTokens(await api.listTokens());
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  const create = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    try {
      setIssued(await api.createToken(name.trim(), days === 'never' ? null : Number(days)));
      setName('');
      await load();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (token: ApiToken) => {
    if (!window.confirm(`Revoke the token “${token.name || token.id}”? Scripts using it stop working at once.`)) return;
    try {
      await api.revokeToken(token.id);
      await load();
    } catch (e) {
      setError(errorMessage(e));
    }
  };

  const columns: Column<ApiToken>[] = [
    { header: 'Name', cell: (token) => token.name || <span className="muted">(no name)</span> },
    { header: 'Created', cell: (token) => formatDateTime(token.created_at) },
    { header: 'Expires', cell: (token) => (token.expires_at ? formatDateTime(token.expires_at) : 'Never') },
    { header: 'State', cell: tokenState },
    {
      header: 'Actions',
      hideHeader: true,
      className: 'table__actions',
      cell: (token) =>
        !token.revoked_at && (
          <button
            type="button"
            className="btn btn--ghost btn--sm"
            aria-label={`Revoke ${token.name || token.id}`}
            onClick={() => void revoke(token)}
          >
            Revoke
          </button>
        ),
    },
  ];

  return (
    <div className="page">
      <header className="page__header">
        <h1 className="page-title">API tokens</h1>
      </header>
      <p className="muted">Personal tokens act as you, with your roles, for scripts, CI and the kasal CLI.</p>
      {issued && <NewSecret issued={issued} onDone={() => setIssued(null)} />}
      <form className="form form--inline" onSubmit={create} aria-label="Create a token">
        <Field label="Token name">
          {(control) => (
            <input {...control} className="input" maxLength={200} placeholder="ci" value={name} onChange={(e) => setName(e.target.value)} />
          )}
        </Field>
        <Field label="Expires after">
          {(control) => (
            <select {...control} className="input" value={days} onChange={(e) => setDays(e.target.value)}>
              {LIFETIMES.map((lifetime) => (
                <option key={lifetime.label} value={lifetime.days === null ? 'never' : String(lifetime.days)}>
                  {lifetime.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" className="btn btn--primary" disabled={busy} aria-busy={busy}>
          Create token
        </button>
      </form>
      {error && tokens && <Notice>{error}</Notice>}
      <ListTable
        items={tokens}
        error={tokens ? null : error}
        columns={columns}
        rowKey={(token) => token.id}
        empty="No tokens yet."
      />
    </div>
  );
}
