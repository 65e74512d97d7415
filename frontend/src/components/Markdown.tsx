import { useMemo } from 'react';
import { renderMarkdown } from '../lib/markdown';

/** Markdown from a step's output. `renderMarkdown` escapes the source before adding its own tags. */
export function Markdown({ source }: { source: string }) {
  const html = useMemo(() => renderMarkdown(source), [source]);
  return <div className="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
