/** Derived numbers for showing a job's progress. */
import type { Job } from './api/types';

export interface EtaOptions {
  /** The rate is measured over the statuses of this many recent seconds. */
  windowSeconds?: number;
  /** Say nothing until pages were seen being parsed for this long... */
  minSeconds?: number;
  /** ...and this many of them. */
  minPages?: number;
  /** Time constant of the shown estimate's correction toward a new figure: larger is calmer. */
  dampSeconds?: number;
}

interface Sample {
  time: number;
  done: number;
}

/**
 * The time left of a running job, from the rate of pages seen parsed in this page over a sliding window (not from
 * `started_at`: opening a document and a first burst of pages say nothing of the pace). Silent until the rate is
 * meaningful; the shown figure counts down between statuses and moves toward each new estimate gradually, so it
 * does not jump by seconds at every status. Feed it every status with `observe`, read it with `estimate`.
 */
export class EtaEstimator {
  readonly #window: number;
  readonly #minMs: number;
  readonly #minPages: number;
  readonly #damp: number;
  #samples: Sample[] = [];
  #first: Sample | null = null;
  #total: number | null = null;
  #shown: number | null = null;
  #shownAt = 0;

  constructor({ windowSeconds = 20, minSeconds = 3, minPages = 3, dampSeconds = 6 }: EtaOptions = {}) {
    this.#window = windowSeconds * 1000;
    this.#minMs = minSeconds * 1000;
    this.#minPages = minPages;
    this.#damp = dampSeconds;
  }

  /** Records a status seen at `now` (ms). A new total or fewer pages (a retry) starts over. */
  observe(done: number, total: number | null, now: number): void {
    const last = this.#samples.at(-1);
    if (total !== this.#total || (last && done < last.done)) this.reset();
    this.#total = total;
    if (last && done === last.done && this.#samples.length > 0) return; // nothing new: time passing is in estimate
    const sample = { time: now, done };
    this.#first ??= sample;
    this.#samples.push(sample);
    // keep one sample at or before the window's start, so the window always spans its full length
    while (this.#samples.length > 2 && this.#samples[1].time <= now - this.#window) this.#samples.shift();
  }

  /** Seconds left (at least 1 while pages remain), or null while there is nothing meaningful to say. */
  estimate(now: number): number | null {
    const raw = this.#raw(now);
    if (raw === null) {
      this.#shown = null;
      return null;
    }
    if (this.#shown === null) {
      this.#shown = raw;
    } else {
      const elapsed = Math.max(0, now - this.#shownAt) / 1000;
      const predicted = this.#shown - elapsed;
      this.#shown = predicted + (raw - predicted) * (1 - Math.exp(-elapsed / this.#damp));
    }
    this.#shownAt = Math.max(now, this.#shownAt);
    return Math.max(1, this.#shown);
  }

  reset(): void {
    this.#samples = [];
    this.#first = null;
    this.#shown = null;
  }

  #raw(now: number): number | null {
    const total = this.#total;
    const first = this.#first;
    const last = this.#samples.at(-1);
    if (!total || !first || !last) return null;
    const remaining = total - last.done;
    if (remaining <= 0) return null;
    if (last.time - first.time < this.#minMs || last.done - first.done < this.#minPages) return null;
    const start = this.#samples[0];
    const rate = (last.done - start.done) / ((last.time - start.time) / 1000);
    if (!(rate > 0)) return null;
    // time since the last status counts down; a stall past the estimate keeps it at its floor, not below
    return remaining / rate - Math.max(0, now - last.time) / 1000;
  }
}

/**
 * An ETA in steps a person can read without it flickering: "almost done" (null) under 5 s, whole 5 s under a
 * minute, 10 s under 10 minutes, then minutes.
 */
export function roundEta(seconds: number): number | null {
  if (seconds < 5) return null;
  if (seconds < 60) return Math.ceil(seconds / 5) * 5;
  if (seconds < 600) return Math.round(seconds / 10) * 10;
  return Math.round(seconds / 60) * 60;
}

/** Whole seconds between two ISO timestamps, or null. */
export function secondsBetween(start: string | null, end: string | null): number | null {
  if (!start || !end) return null;
  const seconds = (Date.parse(end) - Date.parse(start)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

/** 0–100 for the progress bar: the server's figure, or pages done over pages total when that is larger. */
export function percent(job: Job): number {
  const fromPages = job.pages_total ? (job.pages_done / job.pages_total) * 100 : 0;
  const value = Math.max(job.progress || 0, fromPages, job.status === 'completed' ? 100 : 0);
  return Math.min(100, Math.max(0, Math.round(value)));
}

/** A job that has pages to look at: completed, or stopped/running after some pages were parsed. */
export function hasResult(job: Job): boolean {
  return job.status === 'completed' || job.pages_done > 0;
}

/** [1,2,3,7,9,10] → "1–3, 7, 9–10". */
export function compactPages(pages: readonly number[]): string {
  const sorted = [...new Set(pages)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; i++) {
    const start = sorted[i];
    while (i + 1 < sorted.length && sorted[i + 1] === sorted[i] + 1) i++;
    parts.push(start === sorted[i] ? `${start}` : `${start}–${sorted[i]}`);
  }
  return parts.join(', ');
}
