/** The side panel's controls, each bound to one field of the selected node. */
import { useId, useState } from 'react';
import { Field, FieldErrors } from '../../components/Field';

/**
 * Text being typed that may not be a valid value yet (an empty number, a taken id).
 * It follows `value` whenever `value` or `scope` (the node being edited) changes from outside;
 * `edit(text, committed)` records what was typed and the value it was committed as, if any.
 */
export function useDraft(value: string, scope: string): [string, (text: string, committed?: string) => void] {
  const [draft, setDraft] = useState({ text: value, value, scope });
  if (draft.value !== value || draft.scope !== scope) {
    setDraft({ text: value, value, scope });
    return [value, () => undefined];
  }
  return [draft.text, (text, committed) => setDraft({ text, value: committed ?? draft.value, scope })];
}

interface TextProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  errors?: string[];
  hint?: string;
  multiline?: boolean;
}

export function TextField({ label, value, onChange, errors, hint, multiline }: TextProps) {
  return (
    <Field label={label} errors={errors} hint={hint}>
      {(control) =>
        multiline ? (
          <textarea {...control} className="input" rows={3} value={value} onChange={(e) => onChange(e.target.value)} />
        ) : (
          <input {...control} className="input" value={value} onChange={(e) => onChange(e.target.value)} />
        )
      }
    </Field>
  );
}

interface ListProps {
  label: string;
  value: readonly string[];
  onChange: (value: string[]) => void;
  /** The node being edited: a draft is dropped when another node is selected. */
  scope: string;
  errors?: string[];
  hint?: string;
}

/** A list of short strings, one a line (commas separate too); blank lines are dropped. */
export function ListField({ label, value, onChange, scope, errors, hint }: ListProps) {
  const [text, edit] = useDraft(value.join('\n'), scope);
  return (
    <Field label={label} errors={errors} hint={hint}>
      {(control) => (
        <textarea
          {...control}
          className="input"
          rows={2}
          spellCheck={false}
          value={text}
          onChange={(e) => {
            const items = e.target.value
              .split(/[\n,]/)
              .map((item) => item.trim())
              .filter(Boolean);
            edit(e.target.value, items.join('\n'));
            onChange(items);
          }}
        />
      )}
    </Field>
  );
}

interface IdProps {
  value: string;
  /** Try the new id; false when it is empty or taken. */
  onRename: (id: string) => boolean;
  errors?: string[];
  label?: string;
  /** What else may hold the id: "node", or "template step" inside a map or loop. */
  holder?: string;
}

/** A node's id. Renaming rewires edges at once; an empty or taken id stays a draft. */
export function IdField({ value, onRename, errors = [], label = 'Id', holder = 'node' }: IdProps) {
  const [text, edit] = useDraft(value, '');
  const typed = text.trim();
  const problem = typed === value ? null : typed ? `Another ${holder} already uses this id` : 'Required';
  return (
    <Field label={label} errors={problem ? [problem, ...errors] : errors}>
      {(control) => (
        <input
          {...control}
          className="input input--mono"
          value={text}
          spellCheck={false}
          onChange={(e) => {
            const next = e.target.value.trim();
            edit(e.target.value, onRename(next) ? next : undefined);
          }}
        />
      )}
    </Field>
  );
}

interface NumberProps {
  label: string;
  /** Absent in the definition: the field shows (but does not write) the default. */
  value: number | undefined;
  fallback: number;
  onChange: (value: number) => void;
  /** The node being edited: a draft is dropped when another node is selected. */
  scope: string;
  errors?: string[];
  min?: number;
  step?: number;
}

