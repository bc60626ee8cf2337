import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import { ApiError } from './api/problem';
import type { Job } from './api/types';
import { JobsStore, type JobsApi } from './jobs.svelte';
import { makeJob } from '../test/fixtures';

const ID = makeJob().job_id;

type FakeApi = { [K in keyof JobsApi]: Mock<JobsApi[K]> };

function fakeApi(impl: Partial<JobsApi> = {}): FakeApi {
  return {
    getJob: vi.fn<JobsApi['getJob']>(impl.getJob),
    cancelJob: vi.fn<JobsApi['cancelJob']>(impl.cancelJob),
    retryJob: vi.fn<JobsApi['retryJob']>(impl.retryJob),
    deleteJob: vi.fn<JobsApi['deleteJob']>(impl.deleteJob ?? (async () => undefined)),
    eventsUrl: vi.fn<JobsApi['eventsUrl']>(impl.eventsUrl ?? ((id) => `/jobs/${id}/events`)),
  };
}

/** A minimal EventSource the test drives by hand. */
class FakeEventSource extends EventTarget {
  static instances: FakeEventSource[] = [];
  closed = false;
  constructor(readonly url: string) {
    super();
    FakeEventSource.instances.push(this);
  }
  close() {
    this.closed = true;
  }
  emit(job: Job) {
    this.dispatchEvent(new MessageEvent('status', { data: JSON.stringify(job) }));
  }
  fail() {
    this.dispatchEvent(new Event('error'));
  }
}

describe('JobsStore', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    FakeEventSource.instances = [];
  });
  afterEach(() => vi.useRealTimers());

  it('polls every second without EventSource and stops at a final status', async () => {
    const api = fakeApi();
    api.getJob
      .mockResolvedValueOnce(makeJob({ status: 'processing', pages_done: 1, pages_total: 3 }))
      .mockResolvedValueOnce(makeJob({ status: 'processing', pages_done: 2, pages_total: 3 }))
      .mockResolvedValueOnce(makeJob({ status: 'completed', pages_done: 3, pages_total: 3 }));
    const store = new JobsStore(api, { eventSource: null });

    store.watch(ID);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get(ID)?.pages_done).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.get(ID)?.pages_done).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(store.get(ID)?.status).toBe('completed');
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.getJob).toHaveBeenCalledTimes(3);
  });

  it('streams Server-Sent Events, closes on a final status, and shares one stream between watchers', async () => {
    const api = fakeApi({ getJob: vi.fn(async () => makeJob({ status: 'queued' })) });
    const store = new JobsStore(api, { eventSource: FakeEventSource as unknown as typeof EventSource });

    const stopA = store.watch(ID);
    const stopB = store.watch(ID);
    expect(FakeEventSource.instances).toHaveLength(1);
    const source = FakeEventSource.instances[0];
    expect(source.url).toBe(`/jobs/${ID}/events`);

    source.emit(makeJob({ status: 'processing', pages_done: 4, pages_total: 10 }));
    expect(store.get(ID)?.pages_done).toBe(4);
    stopA();
    expect(source.closed).toBe(false);
    source.emit(makeJob({ status: 'completed', pages_done: 10, pages_total: 10 }));
    expect(store.get(ID)?.status).toBe('completed');
    expect(source.closed).toBe(true);
    stopB();
  });

  it('falls back to polling when the stream fails', async () => {
    const api = fakeApi({ getJob: vi.fn(async () => makeJob({ status: 'processing', pages_done: 5 })) });
    const store = new JobsStore(api, { eventSource: FakeEventSource as unknown as typeof EventSource });
    const stop = store.watch(ID);
    await vi.advanceTimersByTimeAsync(0);
    const calls = api.getJob.mock.calls.length;

    FakeEventSource.instances[0].fail();
    expect(FakeEventSource.instances[0].closed).toBe(true);
    await vi.advanceTimersByTimeAsync(2000);
    expect(api.getJob.mock.calls.length).toBeGreaterThanOrEqual(calls + 2);
    expect(store.get(ID)?.pages_done).toBe(5);

    stop();
    const after = api.getJob.mock.calls.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.getJob.mock.calls.length).toBe(after);
  });

  it('opens at most maxStreams streams; further jobs poll', () => {
    const api = fakeApi({ getJob: vi.fn(async () => makeJob({ status: 'queued' })) });
    const store = new JobsStore(api, { maxStreams: 2, eventSource: FakeEventSource as unknown as typeof EventSource });
    store.watch('a');
    store.watch('b');
    store.watch('c');
    expect(FakeEventSource.instances).toHaveLength(2);
    expect(api.getJob).toHaveBeenCalledWith('c');
  });

  it('marks a job the server no longer knows as gone', async () => {
    const api = fakeApi({ getJob: vi.fn(async () => Promise.reject(new ApiError(404, { code: 'not_found' }))) });
    const store = new JobsStore(api, { eventSource: null });
    store.watch(ID);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.gone.has(ID)).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.getJob).toHaveBeenCalledTimes(1);
  });

  it('watches again after a retry brings a finished job back', async () => {
    const api = fakeApi({
      retryJob: vi.fn(async () => makeJob({ status: 'queued', attempts: 2 })),
      getJob: vi.fn(async () => makeJob({ status: 'processing', attempts: 2 })),
    });
    const store = new JobsStore(api, { eventSource: null });
    store.upsert(makeJob({ status: 'failed', error: { code: 'encrypted', message: 'x' } }));
    store.watch(ID);
    await vi.advanceTimersByTimeAsync(0);
    expect(api.getJob).not.toHaveBeenCalled(); // finished: nothing to watch

    await store.retry(ID, 'pw');
    expect(api.retryJob).toHaveBeenCalledWith(ID, 'pw');
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get(ID)?.status).toBe('processing');
  });

  it('adds uploaded jobs first in the session and forgets deleted ones', async () => {
    const api = fakeApi();
    const store = new JobsStore(api, { eventSource: null });
    const accepted = (id: string) => ({
      status: 'accepted' as const,
      job_id: id,
      filename: `${id}.pdf`,
      file_type: 'pdf',
      message: '',
      status_url: '',
      result_url: '',
    });
    store.addUploaded(accepted('one'), 10);
    store.addUploaded(accepted('two'), 20);
    expect(store.session).toEqual(['two', 'one']);
    expect(store.get('one')?.status).toBe('queued');

    await store.remove('one');
    expect(api.deleteJob).toHaveBeenCalledWith('one');
    expect(store.session).toEqual(['two']);
    expect(store.get('one')).toBeUndefined();
  });
});
