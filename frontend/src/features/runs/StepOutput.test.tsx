// @vitest-environment jsdom
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { outputFileName, StepOutput } from './StepOutput';

const OUTPUT = '# Report\n\n| a | b |\n| - | - |\n| 1 | 2 |';

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('step output', () => {
  it('renders the output as Markdown once its renderer has loaded', async () => {
    render(<StepOutput runId="run-1" stepId="draft" output={OUTPUT} />);
    expect(await screen.findByRole('heading', { name: 'Report' })).toBeTruthy();
    expect(screen.getByRole('table')).toBeTruthy();
  });

  it('copies the Markdown source to the clipboard', async () => {
    const writeText = vi.fn(async (_text: string) => undefined);
    vi.stubGlobal('navigator', { ...navigator, clipboard: { writeText } });
    render(<StepOutput runId="run-1" stepId="draft" output={OUTPUT} />);
    fireEvent.click(screen.getByRole('button', { name: 'Copy output' }));
    expect(await screen.findByText('Copied')).toBeTruthy();
    expect(writeText).toHaveBeenCalledWith(OUTPUT);
  });

  it('says so when the browser refuses the clipboard', async () => {
    vi.stubGlobal('navigator', { ...navigator, clipboard: undefined });
    render(<StepOutput runId="run-1" stepId="draft" output={OUTPUT} />);
    fireEvent.click(screen.getByRole('button', { name: 'Copy output' }));
    expect(await screen.findByText(/Could not copy/)).toBeTruthy();
  });

  it('downloads the Markdown source as a .md file named after the run and step', async () => {
    const blobs: Blob[] = [];
    // jsdom has no object URLs: keep the blob the page would have offered.
    vi.stubGlobal(
      'URL',
      class extends URL {
        static override createObjectURL(blob: Blob): string {
          blobs.push(blob);
          return 'blob:output';
        }
        static override revokeObjectURL(): void {}
      },
    );
    const clicked: HTMLAnchorElement[] = [];
    vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(function (this: HTMLAnchorElement) {
      clicked.push(this);
    });
    render(<StepOutput runId="run-1" stepId="draft" output={OUTPUT} />);
    fireEvent.click(screen.getByRole('button', { name: 'Download output' }));
    expect(clicked.map((link) => [link.download, link.getAttribute('href')])).toEqual([['run-1-draft.md', 'blob:output']]);
    expect(blobs[0]?.type).toBe('text/markdown;charset=utf-8');
    expect(await blobs[0]?.text()).toBe(OUTPUT);
  });

  it('names the file safely whatever the ids hold', () => {
    expect(outputFileName('run-2026 01/02', 'a:b')).toBe('run-2026_01_02-a_b.md');
  });
});
