import { useId, type ReactNode } from 'react';

/** The attributes that tie a control to its label, hint and error. */
export interface ControlProps {
  id: string;
  'aria-invalid': boolean | undefined;
  'aria-describedby': string | undefined;
}

interface FieldProps {
  label: string;
  /** Error messages for this field; any makes the control invalid. */
  errors?: string[];
  hint?: string;
  required?: boolean;
  children: (control: ControlProps) => ReactNode;
}

/** A labelled control with its hint and its error messages, wired for assistive technology. */
export function Field({ label, errors = [], hint, required, children }: FieldProps) {
  const id = useId();
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = errors.length ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={errors.length ? 'field field--invalid' : 'field'}>
      <label className="field__label" htmlFor={id}>
        {label}
        {required && (
          <span className="field__required" aria-hidden="true">
            {' '}
            *
          </span>
        )}
      </label>
      {children({ id, 'aria-invalid': errors.length ? true : undefined, 'aria-describedby': describedBy })}
      {hint && (
        <p className="field__hint" id={hintId}>
          {hint}
        </p>
      )}
      <FieldErrors id={errorId} errors={errors} />
    </div>
  );
}

/** Error messages under a field or group. */
export function FieldErrors({ id, errors }: { id: string | undefined; errors: string[] }) {
  if (!errors.length) return null;
  return (
    <p className="field__error" id={id}>
      {errors.join(' · ')}
    </p>
  );
}
