import { render, screen, waitFor } from '@testing-library/svelte';
import { tick } from 'svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { Page } from '../../lib/api/types';
import { i18n } from '../../lib/i18n.svelte';
import { makeJob, makePage } from '../../test/fixtures';
import PageList from './PageList.svelte';
import type { PageClient } from './PageView.svelte';

const JOB_ID = makeJob().job_id;
/** jsdom lays nothing out: every page is taken at the estimate, 900 px, and the viewport is 768 px high. */
const PAGE = 900;

interface Call {
  page: number;
  signal: AbortSignal | undefined;
  answer: () => void;
}

/** A client whose page and picture requests wait until answered (or aborted), recording each one; or answered
 * at once. */
function pendingClient({ answerAtOnce = false } = {}) {
  const pages: Call[] = [];
  const pictures: Call[] = [];
  function pending<T>(calls: Call[], page: number, signal: AbortSignal | undefined, value: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      calls.push({ page, signal, answer: () => resolve(value()) });
      if (answerAtOnce) resolve(value());
      signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
    });
  }
  const client: PageClient = {
    getPage: (_id: string, n: number, signal?: AbortSignal) => pending<Page>(pages, n, signal, () => makePage(n)),
    pageImageUrl: (_id: string, n: number, width: number) => `http://api.test/jobs/${JOB_ID}/pages/${n}/image?width=${width}`,
    blob: (url: string, signal?: AbortSignal) =>
      pending(pictures, Number(/pages\/(\d+)\//.exec(url)![1]), signal, () => new Blob(['png'])),
  };
  return { client, pages, pictures };
}

/** Where the window is scrolled to: the list's top is that far above the viewport. */
let scrollY = 0;

async function scrollTo(y: number) {
  scrollY = y;
  window.dispatchEvent(new Event('scroll'));
  await tick();
}

function mounted(): number[] {
  return [...document.querySelectorAll('section[id*="-page-"]')].map((el) => Number(el.id.split('-page-')[1]));
}

function numbers(calls: Call[]): number[] {
  return [...new Set(calls.map((call) => call.page))].sort((a, b) => a - b);
}

describe('PageList', () => {
  beforeEach(() => {
    i18n.set('en');
    scrollY = 0;
    vi.spyOn(Element.prototype, 'getBoundingClientRect').mockImplementation(
      () => ({ top: -scrollY, bottom: -scrollY, left: 0, right: 0, width: 0, height: 0, x: 0, y: -scrollY }) as DOMRect,
    );
    URL.createObjectURL = vi.fn(() => 'blob:picture');
    URL.revokeObjectURL = vi.fn();
  });

  it('keeps a bounded number of pages mounted anywhere in 10,000 pages', async () => {
    const { client } = pendingClient();
    render(PageList, { jobId: JOB_ID, client, pageCount: 10_000, failedPages: [], live: false, version: '' });
    await waitFor(() => expect(mounted()).toEqual([1, 2, 3]));

    for (const page of [2500, 5000, 7777, 9999, 10_000, 40]) {
      await scrollTo((page - 1) * PAGE);
      const shown = mounted();
      expect(shown).toContain(page);
      expect(shown.length).toBeLessThanOrEqual(6);
      expect(Math.max(...shown) - Math.min(...shown)).toBe(shown.length - 1); // one run, no holes
    }
    // the list keeps the whole document's height: page 10,000 ends at 10,000 pages
    const gaps = [...document.querySelectorAll<HTMLElement>('[aria-hidden="true"][style*="height"]')];
    const shownHeight = mounted().length * PAGE;
    expect(gaps.reduce((sum, gap) => sum + parseFloat(gap.style.height), 0) + shownHeight).toBe(10_000 * PAGE);
  });

  it('asks for nothing while the reader flies past, then for the pages where they stop, aborting the rest', async () => {
    const { client, pages, pictures } = pendingClient();
    render(PageList, { jobId: JOB_ID, client, pageCount: 10_000, failedPages: [], live: false, version: '' });
    // at the top: pages 1-3 are mounted and asked for (nearest first, four at a time), pictures for those in view
    await waitFor(() => expect(pages.length + pictures.length).toBe(4));
    expect(numbers(pages)).toEqual([1, 2]);
    expect(numbers(pictures)).toEqual([1, 2]);

    // a fast scroll through the middle, a screen and more at a time
    for (let page = 100; page <= 5001; page += 700) await scrollTo((page - 1) * PAGE);
    await scrollTo(5000 * PAGE); // stops with page 5,001 at the top
    expect(numbers(pages)).toEqual([1, 2]); // nothing asked while flying
    // what was under way at the top was aborted when those pages left
    expect([...pages, ...pictures].every((call) => call.signal?.aborted)).toBe(true);

    // once it rests, the pages mounted there load, the one in view first, and the pictures of those in view
    await waitFor(() => expect(numbers(pages)).toContain(5001));
    await waitFor(() => expect(numbers(pictures).length).toBeGreaterThan(0));
    const late = (calls: Call[]) => numbers(calls).filter((n) => n > 2);
    expect(pages.filter((call) => call.page > 2)[0].page).toBe(5001);
    expect(late(pages).every((n) => n >= 4999 && n <= 5003)).toBe(true);
    expect(late(pictures).every((n) => n >= 5000 && n <= 5002)).toBe(true);

    // answered, the page shows; its picture too
    pages.find((call) => call.page === 5001)!.answer();
    expect(await screen.findByText('Text of page 5001', { selector: 'pre' })).toBeInTheDocument();
    await waitFor(() => expect(pictures.some((call) => call.page === 5001)).toBe(true));
    pictures.find((call) => call.page === 5001)!.answer();
    expect(await screen.findByRole('img', { name: 'Page 5,001 as rendered' })).toHaveAttribute('src', 'blob:picture');

    // leaving again aborts what was still under way there, and frees the picture shown
    const there = [...pages, ...pictures].filter((call) => call.page > 2 && call.page !== 5001);
    await scrollTo(9000 * PAGE);
    expect(there.every((call) => call.signal?.aborted)).toBe(true);
    expect(URL.revokeObjectURL).toHaveBeenCalledWith('blob:picture');
  });

  it('loads at once while the reader moves slowly (reading, not flying)', async () => {
    const { client, pages } = pendingClient({ answerAtOnce: true });
    render(PageList, { jobId: JOB_ID, client, pageCount: 10_000, failedPages: [], live: false, version: '' });
    await waitFor(() => expect(numbers(pages)).toEqual([1, 2, 3]));
    for (let y = 100; y <= 2 * PAGE; y += 100) {
      await new Promise((resolve) => setTimeout(resolve, 50)); // 2 px/ms
      await scrollTo(y);
    }
    expect(mounted()).toContain(5);
    await new Promise((resolve) => setTimeout(resolve, 0)); // well before a fast move would have settled
    expect(numbers(pages)).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps the page holding the focus (and those beside it) mounted wherever the reader scrolls, until the focus leaves it', async () => {
    const { client } = pendingClient({ answerAtOnce: true });
    render(PageList, { jobId: JOB_ID, client, pageCount: 10_000, failedPages: [], live: false, version: '' });
    const text = await screen.findByRole('group', { name: 'Text of page 2' });
    text.focus();
    await scrollTo(5000 * PAGE);
    expect(mounted()).toEqual([1, 2, 3, 4999, 5000, 5001, 5002, 5003]); // and those beside it, for Tab to go on to
    expect(text).toHaveFocus();

    const outside = document.body.appendChild(document.createElement('button'));
    outside.focus();
    await tick();
    expect(mounted()).toEqual([4999, 5000, 5001, 5002, 5003]);
    outside.remove();
  });
});
