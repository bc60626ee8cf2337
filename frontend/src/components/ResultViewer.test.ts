import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../lib/api/client';
import type { DocumentInfo, Page } from '../lib/api/types';
import { i18n } from '../lib/i18n.svelte';
import { jsonResponse, makeDocument, makeJob, makePage, readRequest } from '../test/fixtures';
import ResultViewer from './ResultViewer.svelte';

const JOB_ID = makeJob().job_id;

/** A fake server for one job: GET /jobs/{id}/document and /jobs/{id}/pages/{n}. */
function serve(doc: DocumentInfo, pages: Record<number, Page>) {
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const { url } = await readRequest(input, init);
    if (url.pathname === `/jobs/${JOB_ID}/document`) return jsonResponse(doc);
    if (/^\/jobs\/[^/]+\/pages\/\d+\/image$/.test(url.pathname))
      return new Response(new Uint8Array([0x89, 0x50, 0x4e, 0x47]), { headers: { 'Content-Type': 'image/png' } });
    const match = /^\/jobs\/[^/]+\/pages\/(\d+)$/.exec(url.pathname);
    if (match && pages[Number(match[1])]) return jsonResponse(pages[Number(match[1])]);
    return jsonResponse({ status: 404, title: 'Not Found', code: 'not_found', detail: 'No such page.' }, 404);
  });
  vi.stubGlobal('fetch', fetch);
  return fetch;
}

function renderViewer(status: 'completed' | 'processing' = 'completed') {
  const job = makeJob({ status, pages_done: 3, pages_total: 3, progress: 100 });
  return render(ResultViewer, { job, client: new ApiClient('http://api.test', null) });
}

