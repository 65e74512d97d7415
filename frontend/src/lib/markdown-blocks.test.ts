import { describe, expect, it } from 'vitest';
import { MAX_FENCE_LINES, splitBlocks } from './markdown-blocks';

describe('splitBlocks', () => {
  it('ends a block at a blank line', () => {
    expect(splitBlocks('# Title\n\nOne\ntwo\n\n\n- a\n- b')).toEqual(['# Title', 'One\ntwo', '- a\n- b']);
  });

  it('keeps an indented continuation with its list item', () => {
    expect(splitBlocks('- a\n\n  more of a\n- b\n\nafter')).toEqual(['- a\n\n  more of a\n- b', 'after']);
  });

  it('keeps blank lines inside a fenced code block, and a fence that interrupts a paragraph apart', () => {
    expect(splitBlocks('Text:\n```js\nx\n\n\ny\n```\nafter')).toEqual(['Text:', '```js\nx\n\n\ny\n```', 'after']);
  });

  it('keeps a code fence indented in a list item in that item, blank lines and all', () => {
    expect(splitBlocks('- a\n\n  ```\n  x\n\ny\n  ```\n\nafter')).toEqual(['- a\n\n  ```\n  x\n\ny\n  ```', 'after']);
  });

  it('closes a fence only with the same character, at least as long', () => {
    expect(splitBlocks('````\n```\n~~~~\n\n````\nz')).toEqual(['````\n```\n~~~~\n\n````', 'z']);
  });

  it('reads a one-line code span as a paragraph, not a fence', () => {
    expect(splitBlocks('```inline``` text\n\nnext')).toEqual(['```inline``` text', 'next']);
  });

  it('cuts a long fenced code block into fences of the same language', () => {
    const code = Array.from({ length: MAX_FENCE_LINES + 5 }, (_, i) => `line ${i}`);
    const blocks = splitBlocks(['```py', ...code, '```'].join('\n'));
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toBe(['```py', ...code.slice(0, MAX_FENCE_LINES), '```'].join('\n'));
    expect(blocks[1]).toBe(['```py', ...code.slice(MAX_FENCE_LINES), '```'].join('\n'));
  });

  it('leaves an unclosed fence open to the end, as CommonMark does', () => {
    expect(splitBlocks('```\nx\n\ny')).toEqual(['```\nx\n\ny']);
  });
});
