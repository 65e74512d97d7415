/**
 * A tiny, safe Markdown renderer for step outputs: headings, paragraphs, lists,
 * block quotes, rules, bold, italic, inline code and fenced code blocks.
 *
 * Safety: every piece of source text is HTML-escaped before any tag is added, and
 * the only tags ever emitted are the fixed ones below, without attributes taken from
 * the input. Links and raw HTML are shown as text.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escape the five HTML-significant characters. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);
}

/** Bold and italic on already escaped text (never inside code spans). */
function emphasis(escaped: string): string {
  return escaped
    .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|\W)__(?=\S)(.+?)(?<=\S)__(?=\W|$)/g, '$1<strong>$2</strong>')
    .replace(/\*(?=\S)(.+?)(?<=\S)\*/g, '<em>$1</em>')
    .replace(/(^|\W)_(?=\S)(.+?)(?<=\S)_(?=\W|$)/g, '$1<em>$2</em>');
}

/** Render inline Markdown: code spans first, so nothing inside them is formatted. */
function renderInline(text: string): string {
  return text
    .split(/(`[^`]+`)/)
    .map((part, index) =>
      index % 2 === 1 ? `<code>${escapeHtml(part.slice(1, -1))}</code>` : emphasis(escapeHtml(part)),
    )
    .join('');
}

const FENCE = /^\s*```\s*([\w+-]*)\s*$/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const NUMBERED = /^\s*\d+[.)]\s+(.*)$/;
const QUOTE = /^\s*>\s?(.*)$/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;

function isBlockStart(line: string): boolean {
  return [FENCE, HEADING, BULLET, NUMBERED, QUOTE, RULE].some((pattern) => pattern.test(line));
}

/** Render Markdown source to an HTML string that is safe to insert into the page. */
export function renderMarkdown(source: string): string {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const html: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const fence = FENCE.exec(line);
    if (fence) {
      const code: string[] = [];
      for (i += 1; i < lines.length && !FENCE.test(lines[i] ?? ''); i += 1) code.push(lines[i] ?? '');
      i += 1;
      const language = fence[1] ? ` class="language-${escapeHtml(fence[1])}"` : '';
      html.push(`<pre><code${language}>${escapeHtml(code.join('\n'))}</code></pre>`);
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = heading[1]?.length ?? 1;
      html.push(`<h${level}>${renderInline(heading[2] ?? '')}</h${level}>`);
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      html.push('<hr>');
      i += 1;
      continue;
    }
    const list = BULLET.test(line) ? BULLET : NUMBERED.test(line) ? NUMBERED : null;
    if (list) {
      const items: string[] = [];
      for (let m = list.exec(lines[i] ?? ''); m; m = list.exec(lines[i] ?? '')) {
        items.push(`<li>${renderInline(m[1] ?? '')}</li>`);
        i += 1;
      }
      const tag = list === BULLET ? 'ul' : 'ol';
      html.push(`<${tag}>${items.join('')}</${tag}>`);
      continue;
    }
    if (QUOTE.test(line)) {
      const quoted: string[] = [];
      for (let m = QUOTE.exec(lines[i] ?? ''); m; m = QUOTE.exec(lines[i] ?? '')) {
        quoted.push(m[1] ?? '');
        i += 1;
      }
      html.push(`<blockquote>${renderMarkdown(quoted.join('\n'))}</blockquote>`);
      continue;
    }
    if (line.trim() === '') {
      i += 1;
      continue;
    }
    const paragraph: string[] = [];
    while (i < lines.length && (lines[i] ?? '').trim() !== '' && !isBlockStart(lines[i] ?? '')) {
      paragraph.push(renderInline((lines[i] ?? '').trim()));
      i += 1;
    }
    html.push(`<p>${paragraph.join('<br>')}</p>`);
  }
  return html.join('\n');
}
