import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient } from './client';
import { ApiError } from './problem';
import type { Job } from './types';
import { jsonResponse, makeJob, readRequest } from '../../test/fixtures';

/** An event stream answer the test writes to, chunk by chunk. */
function eventStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  const encoder = new TextEncoder();
  return {
    response: new Response(body, { headers: { 'Content-Type': 'text/event-stream' } }),
    send: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
    drop: () => controller.error(new TypeError('network connection lost')),
  };
}

function status(job: Job, id: string): string {
  return `event: status\nid: ${id}\ndata: ${JSON.stringify(job)}\n\n`;
}

const ID = makeJob().job_id;
const client = () => new ApiClient('http://api.test', { key: 'sekrit', requestKey: async () => false });

describe('job events over fetch', () => {
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it('sends the key as a header, never in the URL, and hands over each status', async () => {
    const stream = eventStream();
    const seen: Awaited<ReturnType<typeof readRequest>>[] = [];
    vi.stubGlobal('fetch', vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push(await readRequest(input, init));
      return stream.response;
    }));
    const onStatus = vi.fn();
    const close = client().jobEvents(ID, { onStatus, onError: vi.fn() });

    // one event split across chunks, then a comment (the server's keep-alive) and a second event
    const first = status(makeJob({ status: 'processing', pages_done: 1 }), 'processing:1:1:0');
    stream.send(first.slice(0, 20));
    stream.send(first.slice(20) + ': ping\n\n' + status(makeJob({ status: 'processing', pages_done: 2 }), 'b'));
    await vi.waitFor(() => expect(onStatus).toHaveBeenCalledTimes(2));
    expect(onStatus.mock.calls.map(([job]) => job.pages_done)).toEqual([1, 2]);

    expect(seen[0].url.href).toBe(`http://api.test/jobs/${ID}/events`);
    expect(seen[0].headers.get('Authorization')).toBe('Bearer sekrit');
    expect(seen[0].headers.get('Accept')).toBe('text/event-stream');
    close();
  });

  it('reconnects with Last-Event-ID after the delay the server asks for', async () => {
    vi.useFakeTimers();
    const streams = [eventStream(), eventStream()];
    const seen: Headers[] = [];
    vi.stubGlobal('fetch', vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push((await readRequest(input, init)).headers);
      return streams[seen.length - 1].response;
    }));
    const onStatus = vi.fn();
    const onError = vi.fn();
    const close = client().jobEvents(ID, { onStatus, onError });

    streams[0].send('retry: 500\n\n' + status(makeJob({ status: 'processing', pages_done: 3 }), 'processing:1:3:0'));
    await vi.waitFor(() => expect(onStatus).toHaveBeenCalledOnce());
    streams[0].drop();
    await vi.advanceTimersByTimeAsync(499);
    expect(seen).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toHaveLength(2);
    expect(seen[1].get('Last-Event-ID')).toBe('processing:1:3:0');

    streams[1].send(status(makeJob({ status: 'completed', pages_done: 5 }), 'completed:1:5:0'));
    await vi.waitFor(() => expect(onStatus).toHaveBeenCalledTimes(2));
    close();
    expect(onError).not.toHaveBeenCalled();
  });

  it('gives up after failed reconnects, and at once on an error answer, so the caller can poll', async () => {
    vi.useFakeTimers();
    const fetch = vi.fn(async () => Promise.reject(new TypeError('Failed to fetch')));
    vi.stubGlobal('fetch', fetch);
    const onError = vi.fn();
    client().jobEvents(ID, { onStatus: vi.fn(), onError });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(onError).toHaveBeenCalledOnce();
    expect(onError.mock.calls[0][0]).toBeInstanceOf(TypeError);

    const gone = vi.fn(async () => jsonResponse({ status: 404, code: 'not_found', detail: 'No such job.' }, 404));
    vi.stubGlobal('fetch', gone);
    const onGone = vi.fn();
    client().jobEvents(ID, { onStatus: vi.fn(), onError: onGone });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(gone).toHaveBeenCalledOnce();
    expect((onGone.mock.calls[0][0] as ApiError).status).toBe(404);
  });

  it('calls nothing after it is closed', async () => {
    const stream = eventStream();
    vi.stubGlobal('fetch', vi.fn(async () => stream.response));
    const onStatus = vi.fn();
    const onError = vi.fn();
    const close = client().jobEvents(ID, { onStatus, onError });
    await vi.waitFor(() => expect(fetch).toHaveBeenCalled());
    close();
    stream.send(status(makeJob(), 'x'));
    stream.end();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(onStatus).not.toHaveBeenCalled();
    expect(onError).not.toHaveBeenCalled();
  });
});