export function NumberField({ label, value, fallback, onChange, scope, errors = [], min, step }: NumberProps) {
  const shown = String(value ?? fallback);
  const [text, edit] = useDraft(shown, scope);
  const parsed = text.trim() === '' ? NaN : Number(text);
  const problem = Number.isFinite(parsed) ? null : 'Enter a number';
  return (
    <Field label={label} errors={problem ? [problem, ...errors] : errors}>
      {(control) => (
        <input
          {...control}
          className="input"
          type="number"
          inputMode="decimal"
          min={min}
          step={step ?? 'any'}
          value={text}
          onChange={(e) => {
            const next = e.target.value.trim() === '' ? NaN : Number(e.target.value);
            if (Number.isFinite(next)) onChange(next);
            edit(e.target.value, Number.isFinite(next) ? String(next) : undefined);
          }}
        />
      )}
    </Field>
  );
}

interface SelectProps<T extends string> {
  label: string;
  value: T;
  options: readonly (T | { value: T; label: string })[];
  onChange: (value: T) => void;
  errors?: string[];
  hint?: string;
}

export function SelectField<T extends string>({ label, value, options, onChange, errors, hint }: SelectProps<T>) {
  return (
    <Field label={label} errors={errors} hint={hint}>
      {(control) => (
        <select {...control} className="input" value={value} onChange={(e) => onChange(e.target.value as T)}>
          {options.map((option) => {
            const { value: optionValue, label: optionLabel } =
              typeof option === 'string' ? { value: option, label: option } : option;
            return (
              <option key={optionValue} value={optionValue}>
                {optionLabel}
              </option>
            );
          })}
        </select>
      )}
    </Field>
  );
}

interface ChecklistProps {
  legend: string;
  options: string[];
  checked: string[];
  onToggle: (value: string) => void;
  errors?: string[];
  empty: string;
}

/** A group of checkboxes, one per option, labelled by the option itself. */
export function Checklist({ legend, options, checked, onToggle, errors = [], empty }: ChecklistProps) {
  const errorId = useId();
  return (
    <fieldset
      className={errors.length ? 'field checklist field--invalid' : 'field checklist'}
      aria-describedby={errors.length ? errorId : undefined}
    >
      <legend className="field__label">{legend}</legend>
      {options.length === 0 && <p className="field__hint">{empty}</p>}
      {options.map((option) => (
        <label key={option} className="checklist__item">
          <input type="checkbox" checked={checked.includes(option)} onChange={() => onToggle(option)} />
          <span className="mono">{option}</span>
        </label>
      ))}
      <FieldErrors id={errorId} errors={errors} />
    </fieldset>
  );
}

interface MultiSelectProps {
  label: string;
  value: string[];
  groups: { group: string; names: string[] }[];
  onChange: (value: string[]) => void;
  errors?: string[];
  hint?: string;
}

/**
 * Several names picked from grouped options (a native multiple select: Ctrl/⌘ or Shift
 * with a click, or the keyboard). A chosen name no group offers stays listed, marked
 * unknown, so that it can be seen and removed.
 */
export function MultiSelectField({ label, value, groups, onChange, errors, hint }: MultiSelectProps) {
  const offered = new Set(groups.flatMap((group) => group.names));
  const unknown = value.filter((name) => !offered.has(name));
  const all = [...groups, ...(unknown.length ? [{ group: 'Not in the catalogue', names: unknown }] : [])];
  const size = Math.min(8, Math.max(3, all.reduce((count, group) => count + group.names.length + 1, 0)));
  return (
    <Field label={label} errors={errors} hint={hint}>
      {(control) => (
        <select
          {...control}
          className="input"
          multiple
          size={size}
          value={value}
          onChange={(e) => {
            const picked = Array.from(e.target.selectedOptions, (option) => option.value);
            // Names already chosen keep their order; new ones follow in the list's order.
            onChange([...value.filter((name) => picked.includes(name)), ...picked.filter((name) => !value.includes(name))]);
          }}
        >
          {all.map((group) => (
            <optgroup key={group.group} label={group.group}>
              {group.names.map((name) => (
                <option key={name} value={name}>
                  {offered.has(name) ? name : `${name} (unknown)`}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
      )}
    </Field>
  );
}
