/** Controls the new step types share: join, expressions, and JSON (output schemas, template steps). */
import { Field } from '../../components/Field';
import { DEFAULTS, type Join } from '../../lib/definition';
import { SelectField, useDraft } from './fields';

const JOIN: { value: Join; label: string }[] = [
  { value: 'all', label: 'All: once every step before it is done, and one was taken' },
  { value: 'any', label: 'Any: as soon as the first step before it is taken' },
];

/** How the step starts when it runs after several steps. */
export function JoinField({ value, onChange, errors }: { value: Join | undefined; onChange: (join: Join) => void; errors?: string[] }) {
  return <SelectField label="Join" value={value ?? DEFAULTS.join} options={JOIN} onChange={onChange} errors={errors} />;
}

interface ExpressionProps {
  label: string;
  value: string;
  onChange: (value: string) => void;
  errors?: string[];
  hint?: string;
}

const EXPRESSION_HINT =
  'An expression, e.g. output("classify").label == "refund" and not (input("tier") == "free"); also contains, matches, or.';

/** An expression over upstream outputs and the run's inputs (evaluated in the workflow). */
export function ExpressionField({ label, value, onChange, errors, hint = EXPRESSION_HINT }: ExpressionProps) {
  return (
    <Field label={label} errors={errors} hint={hint}>
      {(control) => (
        <textarea
          {...control}
          className="input input--mono"
          rows={2}
          spellCheck={false}
          value={value}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}

interface JsonProps<T> {
  label: string;
  value: T | undefined;
  /** Called with each edit that parses and has the right shape (`undefined` for empty text). */
  onChange: (value: T | undefined) => void;
  /** Why a parsed value has the wrong shape, or null when it is right. */
  check: (value: unknown) => string | null;
  /** The node being edited: a draft is dropped when another node is selected. */
  scope: string;
  errors?: string[];
  hint?: string;
  rows?: number;
}

const show = (value: unknown): string => (value === undefined ? '' : JSON.stringify(value, null, 2));

/** A JSON text area: text that does not parse (or has the wrong shape) stays a draft with its error. */
export function JsonField<T>({ label, value, onChange, check, scope, errors = [], hint, rows = 6 }: JsonProps<T>) {
  const [text, edit] = useDraft(show(value), scope);
  const problem = jsonProblem(text, check);
  return (
    <Field label={label} errors={problem ? [problem, ...errors] : errors} hint={hint}>
      {(control) => (
        <textarea
          {...control}
          className="input input--mono"
          rows={rows}
          spellCheck={false}
          value={text}
          onChange={(e) => {
            const next = e.target.value;
            if (jsonProblem(next, check) !== null) return edit(next);
            const parsed = next.trim() === '' ? undefined : (JSON.parse(next) as T);
            edit(next, show(parsed));
            onChange(parsed);
          }}
        />
      )}
    </Field>
  );
}

/** Why `text` is not acceptable JSON: a syntax error or the wrong shape; null when it is fine (or empty). */
function jsonProblem(text: string, check: (value: unknown) => string | null): string | null {
  if (text.trim() === '') return null;
  try {
    return check(JSON.parse(text));
  } catch (error) {
    return `Not valid JSON: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/** A JSON object, as JSON Schemas are. */
export const isObject = (value: unknown): string | null =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? null : 'Enter a JSON object';

/** A JSON list of step objects, each with a `type`. */
export const isStepList = (value: unknown): string | null =>
  Array.isArray(value) && value.every((step) => typeof step === 'object' && step !== null && !Array.isArray(step))
    ? null
    : 'Enter a JSON list of steps, e.g. [{"id": "fetch", "type": "task", …}]';
