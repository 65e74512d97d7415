import { describe, expect, it } from 'vitest';
import { escapeHtml, renderMarkdown } from './markdown';

describe('renderMarkdown', () => {
  it('escapes HTML everywhere, so no tag of the source reaches the page', () => {
    const html = renderMarkdown(
      '<script>alert(1)</script>\n# <img src=x onerror=alert(1)>\n- **<b>x</b>**\n`<i>`\n```\n</code><script>\n```',
    );
    expect(html).not.toMatch(/<script|<img|<b>|<i>/);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<h1>&lt;img src=x onerror=alert(1)&gt;</h1>');
    expect(html).toContain('<strong>&lt;b&gt;x&lt;/b&gt;</strong>');
    expect(html).toContain('<code>&lt;i&gt;</code>');
    expect(html).toContain('<pre><code>&lt;/code&gt;&lt;script&gt;</code></pre>');
  });

  it('escapes quotes, so nothing can break out of an attribute', () => {
    expect(escapeHtml(`"'&`)).toBe('&quot;&#39;&amp;');
    expect(renderMarkdown('```js" onload="x\ncode\n```')).not.toContain('onload="');
  });

  it('renders headings, paragraphs, lists, emphasis, code and quotes', () => {
    const html = renderMarkdown(
      '## Title\n\nSome **bold** and *italic* and `code`.\nNext line.\n\n- one\n- two\n\n1. first\n2. second\n\n> quoted\n\n```python\nprint(1)\n```',
    );
    expect(html).toBe(
      [
        '<h2>Title</h2>',
        '<p>Some <strong>bold</strong> and <em>italic</em> and <code>code</code>.<br>Next line.</p>',
        '<ul><li>one</li><li>two</li></ul>',
        '<ol><li>first</li><li>second</li></ol>',
        '<blockquote><p>quoted</p></blockquote>',
        '<pre><code class="language-python">print(1)</code></pre>',
      ].join('\n'),
    );
  });

  it('leaves snake_case and lone asterisks alone', () => {
    expect(renderMarkdown('use max_iter and 2 * 3')).toBe('<p>use max_iter and 2 * 3</p>');
  });
});
