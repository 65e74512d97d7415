import { Field } from './Field';

interface UsdFieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  errors?: string[];
  hint?: string;
}

/** An amount of US dollars, as text while it is typed: empty means "not set". */
export function UsdField({ label, value, onChange, errors, hint }: UsdFieldProps) {
  return (
    <Field label={label} errors={errors} hint={hint}>
      {(control) => (
        <input
          {...control}
          className="input"
          type="number"
          inputMode="decimal"
          min="0"
          step="any"
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}
