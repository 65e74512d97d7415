// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Markdown, VIRTUALISE_OVER_BLOCKS } from './Markdown';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('Markdown', () => {
  it('renders a GFM table as a table', () => {
    render(<Markdown source={'| Name | Score |\n| --- | --- |\n| Ada | 3 |'} />);
    const table = screen.getByRole('table');
    expect(screen.getAllByRole('columnheader').map((cell) => cell.textContent)).toEqual(['Name', 'Score']);
    expect(table.querySelector('td')?.textContent).toBe('Ada');
  });

  it('renders a task list as checkboxes', () => {
    render(<Markdown source={'- [x] drafted\n- [ ] published'} />);
    const boxes = screen.getAllByRole('checkbox') as HTMLInputElement[];
    expect(boxes.map((box) => box.checked)).toEqual([true, false]);
  });

  it('opens a link in a new tab without handing it this page', () => {
    render(<Markdown source="See [the docs](https://example.com/docs)." />);
    const link = screen.getByRole('link', { name: 'the docs' });
    expect(link.getAttribute('href')).toBe('https://example.com/docs');
    expect(link.getAttribute('target')).toBe('_blank');
    expect(link.getAttribute('rel')).toBe('noopener noreferrer');
  });

  it('drops a javascript: URL from a link', () => {
    render(<Markdown source="[click](javascript:alert(1))" />);
    expect(screen.getByText('click').getAttribute('href') ?? '').not.toMatch(/javascript/i);
  });

  it('shows an image as a link instead of fetching it', () => {
    const { container } = render(<Markdown source="![a chart](https://tracker.example/p.png?secret=1)" />);
    expect(container.querySelector('img')).toBeNull();
    expect(screen.getByRole('link', { name: 'a chart' }).getAttribute('href')).toBe('https://tracker.example/p.png?secret=1');
  });

  it('shows raw HTML as text and never runs a script in it', () => {
    const ran = vi.fn();
    vi.stubGlobal('ranFromOutput', ran);
    const { container } = render(<Markdown source={'Before\n\n<script>window.ranFromOutput()</script>\n\n<b onclick="x">bold?</b>'} />);
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('b')).toBeNull();
    expect(container.textContent).toContain('<script>window.ranFromOutput()</script>');
    expect(ran).not.toHaveBeenCalled();
  });

  it('renders a short output whole, reference links included', () => {
    render(<Markdown source={'# Title\n\nSee [docs][d].\n\n[d]: https://example.com'} />);
    expect(screen.getByRole('heading', { name: 'Title' })).toBeTruthy();
    expect(screen.getByRole('link', { name: 'docs' }).getAttribute('href')).toBe('https://example.com');
    expect(screen.queryByRole('region')).toBeNull();
  });

  it('mounts only a window of the blocks of a very long output', async () => {
    // jsdom lays nothing out: give every box (the scroll box and each block) a height.
    vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(300);
    vi.spyOn(HTMLElement.prototype, 'offsetHeight', 'get').mockReturnValue(300);
    const paragraphs = Array.from({ length: 20_000 }, (_, i) => `Paragraph ${i} of a long report, with some **bold** text.`);
    const source = paragraphs.join('\n\n');
    expect(source.length).toBeGreaterThan(1_000_000);
    render(<Markdown source={source} />);
    const region = screen.getByRole('region', { name: 'Full output' });
    const mounted = region.querySelectorAll('.markdown__block');
    expect(mounted.length).toBeGreaterThan(0);
    expect(mounted.length).toBeLessThan(VIRTUALISE_OVER_BLOCKS);
    expect(region.querySelectorAll('p')).toHaveLength(mounted.length);
    expect(screen.getByText(/^Paragraph 0 of/)).toBeTruthy();
    expect(screen.queryByText(/^Paragraph 19999 of/)).toBeNull();

    // Scrolled to the end, the window moves there: the last block mounts, the first leaves.
    region.scrollTop = 300 * 20_000;
    fireEvent.scroll(region);
    expect(await screen.findByText(/^Paragraph 19999 of/)).toBeTruthy();
    expect(screen.queryByText(/^Paragraph 0 of/)).toBeNull();
    expect(region.querySelectorAll('.markdown__block').length).toBeLessThan(VIRTUALISE_OVER_BLOCKS);
  });
});
