import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useMemo, useRef } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { splitBlocks } from '../lib/markdown-blocks';

/** Up to this many blocks render whole; more scroll in a window that mounts only what is seen. */
export const VIRTUALISE_OVER_BLOCKS = 40;
const ESTIMATED_BLOCK_PX = 48;
const OVERSCAN_BLOCKS = 4;

const REMARK_PLUGINS = [remarkGfm];

/**
 * Links open in a new tab without handing it this page (`noopener`) or our address
 * (`noreferrer`). Images become links: an output is model text, and a picture it names would be
 * fetched on sight, carrying whatever the model put into its address.
 */
const COMPONENTS: Components = {
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer" />,
  img: ({ src, alt }) => (
    <a href={typeof src === 'string' ? src : undefined} target="_blank" rel="noopener noreferrer">
      {alt || 'image'}
    </a>
  ),
};

/**
 * One block through react-markdown: raw HTML in it is shown as text, and `javascript:` and other
 * unsafe URLs are dropped by its default URL transform.
 */
const MarkdownBlock = memo(function MarkdownBlock({ source }: { source: string }) {
  return (
    <ReactMarkdown remarkPlugins={REMARK_PLUGINS} components={COMPONENTS}>
      {source}
    </ReactMarkdown>
  );
});

/** A long output: a scroll box that mounts only the blocks in (and just around) its view. */
function VirtualBlocks({ blocks }: { blocks: string[] }) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: blocks.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ESTIMATED_BLOCK_PX,
    overscan: OVERSCAN_BLOCKS,
  });
  const items = virtualizer.getVirtualItems();
  return (
    <div ref={scrollRef} className="markdown markdown--long" tabIndex={0} role="region" aria-label="Full output">
      <div className="markdown__track" style={{ height: virtualizer.getTotalSize() }}>
        <div className="markdown__window" style={{ transform: `translateY(${items[0]?.start ?? 0}px)` }}>
          {items.map((item) => (
            <div key={item.key} data-index={item.index} ref={virtualizer.measureElement} className="markdown__block">
              <MarkdownBlock source={blocks[item.index] ?? ''} />
            </div>
          ))}
        </div>
      </div>
    </div>
  );
}

/** Markdown from a step's output (GitHub flavour: tables, task lists, strikethrough, autolinks). */
export function Markdown({ source }: { source: string }) {
  const blocks = useMemo(() => splitBlocks(source), [source]);
  if (blocks.length > VIRTUALISE_OVER_BLOCKS) return <VirtualBlocks blocks={blocks} />;
  // Short outputs render in one piece, so reference-style links across blocks still resolve.
  return (
    <div className="markdown">
      <MarkdownBlock source={source} />
    </div>
  );
}