describe('ResultViewer', () => {
  beforeEach(() => {
    i18n.set('en');
    vi.unstubAllGlobals();
    // pictures are fetched as bytes (so leaving the view aborts them) and shown from object URLs
    let made = 0;
    URL.createObjectURL = vi.fn(() => `blob:picture-${++made}`);
    URL.revokeObjectURL = vi.fn();
  });

  it('shows the metadata, the outline and the text of each page', async () => {
    const fetch = serve(makeDocument(), { 1: makePage(1), 2: makePage(2), 3: makePage(3, { text: 'Results are in.' }) });
    renderViewer();

    const documentInfo = await screen.findByRole('region', { name: 'Document' });
    expect(within(documentInfo).getByText('Annual Report 2024')).toBeInTheDocument();
    expect(within(documentInfo).getByText('Kim Minji')).toBeInTheDocument();
    expect(within(documentInfo).getByText('LibreOffice')).toBeInTheDocument();
    expect(within(documentInfo).getByText('ab'.repeat(32))).toBeInTheDocument();

    const outline = screen.getByRole('navigation', { name: 'Outline' });
    expect(within(outline).getByRole('button', { name: 'Introduction 1' })).toBeInTheDocument();

    expect(await screen.findByText('Text of page 1', { selector: 'pre' })).toBeInTheDocument();
    expect(await screen.findByText('Results are in.', { selector: 'pre' })).toBeInTheDocument();
    expect(screen.getByRole('region', { name: 'Page 3' })).toBeInTheDocument();
    expect(await screen.findByRole('img', { name: 'Page 1 as rendered' })).toHaveAttribute(
      'src',
      expect.stringMatching(/^blob:picture-\d+$/),
    );
    const asked = fetch.mock.calls.map(([input]) => (input instanceof Request ? input.url : String(input)));
    expect(asked).toContainEqual(expect.stringMatching(new RegExp(`/jobs/${JOB_ID}/pages/1/image\\?width=\\d+$`)));

    const downloads = screen.getByRole('navigation', { name: 'Download' });
    expect(within(downloads).getByRole('link', { name: 'Download the result as Markdown' })).toHaveAttribute(
      'href',
      `http://api.test/jobs/${JOB_ID}/result?format=markdown`,
    );
  });

  it('jumps to a page when an outline entry is clicked', async () => {
    serve(makeDocument(), { 1: makePage(1), 2: makePage(2), 3: makePage(3) });
    renderViewer();
    const entry = await screen.findByRole('button', { name: 'Results 3' });
    const scrolled = vi.fn();
    const page3 = screen.getByRole('region', { name: 'Page 3' });
    page3.scrollIntoView = scrolled;

    await userEvent.click(entry);
    expect(scrolled).toHaveBeenCalled();
    expect(page3).toHaveFocus();
  });

  it('draws the parsed regions over the page and lets each kind be hidden', async () => {
    serve(makeDocument({ page_count: 1, outline: [] }), { 1: makePage(1) });
    const { container } = renderViewer();
    const overlay = await screen.findByRole('img', { name: 'Parsed regions of page 1' });
    expect(overlay).toHaveAttribute('viewBox', '0 0 612 792');
    const block = overlay.querySelector('rect.block');
    expect(block).toHaveAttribute('x', '72');
    expect(block).toHaveAttribute('width', '468');
    expect(overlay.querySelectorAll('rect.link')).toHaveLength(1);

    await userEvent.click(screen.getByRole('checkbox', { name: 'Links' }));
    expect(overlay.querySelectorAll('rect.link')).toHaveLength(0);
    expect(container.querySelectorAll('rect.block')).toHaveLength(1);
    expect(screen.getByText('This document has no outline.')).toBeInTheDocument();
  });

  it('shows a page with an image block (whose text is null, as the server sends it)', async () => {
    serve(makeDocument({ page_count: 1 }), {
      1: makePage(1, {
        blocks: [
          { type: 'text', bbox: [72, 72, 540, 120], text: 'Text of page 1' },
          { type: 'image', bbox: [72, 200, 252, 320], text: null },
        ],
        images: [{ bbox: [72, 200, 252, 320], width: 120, height: 80, colorspace: 'DeviceRGB', xref: 7 }],
      }),
    });
    renderViewer();
    expect(await screen.findByText('Text of page 1', { selector: 'pre' })).toBeInTheDocument();
    const overlay = screen.getByRole('img', { name: 'Parsed regions of page 1' });
    expect(overlay.querySelectorAll('rect.image')).toHaveLength(2);
  });

  it('marks a page read by OCR, and says why a page that needed OCR has no text', async () => {
    serve(makeDocument({ page_count: 2 }), {
      1: makePage(1, {
        text: '제1조 모든 인간은\n',
        blocks: [
          { type: 'image', bbox: [0, 0, 612, 792], text: null },
          { type: 'text', bbox: [60, 70, 500, 100], text: '제1조 모든 인간은' },
        ],
        ocr: { engine: 'tesseract 5.5.4', languages: 'kor+eng', confidence: 0.934, dpi: 200, angle: 90 },
      }),
      2: makePage(2, {
        text: '',
        blocks: [{ type: 'image', bbox: [0, 0, 612, 792], text: null }],
        notices: [{ code: 'ocr_unavailable', message: 'This page needs OCR, which this server lacks: ...' }],
      }),
    });
    renderViewer();
    expect(await screen.findByText('Text read by OCR (kor+eng, confidence 93%)')).toBeInTheDocument();
    const first = screen.getByRole('region', { name: 'Page 1' });
    expect(within(first).getByText('OCR', { exact: true })).toBeVisible(); // the badge; the heading stays "Page 1"
    const overlay = screen.getByRole('img', { name: 'Parsed regions of page 1' });
    expect(overlay.querySelectorAll('rect.block')).toHaveLength(1); // the OCR paragraph, drawn over the picture
    expect(await screen.findByRole('note')).toHaveTextContent('This page needs OCR, which this server does not have');
    expect(within(screen.getByRole('region', { name: 'Page 2' })).queryByText('OCR', { exact: true })).toBeNull();
  });

  it('shows document text as text: no script or img element is created', async () => {
    const hostile = '<script>alert(1)</script> and <img src=x onerror=alert(1)>';
    serve(makeDocument({ page_count: 1, metadata: { ...makeDocument().metadata, title: '<img src=y onerror=alert(2)>' } }), {
      1: makePage(1, {
        text: hostile,
        markdown: `# Heading\n\n${hostile}\n\n[click](javascript:alert(3))`,
        blocks: [{ type: 'text', bbox: [0, 0, 10, 10], text: hostile }],
      }),
    });
    const { container } = renderViewer();

    expect(await screen.findByText(hostile, { selector: 'pre' })).toBeInTheDocument();
    expect(screen.getByText(hostile, { selector: 'title' })).toBeInTheDocument();
    expect(screen.getByText('<img src=y onerror=alert(2)>')).toBeInTheDocument();
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('img[src="x"]')).toBeNull();
    expect(container.querySelector('[onerror]')).toBeNull();

    // the markdown view renders HTML, sanitized: the heading stays, the script/img/javascript: link go
    await userEvent.click(screen.getByRole('button', { name: 'Markdown' }));
    expect(await screen.findByRole('heading', { name: 'Heading' })).toBeInTheDocument();
    expect(container.querySelector('script')).toBeNull();
    expect(container.querySelector('img[src="x"]')).toBeNull();
    expect(container.querySelector('[onerror]')).toBeNull();
    expect(container.querySelector('a[href^="javascript"]')).toBeNull();
    expect(document.querySelectorAll('script')).toHaveLength(0);
  });

  it('shows tables as cells of text', async () => {
    serve(makeDocument({ page_count: 1 }), {
      1: makePage(1, {
        tables: [{ bbox: [10, 10, 300, 200], row_count: 2, col_count: 2, cells: [['Year', 'Revenue'], ['2024', null]] }],
      }),
    });
    renderViewer();
    await userEvent.click(await screen.findByRole('button', { name: 'Tables (1)' }));
    const table = screen.getByRole('table', { name: 'Table 1: 2 × 2' });
    expect(within(table).getAllByRole('cell').map((cell) => cell.textContent)).toEqual(['Year', 'Revenue', '2024', '']);
  });

  it('tells which pages are not parsed yet while the job runs', async () => {
    serve(makeDocument({ page_count: 2 }), { 1: makePage(1) });
    renderViewer('processing');
    expect(await screen.findByText('Text of page 1', { selector: 'pre' })).toBeInTheDocument();
    await waitFor(() => expect(screen.getByText('This page is not parsed yet.')).toBeInTheDocument());
    expect(screen.getByText('The job is not complete: showing the pages parsed so far.')).toBeInTheDocument();
    expect(screen.queryByRole('navigation', { name: 'Download' })).not.toBeInTheDocument();
  });

  it('mounts only the pages near the viewport, and jumps to a far page from the outline', async () => {
    const fetch = serve(makeDocument({ page_count: 2000, outline: [{ level: 1, title: 'Appendix', page: 1990 }] }), {
      1: makePage(1),
      1990: makePage(1990, { text: 'The appendix.' }),
    });
    renderViewer();
    await screen.findByRole('button', { name: 'Appendix 1990' });
    const mounted = () => [...document.querySelectorAll('section[id*="-page-"]')].map((el) => el.id.split('-page-')[1]);
    await waitFor(() => expect(mounted()).toContain('1'));
    expect(mounted().length).toBeLessThanOrEqual(5);

    await userEvent.click(screen.getByRole('button', { name: 'Appendix 1990' }));
    const target = await screen.findByRole('region', { name: 'Page 1,990' });
    expect(target).toHaveFocus();
    expect(screen.queryByRole('region', { name: 'Page 1' })).not.toBeInTheDocument();
    expect(mounted().length).toBeLessThanOrEqual(31);
    // a jump is a stop: the page loads at once
    expect(await screen.findByText('The appendix.', { selector: 'pre' })).toBeInTheDocument();
    const pagesAsked = fetch.mock.calls
      .map(([input]) => new URL(input instanceof Request ? input.url : String(input)).pathname)
      .map((path) => /\/pages\/(\d+)$/.exec(path)?.[1])
      .filter((n) => n !== undefined)
      .map(Number);
    expect(pagesAsked).toContain(1990);
    expect(pagesAsked.filter((n) => n > 5 && n < 1960)).toEqual([]); // nothing between was asked for
  });
});
