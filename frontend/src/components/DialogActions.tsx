import { Notice } from './Notice';

interface DialogActionsProps {
  /** The form's errors that belong to no field. */
  errors?: string[];
  busy: boolean;
  submitLabel: string;
  onCancel: () => void;
}

/** A form dialog's foot: what went wrong beyond its fields, Cancel, and its submit button. */
export function DialogActions({ errors, busy, submitLabel, onCancel }: DialogActionsProps) {
  return (
    <>
      {errors && <Notice>{errors.join(' · ')}</Notice>}
      <div className="dialog__actions">
        <button type="button" className="btn btn--ghost" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" className="btn btn--primary" disabled={busy} aria-busy={busy}>
          {submitLabel}
        </button>
      </div>
    </>
  );
}
