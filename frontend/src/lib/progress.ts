/** Derived numbers for showing a job's progress. */
import type { Job } from './api/types';

/** Seconds left, from the pages parsed since the job started; null while there is nothing to go by. */
export function etaSeconds(job: Job, now: number): number | null {
  if (job.status !== 'processing' || !job.started_at || !job.pages_total || job.pages_done <= 0) return null;
  const remaining = job.pages_total - job.pages_done;
  if (remaining <= 0) return null;
  const elapsed = (now - Date.parse(job.started_at)) / 1000;
  if (!(elapsed > 0)) return null;
  return (remaining * elapsed) / job.pages_done;
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
