import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { ModelConfig } from '../../api/types';
import { Dialog } from '../../components/Dialog';
import { Field, FieldErrors } from '../../components/Field';
import { Notice } from '../../components/Notice';
import { fieldErrors } from '../tools/forms';
import { parsePrices, priceText, type PriceText } from './prices';

interface Props {
  /** The config to edit, or null for a new one. */
  config: ModelConfig | null;
  onClose: () => void;
  onSaved: (config: ModelConfig) => void;
}

const PRICE_FIELDS: { key: keyof PriceText; field: string; label: string; hint: string }[] = [
  { key: 'input', field: 'input_per_mtok', label: 'Input price', hint: 'USD per million prompt tokens' },
  { key: 'output', field: 'output_per_mtok', label: 'Output price', hint: 'USD per million completion tokens' },
  {
    key: 'cached',
    field: 'cached_per_mtok',
    label: 'Cached input price',
    hint: 'USD per million prompt tokens served from the provider’s cache; blank: the input price',
  },
];

/** Add a model config, or change one: its litellm model, its server, its key and its prices. */
export function ModelConfigDialog({ config, onClose, onSaved }: Props) {
  const editing = config !== null;
  const [name, setName] = useState(config?.name ?? '');
  const [model, setModel] = useState(config?.model ?? '');
  const [apiBase, setApiBase] = useState(config?.api_base ?? '');
  const [apiKey, setApiKey] = useState('');
  const [prices, setPrices] = useState<PriceText>(priceText(config?.prices ?? null));
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = parsePrices(prices);
    setErrors(parsed.problems);
    if (Object.keys(parsed.problems).length) return;
    const body = { model, api_base: apiBase.trim() || null, prices: parsed.prices };
    setBusy(true);
    try {
      // A key left blank keeps the stored one; the key is never shown back.
      const key = apiKey ? { api_key: apiKey } : {};
      const saved = editing ? await api.updateModel(config.name, { ...body, ...key }) : await api.createModel({ ...body, ...key, name });
      onSaved(saved);
    } catch (error) {
      setErrors(fieldErrors(error));
      setBusy(false);
    }
  };

  return (
    <Dialog title={editing ? `Edit model ${config.name}` : 'New model'} onClose={onClose}>
      <form className="form" onSubmit={submit} noValidate>
        <Field label="Name" required errors={errors.name} hint="What agents name in their llm field">
          {(control) => (
            <input
              {...control}
              className="input input--mono"
              required
              disabled={editing}
              spellCheck={false}
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
          )}
        </Field>
        <Field label="Model" required errors={errors.model} hint="A litellm model string, e.g. openai/gpt-4o-mini">
          {(control) => (
            <input
              {...control}
              className="input input--mono"
              required
              spellCheck={false}
              value={model}
              onChange={(e) => setModel(e.target.value)}
            />
          )}
        </Field>
        <Field label="API base" errors={errors.api_base} hint="An OpenAI-compatible server; blank for the provider’s own">
          {(control) => (
            <input
              {...control}
              className="input input--mono"
              spellCheck={false}
              value={apiBase}
              onChange={(e) => setApiBase(e.target.value)}
            />
          )}
        </Field>
        <Field
          label="API key"
          errors={errors.api_key}
          hint={config?.has_api_key ? 'A key is stored; blank keeps it' : 'Stored encrypted, never shown again'}
        >
          {(control) => (
            <input
              {...control}
              className="input input--mono"
              type="password"
              autoComplete="off"
              value={apiKey}
              onChange={(e) => setApiKey(e.target.value)}
            />
          )}
        </Field>
        <fieldset className="fieldset">
          <legend>Prices</legend>
          <p className="field__hint">All blank: litellm’s price map prices the calls (a model on this machine costs nothing).</p>
          {PRICE_FIELDS.map(({ key, field, label, hint }) => (
            <Field key={key} label={label} hint={hint} required={key !== 'cached' && Boolean(prices.input || prices.output)} errors={errors[field]}>
              {(control) => (
                <input
                  {...control}
                  className="input"
                  type="number"
                  min={0}
                  step="any"
                  inputMode="decimal"
                  value={prices[key]}
                  onChange={(e) => setPrices((current) => ({ ...current, [key]: e.target.value }))}
                />
              )}
            </Field>
          ))}
          <FieldErrors id={undefined} errors={errors.prices ?? []} />
        </fieldset>
        {errors[''] && <Notice>{errors[''].join(' · ')}</Notice>}
        <div className="dialog__actions">
          <button type="button" className="btn btn--ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="btn btn--primary" disabled={busy} aria-busy={busy}>
            {editing ? 'Save' : 'Create model'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
