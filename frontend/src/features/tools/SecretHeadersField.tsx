import { Field } from '../../components/Field';

interface Props {
  value: string;
  onChange: (value: string) => void;
  /** The names stored now, when editing; their values are never shown. */
  stored: string[] | null;
  remove: boolean;
  onRemove: (remove: boolean) => void;
  errors?: string[];
}

/** Secret headers: write-only. Editing leaves the stored ones alone unless replaced or removed. */
export function SecretHeadersField({ value, onChange, stored, remove, onRemove, errors }: Props) {
  const editing = stored !== null;
  const hint = !editing
    ? 'Name: value per line. Stored encrypted; their values are never shown again.'
    : stored.length
      ? `Stored: ${stored.join(', ')}. Leave empty to keep them; headers typed here replace them all.`
      : 'None stored. Name: value per line; stored encrypted.';
  return (
    <>
      <Field label="Secret headers" errors={errors} hint={hint}>
        {(control) => (
          <textarea
            {...control}
            className="input input--mono"
            rows={2}
            spellCheck={false}
            autoComplete="off"
            disabled={remove}
            value={value}
            onChange={(e) => onChange(e.target.value)}
          />
        )}
      </Field>
      {editing && stored.length > 0 && (
        <label className="checkbox">
          <input type="checkbox" checked={remove} onChange={(e) => onRemove(e.target.checked)} />
          Remove the stored secret headers
        </label>
      )}
    </>
  );
}

/** What a request sends for the field: omitted (keep), null (remove) or the new map. */
export function secretHeadersBody(
  headers: Record<string, string>,
  editing: boolean,
  remove: boolean,
): { secret_headers?: Record<string, string> | null } {
  if (remove) return { secret_headers: null };
  if (editing && Object.keys(headers).length === 0) return {};
  return { secret_headers: headers };
}
