/**
 * Windowing of a long list of pages: heights measured where pages were shown and estimated elsewhere, the pages to
 * mount for a scroll position (a bounded number, however long the document), and whether the reader is moving fast.
 * Pages are 0-based indices here; the viewer shows them 1-based.
 */

/** Heights of `count` pages: measured ones as measured, the others at the average of the measured (or a fallback). */
export class PageHeights {
  readonly count: number;
  readonly #measured: Float64Array; // 0: not measured
  #measuredCount = 0;
  #measuredSum = 0;
  #fallback: number;
  #offsets: Float64Array | null = null; // count + 1 running sums, rebuilt when a height changes

  constructor(count: number, fallback: number) {
    this.count = Math.max(0, Math.floor(count));
    this.#measured = new Float64Array(this.count);
    this.#fallback = fallback;
  }

  /** The height taken for a page not measured yet. */
  get estimate(): number {
    return this.#measuredCount > 0 ? this.#measuredSum / this.#measuredCount : this.#fallback;
  }

  /** The estimate before any page is measured (from the page's aspect and the list's width). */
  setFallback(height: number): boolean {
    if (!(height > 0) || Math.abs(height - this.#fallback) < 0.5) return false;
    this.#fallback = height;
    if (this.#measuredCount === 0) this.#offsets = null;
    return this.#measuredCount === 0;
  }

  isMeasured(index: number): boolean {
    return this.#measured[index] > 0;
  }

  height(index: number): number {
    return this.#measured[index] || this.estimate;
  }

  /** Records a page's height as laid out; true when it changed. */
  measure(index: number, height: number): boolean {
    if (index < 0 || index >= this.count || !(height > 0)) return false;
    const old = this.#measured[index];
    if (Math.abs(old - height) < 0.5) return false;
    if (old > 0) this.#measuredSum -= old;
    else this.#measuredCount += 1;
    this.#measuredSum += height;
    this.#measured[index] = height;
    this.#offsets = null;
    return true;
  }

  /** Forgets every measurement (the width changed, so every height did). */
  clear(): void {
    this.#measured.fill(0);
    this.#measuredCount = 0;
    this.#measuredSum = 0;
    this.#offsets = null;
  }

  #sums(): Float64Array {
    if (this.#offsets) return this.#offsets;
    const sums = new Float64Array(this.count + 1);
    const estimate = this.estimate;
    for (let i = 0; i < this.count; i++) sums[i + 1] = sums[i] + (this.#measured[i] || estimate);
    this.#offsets = sums;
    return sums;
  }

  /** Distance from the top of the list to the top of page `index` (`count` gives the whole height). */
  offset(index: number): number {
    return this.#sums()[Math.min(Math.max(0, index), this.count)];
  }

  get total(): number {
    return this.offset(this.count);
  }

  /** The page at distance `y` from the top of the list (the first or last page beyond the ends). */
  indexAt(y: number): number {
    if (this.count === 0) return 0;
    const sums = this.#sums();
    let low = 0;
    let high = this.count - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (sums[mid] <= y) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}

/** A run of pages, first to last inclusive; empty when last < first. */
export interface PageRange {
  first: number;
  last: number;
}

export const EMPTY_RANGE: PageRange = { first: 0, last: -1 };

/** The pages that any part of [top, bottom) of the list falls on. */
export function pagesBetween(heights: PageHeights, top: number, bottom: number): PageRange {
  if (heights.count === 0 || bottom <= 0 || top >= heights.total) return EMPTY_RANGE;
  return { first: heights.indexAt(top), last: heights.indexAt(Math.max(top, bottom - 0.01)) };
}

export interface WindowOptions {
  /** Pixels above and below the viewport whose pages are mounted too. */
  overscan: number;
  /** Never more pages than this, however small they are. */
  maxPages: number;
}

/**
 * The pages to mount for a viewport at [top, bottom) of the list: the pages in view and those within `overscan`
 * of it, at most `maxPages` of them (those in view first, then evenly around them).
 */
export function mountedRange(heights: PageHeights, top: number, bottom: number, options: WindowOptions): PageRange {
  const count = heights.count;
  if (count === 0) return EMPTY_RANGE;
  const viewTop = Math.min(Math.max(0, top), Math.max(0, heights.total - 1));
  const viewBottom = Math.max(viewTop + 1, bottom);
  const first = heights.indexAt(viewTop - options.overscan);
  const last = heights.indexAt(viewBottom + options.overscan);
  const max = Math.max(1, options.maxPages);
  if (last - first + 1 <= max) return { first, last };
  const seen = pagesBetween(heights, viewTop, viewBottom);
  if (seen.last - seen.first + 1 >= max) return { first: seen.first, last: seen.first + max - 1 };
  const spare = max - (seen.last - seen.first + 1);
  let above = Math.min(seen.first - first, Math.floor(spare / 2));
  const below = Math.min(last - seen.last, spare - above);
  above = Math.min(seen.first - first, spare - below);
  return { first: seen.first - above, last: seen.last + below };
}

/** What the list shows in order: pages, and gaps of the height of the pages not mounted between them. */
export type Row = { kind: 'gap'; key: string; height: number } | { kind: 'page'; key: string; index: number };

/** Rows for the mounted pages `indices` (ascending, unique): every page keeps its place and the list its height. */
export function layoutRows(heights: PageHeights, indices: readonly number[]): Row[] {
  const rows: Row[] = [];
  let next = 0;
  for (const index of indices) {
    if (index > next) rows.push({ kind: 'gap', key: `gap-${rows.length}`, height: heights.offset(index) - heights.offset(next) });
    rows.push({ kind: 'page', key: `page-${index}`, index });
    next = index + 1;
  }
  if (next < heights.count) rows.push({ kind: 'gap', key: `gap-${rows.length}`, height: heights.total - heights.offset(next) });
  return rows;
}

/** The mounted pages: the window, and pages outside it that must stay (`extra`, below `count`). */
export function mountedPages(range: PageRange, extra: readonly number[] = [], count = Infinity): number[] {
  const pages: number[] = [];
  for (let i = range.first; i <= range.last; i++) pages.push(i);
  const outside = extra.filter((i) => i >= 0 && i < count && (i < range.first || i > range.last));
  if (outside.length === 0) return pages;
  return [...new Set([...pages, ...outside])].sort((a, b) => a - b);
}

/**
 * Tells a reader moving fast (a jump of more than a screen, or faster than `fastSpeed` pixels per millisecond) from
 * one reading or stopped: pages are fetched only where the reader is slow or stops.
 */
export class ScrollMotion {
  #lastY: number | null = null;
  #lastTime = 0;

  constructor(readonly fastSpeed = 3) {}

  /** Where the reader starts (else the first move, of unknown length, counts as slow). */
  start(y: number, time: number): void {
    this.#lastY = y;
    this.#lastTime = time;
  }

  /** Records a scroll position; true when this move was fast. */
  moved(y: number, time: number, viewportHeight: number): boolean {
    const lastY = this.#lastY;
    const elapsed = Math.max(16, time - this.#lastTime);
    this.#lastY = y;
    this.#lastTime = time;
    if (lastY === null) return false;
    const distance = Math.abs(y - lastY);
    return distance > viewportHeight || distance / elapsed > this.fastSpeed;
  }
}
