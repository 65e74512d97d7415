import { useState, type FormEvent } from 'react';
import { api } from '../../api/client';
import type { ModelConfig } from '../../api/types';
import { Dialog } from '../../components/Dialog';
import { DialogActions } from '../../components/DialogActions';
import { Field, FieldErrors } from '../../components/Field';
import { AmountField, NameField, TextField } from '../../components/TextField';
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
        <NameField editing={editing} errors={errors.name} hint="What agents name in their llm field" value={name} onChange={setName} />
        <TextField
          label="Model"
          required
          mono
          errors={errors.model}
          hint="A litellm model string, e.g. openai/gpt-4o-mini"
          value={model}
          onChange={setModel}
        />
        <TextField
          label="API base"
          mono
          errors={errors.api_base}
          hint="An OpenAI-compatible server; blank for the provider’s own"
          value={apiBase}
          onChange={setApiBase}
        />
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
            <AmountField
              key={key}
              label={label}
              hint={hint}
              required={key !== 'cached' && Boolean(prices.input || prices.output)}
              errors={errors[field]}
              value={prices[key]}
              onChange={(value) => setPrices((current) => ({ ...current, [key]: value }))}
            />
          ))}
          <FieldErrors id={undefined} errors={errors.prices ?? []} />
        </fieldset>
        <DialogActions errors={errors['']} busy={busy} submitLabel={editing ? 'Save' : 'Create model'} onCancel={onClose} />
      </form>
    </Dialog>
  );
}
