import { afterEach, beforeEach, describe, expect, it, vi, type Mock } from 'vitest';
import { ApiError } from './api/problem';
import type { JobEventHandlers } from './api/client';
import type { Job } from './api/types';
import { JobsStore, type JobsApi } from './jobs.svelte';
import { makeAccepted, makeJob } from '../test/fixtures';

const ID = makeJob().job_id;

type FakeApi = { [K in keyof JobsApi]-?: Mock<NonNullable<JobsApi[K]>> };

/** One job event stream the test drives by hand. */
interface FakeStream {
  id: string;
  handlers: JobEventHandlers;
  closed: boolean;
  emit(job: Job): void;
  fail(error?: unknown): void;
}

let streams: FakeStream[] = [];

function fakeApi(impl: Partial<JobsApi> = {}): FakeApi {
  return {
    getJob: vi.fn<JobsApi['getJob']>(impl.getJob),
    cancelJob: vi.fn<JobsApi['cancelJob']>(impl.cancelJob),
    retryJob: vi.fn<JobsApi['retryJob']>(impl.retryJob),
    upload: vi.fn<NonNullable<JobsApi['upload']>>(impl.upload),
    deleteJob: vi.fn<JobsApi['deleteJob']>(impl.deleteJob ?? (async () => undefined)),
    jobEvents: vi.fn<JobsApi['jobEvents']>((id, handlers) => {
      const stream: FakeStream = {
        id,
        handlers,
        closed: false,
        emit: (job) => handlers.onStatus(job),
        fail: (error = new TypeError('stream lost')) => handlers.onError(error),
      };
      streams.push(stream);
      return () => void (stream.closed = true);
    }),
  };
}

