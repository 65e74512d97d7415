import { Field } from './Field';

interface TextFieldProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  errors?: string[];
  hint?: string;
  required?: boolean;
  /** Code-like text (names, URLs, JSON): monospaced and not spell-checked. */
  mono?: boolean;
  /** A textarea of this many rows; without it, a one-line input. */
  rows?: number;
  disabled?: boolean;
  placeholder?: string;
}

/** A labelled text input or textarea, the shape most form fields take. */
export function TextField({ label, value, onChange, errors, hint, required, mono, rows, disabled, placeholder }: TextFieldProps) {
  return (
    <Field label={label} errors={errors} hint={hint} required={required}>
      {(control) => {
        const props = {
          ...control,
          className: mono ? 'input input--mono' : 'input',
          required,
          disabled,
          placeholder,
          spellCheck: mono ? false : undefined,
          value,
        };
        return rows ? (
          <textarea {...props} rows={rows} onChange={(e) => onChange(e.target.value)} />
        ) : (
          <input {...props} onChange={(e) => onChange(e.target.value)} />
        );
      }}
    </Field>
  );
}

/** A labelled number input for an amount (seconds, a price): zero or more, any step. */
export function AmountField({
  label,
  value,
  onChange,
  errors,
  hint,
  required,
}: Pick<TextFieldProps, 'label' | 'value' | 'onChange' | 'errors' | 'hint' | 'required'>) {
  return (
    <Field label={label} errors={errors} hint={hint} required={required}>
      {(control) => (
        <input
          {...control}
          className="input"
          type="number"
          min={0}
          step="any"
          inputMode="decimal"
          required={required}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

/** The name of something saved in versions (a model, a tool, a server): required,
 * code-like, and fixed once it exists, since definitions refer to it by name. */
export function NameField({
  editing,
  hint,
  errors,
  value,
  onChange,
}: Pick<TextFieldProps, 'hint' | 'errors' | 'value' | 'onChange'> & { editing: boolean }) {
  return <TextField label="Name" required mono disabled={editing} errors={errors} hint={hint} value={value} onChange={onChange} />;
}
