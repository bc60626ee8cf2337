import { describe, expect, it, vi } from 'vitest';
import type { ApiClient } from './api/client';
import { HistoryStore } from './history.svelte';
import { JobsStore } from './jobs.svelte';
import { makeJob } from '../test/fixtures';

describe('HistoryStore', () => {
  it('loads, filters and pages with next_cursor', async () => {
    const listJobs = vi.fn<ApiClient['listJobs']>(async ({ cursor } = {}) =>
      cursor
        ? { jobs: [makeJob({ job_id: 'c' })], next_cursor: null }
        : { jobs: [makeJob({ job_id: 'a' }), makeJob({ job_id: 'b' })], next_cursor: 'page-2' },
    );
    const jobs = new JobsStore(
      { getJob: vi.fn(), cancelJob: vi.fn(), retryJob: vi.fn(), deleteJob: vi.fn(async () => undefined), jobEvents: vi.fn() },
      { maxStreams: 0 },
    );
    const history = new HistoryStore({ listJobs }, jobs, 2);

    history.status = 'failed';
    await history.load();
    expect(listJobs).toHaveBeenLastCalledWith({ status: 'failed', limit: 2, cursor: null });
    expect(history.rows.map((job) => job.job_id)).toEqual(['a', 'b']);
    expect(history.nextCursor).toBe('page-2');

    await history.more();
    expect(listJobs).toHaveBeenLastCalledWith({ status: 'failed', limit: 2, cursor: 'page-2' });
    expect(history.rows.map((job) => job.job_id)).toEqual(['a', 'b', 'c']);
    expect(history.nextCursor).toBeNull();

    await history.remove('b');
    expect(history.rows.map((job) => job.job_id)).toEqual(['a', 'c']);
  });
});
