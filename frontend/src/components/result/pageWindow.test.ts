import { describe, expect, it } from 'vitest';
import { PageHeights, ScrollMotion, layoutRows, mountedPages, mountedRange, pagesBetween } from './pageWindow';

const WINDOW = { overscan: 1200, maxPages: 30 };

describe('PageHeights', () => {
  it('adds up measured heights and estimates the rest at their average', () => {
    const heights = new PageHeights(5, 100);
    expect(heights.total).toBe(500);
    heights.measure(1, 200);
    heights.measure(3, 400);
    // measured: 200 and 400; the others at their average, 300
    expect([0, 1, 2, 3, 4, 5].map((i) => heights.offset(i))).toEqual([0, 300, 500, 800, 1200, 1500]);
    expect(heights.indexAt(0)).toBe(0);
    expect(heights.indexAt(299)).toBe(0);
    expect(heights.indexAt(300)).toBe(1);
    expect(heights.indexAt(1499)).toBe(4);
    expect(heights.indexAt(-50)).toBe(0);
    expect(heights.indexAt(99_999)).toBe(4);
  });

  it('tells whether a measurement changed anything, and forgets them all when the width changes', () => {
    const heights = new PageHeights(3, 100);
    expect(heights.measure(0, 150)).toBe(true);
    expect(heights.measure(0, 150.2)).toBe(false);
    expect(heights.measure(0, 0)).toBe(false); // not laid out: not a height
    expect(heights.measure(7, 10)).toBe(false);
    heights.clear();
    expect(heights.total).toBe(300);
    expect(heights.setFallback(200)).toBe(true);
    expect(heights.total).toBe(600);
  });
});

describe('mountedRange', () => {
  it('mounts the pages in view and within the overscan', () => {
    const heights = new PageHeights(100, 1000);
    // viewport 5,000-5,800: page 5 (0-based) in view, 3-7 within 1,200 px
    expect(mountedRange(heights, 5000, 5800, WINDOW)).toEqual({ first: 3, last: 7 });
    expect(mountedRange(heights, 0, 800, WINDOW)).toEqual({ first: 0, last: 2 });
    expect(mountedRange(heights, 99_500, 100_300, WINDOW)).toEqual({ first: 98, last: 99 });
    // a list below the viewport still mounts its first pages; one far above, its last
    expect(mountedRange(heights, -3000, -2200, WINDOW)).toEqual({ first: 0, last: 1 });
    expect(mountedRange(heights, 500_000, 500_800, WINDOW).last).toBe(99);
    expect(mountedRange(new PageHeights(0, 100), 0, 800, WINDOW)).toEqual({ first: 0, last: -1 });
  });

  it('keeps the count bounded for 10,000 pages wherever the viewport is, small pages or large', () => {
    for (const pageHeight of [40, 300, 1200]) {
      const heights = new PageHeights(10_000, pageHeight);
      for (const fraction of [0, 0.1, 0.5, 0.77, 1]) {
        const top = fraction * (heights.total - 900);
        const range = mountedRange(heights, top, top + 900, WINDOW);
        const count = range.last - range.first + 1;
        expect(count).toBeGreaterThan(0);
        expect(count).toBeLessThanOrEqual(30);
        // the pages in view are among them
        const seen = pagesBetween(heights, top, top + 900);
        expect(range.first).toBeLessThanOrEqual(seen.first);
        expect(range.last).toBeGreaterThanOrEqual(Math.min(seen.last, range.first + 29));
      }
    }
  });

  it('fills the bound evenly around the pages in view', () => {
    const heights = new PageHeights(10_000, 100);
    // 8 pages in view (5,000-5,800), 24 within the overscan on each side: 11 above and 11 below make 30
    expect(mountedRange(heights, 5000, 5800, WINDOW)).toEqual({ first: 39, last: 68 });
  });
});

describe('pagesBetween', () => {
  it('lists the pages a band of the list falls on', () => {
    const heights = new PageHeights(10, 100);
    expect(pagesBetween(heights, 150, 350)).toEqual({ first: 1, last: 3 });
    expect(pagesBetween(heights, 100, 200)).toEqual({ first: 1, last: 1 });
    expect(pagesBetween(heights, -500, -100)).toEqual({ first: 0, last: -1 });
    expect(pagesBetween(heights, 2000, 2500)).toEqual({ first: 0, last: -1 });
  });
});

describe('layoutRows', () => {
  it('stands gaps of the right height for the pages not mounted, so each page keeps its place', () => {
    const heights = new PageHeights(10, 100);
    heights.measure(3, 200);
    heights.measure(4, 400); // the others are taken at 300
    expect(layoutRows(heights, mountedPages({ first: 3, last: 4 }, [8]))).toEqual([
      { kind: 'gap', key: 'gap-0', height: 3 * 300 },
      { kind: 'page', key: 'page-3', index: 3 },
      { kind: 'page', key: 'page-4', index: 4 },
      { kind: 'gap', key: 'gap-3', height: 3 * 300 },
      { kind: 'page', key: 'page-8', index: 8 },
      { kind: 'gap', key: 'gap-5', height: 300 },
    ]);
    expect(layoutRows(heights, [])).toEqual([{ kind: 'gap', key: 'gap-0', height: heights.total }]);
  });

  it('mounts kept pages once, inside the window or outside, and only pages that exist', () => {
    expect(mountedPages({ first: 2, last: 4 }, [3, 4, 5], 10)).toEqual([2, 3, 4, 5]);
    expect(mountedPages({ first: 2, last: 4 }, [0, 1], 10)).toEqual([0, 1, 2, 3, 4]);
    expect(mountedPages({ first: 2, last: 4 }, [9, 10], 10)).toEqual([2, 3, 4, 9]);
    expect(mountedPages({ first: 2, last: 4 })).toEqual([2, 3, 4]);
  });
});

describe('ScrollMotion', () => {
  it('calls a jump of more than a screen, or a quick move, fast, and reading slow', () => {
    const motion = new ScrollMotion(3);
    expect(motion.moved(0, 0, 800)).toBe(false);
    expect(motion.moved(100, 100, 800)).toBe(false); // 1 px/ms: reading
    expect(motion.moved(2000, 5000, 800)).toBe(true); // a jump, however long after
    expect(motion.moved(2080, 5016, 800)).toBe(true); // 5 px/ms: flying
    expect(motion.moved(2090, 5032, 800)).toBe(false); // slowing down
    motion.start(0, 6000);
    expect(new ScrollMotion().moved(0, 0, 800)).toBe(false); // nothing to compare with
    expect(motion.moved(5000, 6016, 800)).toBe(true); // from where it started
  });
});
