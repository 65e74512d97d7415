import { lazy, Suspense, useState } from 'react';

// The Markdown renderer (react-markdown, remark-gfm, the virtualiser) loads with the first output shown, not with the app.
const Markdown = lazy(() => import('../../components/Markdown').then((module) => ({ default: module.Markdown })));

interface Props {
  runId: string;
  stepId: string;
  output: string;
}

/** A file name for the output: the run and step, with anything a file system may refuse replaced. */
export function outputFileName(runId: string, stepId: string): string {
  return `${runId}-${stepId}.md`.replace(/[^\w.-]/g, '_');
}

/** Offer `text` as a Markdown file download named `fileName`. */
function download(text: string, fileName: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'text/markdown;charset=utf-8' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  link.click();
  URL.revokeObjectURL(url);
}

/** A step's output as Markdown, with buttons to copy it and to save it as a .md file. */
export function StepOutput({ runId, stepId, output }: Props) {
  const [copyState, setCopyState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const copy = () => {
    // The clipboard exists only in a secure context (https or localhost), and the user may refuse it:
    // both end in the rejection below, not in a thrown error.
    Promise.resolve()
      .then(() => navigator.clipboard.writeText(output))
      .then(
      () => setCopyState('copied'),
      () => setCopyState('failed'),
    );
  };
  return (
    <>
      <div className="output-actions">
        <button type="button" className="btn btn--ghost btn--sm" aria-label="Copy output" onClick={copy}>
          Copy
        </button>
        <button
          type="button"
          className="btn btn--ghost btn--sm"
          aria-label="Download output"
          onClick={() => download(output, outputFileName(runId, stepId))}
        >
          Download .md
        </button>
        <span role="status" className="muted small">
          {copyState === 'copied' ? 'Copied' : copyState === 'failed' ? 'Could not copy: the browser refused the clipboard' : ''}
        </span>
      </div>
      <Suspense fallback={<p className="muted small">Loading output…</p>}>
        <Markdown source={output} />
      </Suspense>
    </>
  );
}