describe('JobsStore', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    streams = [];
  });
  afterEach(() => vi.useRealTimers());

  it('polls every second without streams and stops at a final status', async () => {
    const api = fakeApi();
    api.getJob
      .mockResolvedValueOnce(makeJob({ status: 'processing', pages_done: 1, pages_total: 3 }))
      .mockResolvedValueOnce(makeJob({ status: 'processing', pages_done: 2, pages_total: 3 }))
      .mockResolvedValueOnce(makeJob({ status: 'completed', pages_done: 3, pages_total: 3 }));
    const store = new JobsStore(api, { maxStreams: 0 });

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
    const store = new JobsStore(api);

    const stopA = store.watch(ID);
    const stopB = store.watch(ID);
    expect(streams).toHaveLength(1);
    const source = streams[0];
    expect(source.id).toBe(ID);

    source.emit(makeJob({ status: 'processing', pages_done: 4, pages_total: 10 }));
    expect(store.get(ID)?.pages_done).toBe(4);
    stopA();
    expect(source.closed).toBe(false);
    source.emit(makeJob({ status: 'completed', pages_done: 10, pages_total: 10 }));
    expect(store.get(ID)?.status).toBe('completed');
    expect(source.closed).toBe(true);
    stopB();
  });

  it('falls back to polling when the stream gives up', async () => {
    const api = fakeApi({ getJob: vi.fn(async () => makeJob({ status: 'processing', pages_done: 5 })) });
    const store = new JobsStore(api);
    const stop = store.watch(ID);
    await vi.advanceTimersByTimeAsync(0);
    const calls = api.getJob.mock.calls.length;

    streams[0].fail();
    expect(streams[0].closed).toBe(true);
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
    const store = new JobsStore(api, { maxStreams: 2 });
    store.watch('a');
    store.watch('b');
    store.watch('c');
    expect(streams).toHaveLength(2);
    expect(api.getJob).toHaveBeenCalledWith('c');
  });

  it('marks a job gone when its stream is refused with 404, without polling it', async () => {
    const api = fakeApi({ getJob: vi.fn(async () => makeJob({ status: 'processing' })) });
    const store = new JobsStore(api);
    store.watch(ID);
    await vi.advanceTimersByTimeAsync(0);
    const calls = api.getJob.mock.calls.length;
    streams[0].fail(new ApiError(404, { code: 'not_found' }));
    expect(store.gone.has(ID)).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.getJob).toHaveBeenCalledTimes(calls);
  });

  it('marks a job the server no longer knows as gone', async () => {
    const api = fakeApi({ getJob: vi.fn(async () => Promise.reject(new ApiError(404, { code: 'not_found' }))) });
    const store = new JobsStore(api, { maxStreams: 0 });
    store.watch(ID);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.gone.has(ID)).toBe(true);
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.getJob).toHaveBeenCalledTimes(1);
  });

  it('tells whether a job still exists, asking the server once for a job it does not know', async () => {
    const earlier = makeJob({ job_id: 'earlier', status: 'completed' });
    const api = fakeApi({
      getJob: vi.fn(async (id: string) =>
        id === 'earlier' ? earlier : Promise.reject(new ApiError(404, { code: 'not_found' })),
      ),
    });
    const store = new JobsStore(api, { maxStreams: 0 });
    expect(await store.exists('earlier')).toBe(true);
    expect(await store.exists('earlier')).toBe(true);
    expect(await store.exists('deleted')).toBe(false);
    expect(await store.exists('deleted')).toBe(false);
    expect(api.getJob.mock.calls.map(([id]) => id)).toEqual(['earlier', 'deleted']);
    // a network failure says nothing for sure: no link rather than a broken one
    api.getJob.mockRejectedValueOnce(new TypeError('Failed to fetch'));
    expect(await store.exists('unknown')).toBe(false);
  });

  it('watches again after a retry brings a finished job back', async () => {
    const api = fakeApi({
      retryJob: vi.fn(async () => makeJob({ status: 'queued', attempts: 2 })),
      getJob: vi.fn(async () => makeJob({ status: 'processing', attempts: 2 })),
    });
    const store = new JobsStore(api, { maxStreams: 0 });
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
    const store = new JobsStore(api, { maxStreams: 0 });
    store.addUploaded(makeAccepted('one'), 10);
    store.addUploaded(makeAccepted('two'), 20);
    expect(store.session).toEqual(['two', 'one']);
    expect(store.get('one')?.status).toBe('queued');

    await store.remove('one');
    expect(api.deleteJob).toHaveBeenCalledWith('one');
    expect(store.session).toEqual(['two']);
    expect(store.get('one')).toBeUndefined();
  });

  it('fetches the other queued jobs again when one leaves the queue, as their own streams do not say they moved up', async () => {
    // three jobs, one stream each: A runs, B and C wait with 0 and 1 jobs ahead
    const server: Record<string, Job> = {
      a: makeJob({ job_id: 'a', status: 'processing' }),
      b: makeJob({ job_id: 'b', status: 'queued', queue_position: 0 }),
      c: makeJob({ job_id: 'c', status: 'queued', queue_position: 1 }),
    };
    const api = fakeApi({ getJob: vi.fn(async (id: string) => server[id]) });
    const store = new JobsStore(api);
    for (const id of ['a', 'b', 'c']) store.watch(id);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get('c')?.queue_position).toBe(1);
    // B starts (A finished meanwhile): B's stream says so; C's stream says nothing, as C itself did not change
    server.b = makeJob({ job_id: 'b', status: 'processing' });
    server.c = makeJob({ job_id: 'c', status: 'queued', queue_position: 0 });
    const calls = api.getJob.mock.calls.length;
    streams.find((stream) => stream.id === 'b')!.emit(server.b);
    await vi.advanceTimersByTimeAsync(0);
    expect(store.get('c')?.queue_position).toBe(0);
    // one fetch, for the one job still queued
    expect(api.getJob.mock.calls.slice(calls).map(([id]) => id)).toEqual(['c']);
  });

  it('polls quickly once every page is done, so the card says "completed" when the server does', async () => {
    let finished = false;
    const api = fakeApi({
      getJob: vi.fn(async () =>
        finished
          ? makeJob({ status: 'completed', pages_done: 10, pages_total: 10 })
          : makeJob({ status: 'processing', pages_done: 10, pages_total: 10 }),
      ),
    });
    const store = new JobsStore(api, { finishInterval: 200 });
    store.watch(ID);
    streams[0].emit(makeJob({ status: 'processing', pages_done: 10, pages_total: 10 }));
    await vi.advanceTimersByTimeAsync(450);
    expect(store.get(ID)?.status).toBe('processing');
    // the server's status turns "completed"; its stream stays silent for a while
    finished = true;
    await vi.advanceTimersByTimeAsync(250);
    expect(store.get(ID)?.status).toBe('completed');
    const calls = api.getJob.mock.calls.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.getJob).toHaveBeenCalledTimes(calls); // and then stops
  });

  it('keeps a status that arrived while a fetch was under way, rather than the fetch\'s older answer', async () => {
    let answer: (job: Job) => void = () => {};
    const api = fakeApi({ getJob: vi.fn(() => new Promise<Job>((resolve) => (answer = resolve))) });
    const store = new JobsStore(api);
    store.watch(ID);
    streams[0].emit(makeJob({ status: 'processing', pages_done: 3, pages_total: 10 }));
    const fetching = store.refresh(ID);
    streams[0].emit(makeJob({ status: 'completed', pages_done: 10, pages_total: 10 }));
    answer(makeJob({ status: 'processing', pages_done: 5, pages_total: 10 }));
    await fetching;
    expect(store.get(ID)?.status).toBe('completed');
  });

  it('uploads the file of a job of this tab again with another page range', async () => {
    const upload = vi.fn(async () => makeAccepted('new'));
    const api = fakeApi({ upload });
    const store = new JobsStore(api, { maxStreams: 0 });
    const file = new File(['%PDF-1.7'], 'one-page.pdf');
    store.addUploaded(makeAccepted('old'), file.size, { file, pages: '5-9', options: ['tables'] });
    store.addUploaded(makeAccepted('elsewhere'), 1);
    expect(store.canReupload('old')).toBe(true);
    expect(store.canReupload('elsewhere')).toBe(false);

    await store.reupload('old', '1');
    expect(upload).toHaveBeenCalledWith({ file, pages: '1', options: ['tables'] });
    expect(store.session).toEqual(['new', 'elsewhere']);
    expect(store.canReupload('new')).toBe(true);
  });
});
