/**
 * Split Markdown into top-level blocks, so a long step output can be rendered (and virtualised)
 * one block at a time. This only decides where blocks end; rendering is react-markdown's.
 *
 * A block ends at a blank line outside a fenced code block, unless the next text is indented:
 * then it continues a list item or an indented code block. A fenced code block longer than
 * `MAX_FENCE_LINES` is cut into several fences with the same info string, so one huge code
 * block cannot become one huge DOM node either.
 *
 * Known cost of splitting: a reference-style link or footnote resolves only within its block.
 */

export const MAX_FENCE_LINES = 200;

/** A fence opener: up to any indentation, then three or more backticks or tildes, then the info string. */
const FENCE_OPEN = /^(\s*)(`{3,}|~{3,})(.*)$/;

interface Fence {
  marker: string;
  opener: string;
  body: string[];
  /** Indented inside the current block (a list item's code): it stays in that block, uncut. */
  nested: boolean;
}

/** Whether `line` closes a fence opened with `marker`: the same character, at least as many, nothing after. */
function closes(line: string, marker: string): boolean {
  const trimmed = line.trim();
  const char = marker.charAt(0);
  return trimmed.length >= marker.length && [...trimmed].every((c) => c === char);
}

/** The opening fence on `line`, or null; a backtick fence's info string may not hold a backtick. */
function openFence(line: string, nested: boolean): Fence | null {
  const match = FENCE_OPEN.exec(line);
  if (!match) return null;
  const marker = match[2] ?? '';
  if (marker.startsWith('`') && (match[3] ?? '').includes('`')) return null;
  return { marker, opener: line, body: [], nested };
}

/** The fence as one or more blocks of at most `MAX_FENCE_LINES` code lines each. */
function fenceBlocks(fence: Fence, closed: boolean): string[] {
  const closer = fence.opener.replace(FENCE_OPEN, '$1$2');
  const blocks: string[] = [];
  for (let start = 0; start < fence.body.length || start === 0; start += MAX_FENCE_LINES) {
    const lines = fence.body.slice(start, start + MAX_FENCE_LINES);
    const last = start + MAX_FENCE_LINES >= fence.body.length;
    blocks.push([fence.opener, ...lines, ...(last && !closed ? [] : [closer])].join('\n'));
  }
  return blocks;
}

/** The top-level blocks of `source`, in order; joining them with blank lines renders the same. */
export function splitBlocks(source: string): string[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: string[] = [];
  let current: string[] = [];
  let blankLines = 0;
  let fence: Fence | null = null;
  const flush = () => {
    if (current.length > 0) blocks.push(current.join('\n'));
    current = [];
  };

  for (const line of lines) {
    if (fence?.nested) {
      current.push(line);
      if (closes(line, fence.marker)) fence = null;
      continue;
    }
    if (fence !== null) {
      if (closes(line, fence.marker)) {
        blocks.push(...fenceBlocks(fence, true));
        fence = null;
      } else {
        fence.body.push(line);
      }
      continue;
    }
    if (line.trim() === '') {
      blankLines += 1;
      continue;
    }
    const indented = /^\s/.test(line);
    if (blankLines > 0 && !(indented && current.length > 0)) flush();
    if (current.length > 0) current.push(...Array<string>(blankLines).fill(''));
    blankLines = 0;
    const nested = indented && current.length > 0;
    fence = openFence(line, nested);
    if (fence !== null && !fence.nested) {
      flush();
    } else {
      current.push(line);
    }
  }
  if (fence !== null && !fence.nested) blocks.push(...fenceBlocks(fence, false));
  flush();
  return blocks;
}
