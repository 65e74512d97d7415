import { useId, useState } from 'react';

const PREVIEW_CHARS = 600;
const PREVIEW_LINES = 12;

/** The start of a long text, or null when the text is short enough to show whole. */
export function previewOf(text: string): string | null {
  const lines = text.split('\n');
  if (text.length <= PREVIEW_CHARS && lines.length <= PREVIEW_LINES) return null;
  return `${lines.slice(0, PREVIEW_LINES).join('\n').slice(0, PREVIEW_CHARS)}…`;
}

interface Props {
  text: string;
  /** What the text is, for the disclosure's name: "Show full result". */
  what: string;
  tone?: 'error';
}

/** A block of text, cut to its start behind a "Show full …" disclosure when it is long. */
export function LongText({ text, what, tone }: Props) {
  const [expanded, setExpanded] = useState(false);
  const id = useId();
  const className = tone === 'error' ? 'code-block code-block--error' : 'code-block';
  const preview = previewOf(text);
  if (preview === null) return <pre className={className}>{text}</pre>;
  return (
    <>
      <pre id={id} className={className}>
        {expanded ? text : preview}
      </pre>
      <button
        type="button"
        className="btn btn--ghost btn--sm"
        aria-expanded={expanded}
        aria-controls={id}
        onClick={() => setExpanded(!expanded)}
      >
        {expanded ? `Hide full ${what}` : `Show full ${what}`}
      </button>
    </>
  );
}
