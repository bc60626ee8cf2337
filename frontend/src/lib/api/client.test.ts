import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, type KeySource } from './client';
import { ApiError, errorMessage, parseRetryAfter } from './problem';
import { i18n } from '../i18n.svelte';
import { jsonResponse, makeConfig, makeJob, readRequest } from '../../test/fixtures';

function keys(initial: string | null, next: string | null = null): KeySource & { requestKey: ReturnType<typeof vi.fn> } {
  const source = {
    key: initial,
    requestKey: vi.fn(async () => {
      if (next === null) return false;
      source.key = next;
      return true;
    }),
  };
  return source;
}

/** A stubbed fetch that records every request it was sent. */
function serve(...responses: Response[]) {
  const seen: Awaited<ReturnType<typeof readRequest>>[] = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    seen.push(await readRequest(input, init));
    return responses.length > 1 ? responses.shift()! : responses[0].clone();
  });
  vi.stubGlobal('fetch', fetch);
  return seen;
}

describe('ApiClient', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('turns a problem-details answer into an ApiError whose message is the detail', async () => {
    serve(
      jsonResponse(
        { type: 'about:blank', title: 'Too Many Requests', status: 429, detail: 'Slow down.', code: 'too_many_requests' },
        429,
        { 'Retry-After': '7' },
      ),
    );
    const error = await new ApiClient().getJob('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('too_many_requests');
    expect((error as ApiError).retryAfter).toBe(7);
    i18n.set('en');
    expect(errorMessage(error)).toBe('Slow down. Try again in 7 s.');
  });

  it('keeps a plain-text error body as the detail, and passes network failures through', async () => {
    serve(new Response('Bad gateway, try later', { status: 502, headers: { 'Content-Type': 'text/plain' } }));
    const error = (await new ApiClient().getJob('x').catch((e: unknown) => e)) as ApiError;
    expect([error.status, error.message]).toEqual([502, 'Bad gateway, try later']);

    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))));
    const offline = await new ApiClient().listJobs().catch((e: unknown) => e);
    expect(offline).toBeInstanceOf(TypeError);
  });

  it('asks for a key on 401 and repeats the request with it as a Bearer token', async () => {
    const seen = serve(
      jsonResponse({ status: 401, code: 'unauthorized', detail: 'API key required.' }, 401),
      jsonResponse(makeJob()),
    );
    const source = keys(null, 'k-123');
    const job = await new ApiClient('', source).getJob('abc');
    expect(job.job_id).toBe(makeJob().job_id);
    expect(source.requestKey).toHaveBeenCalledOnce();
    expect(seen[0].headers.get('Authorization')).toBeNull();
    expect(seen[1].headers.get('Authorization')).toBe('Bearer k-123');
  });

  it('gives up with the 401 when no key is entered', async () => {
    serve(jsonResponse({ status: 401, code: 'unauthorized' }, 401));
    const error = await new ApiClient('', keys(null)).listJobs().catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(401);
  });

  it('builds the URLs of the contract, never with the key in them', () => {
    const client = new ApiClient('http://api.test/', keys('s e/cret'));
    expect(client.pageImageUrl('j1', 3, 800)).toBe('http://api.test/jobs/j1/pages/3/image?width=800');
    expect(client.resultUrl('j1', 'text')).toBe('http://api.test/jobs/j1/result?format=text');
    expect(new ApiClient().resultUrl('j 1', 'json')).toBe(`${location.origin}/jobs/j%201/result?format=json`);
  });

  it('lists jobs with the filter and cursor, and sends the retry password as JSON', async () => {
    const seen = serve(jsonResponse({ jobs: [], next_cursor: null }));
    const client = new ApiClient('http://api.test');
    await client.listJobs({ status: 'failed', limit: 5, cursor: 'abc' });
    expect(seen[0].url.href).toBe('http://api.test/jobs?status=failed&limit=5&cursor=abc');
    await client.listJobs({ status: '' });
    expect(seen[1].url.search).toBe('?limit=20');

    await client.retryJob('j1', 'pw');
    expect(seen[2]).toMatchObject({ method: 'POST', body: '{"password":"pw"}' });
    expect(seen[2].url.pathname).toBe('/jobs/j1/retry');
    expect(seen[2].headers.get('Content-Type')).toBe('application/json');
  });

  it("reads the server's limits from /config", async () => {
    serve(jsonResponse(makeConfig({ max_upload_bytes: 5, max_pages: 2 })));
    const config = await new ApiClient().getConfig();
    expect(config).toMatchObject({ max_upload_bytes: 5, max_pages: 2 });
    expect(config.supported_types).toContain('pdf');
  });

  it('fetches a resource with the key header for elements that cannot send one', async () => {
    const seen = serve(new Response('png', { headers: { 'Content-Type': 'image/png' } }));
    const client = new ApiClient('http://api.test', keys('k'));
    const blob = await client.blob(client.pageImageUrl('j1', 1, 400));
    expect(await blob.text()).toBe('png');
    expect(seen[0].headers.get('Authorization')).toBe('Bearer k');
  });

  it('uploads with XMLHttpRequest, reporting byte progress', async () => {
    const sent: { body?: FormData; url?: string; headers: Record<string, string> } = { headers: {} };
    class FakeXhr extends EventTarget {
      status = 0;
      responseText = '';
      upload = new EventTarget();
      open(_method: string, url: string) {
        sent.url = url;
      }
      setRequestHeader(name: string, value: string) {
        sent.headers[name] = value;
      }
      getResponseHeader() {
        return 'application/json';
      }
      abort() {}
      send(body: FormData) {
        sent.body = body;
        this.upload.dispatchEvent(Object.assign(new Event('progress'), { loaded: 5, total: 10, lengthComputable: true }));
        this.status = 202;
        this.responseText = JSON.stringify({ status: 'accepted', job_id: 'j9', filename: 'a.pdf' });
        this.dispatchEvent(new Event('load'));
      }
    }
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    const progress = vi.fn();
    const accepted = await new ApiClient('http://api.test', keys('key')).upload({
      file: new File(['%PDF'], 'a.pdf'),
      pages: '1-2',
      options: ['tables', 'markdown'],
      reuse: false,
      callbackUrl: ' https://hooks.example.com/docparse ',
      onProgress: progress,
    });
    expect(accepted.job_id).toBe('j9');
    expect(sent.url).toBe('http://api.test/upload');
    expect(progress).toHaveBeenCalledWith(5, 10);
    expect(sent.headers.Authorization).toBe('Bearer key');
    expect(sent.body?.get('pages')).toBe('1-2');
    expect(sent.body?.get('options')).toBe('tables,markdown');
    expect((sent.body?.get('file') as File).name).toBe('a.pdf');
    expect(sent.body?.has('password')).toBe(false);
    expect(sent.body?.get('reuse')).toBe('false');
    expect(sent.body?.get('callback_url')).toBe('https://hooks.example.com/docparse');
  });

  it("sends the UI's language as Accept-Language on every request: SDK calls, the event stream and uploads", async () => {
    const seen = serve(jsonResponse(makeJob()));
    i18n.set('ko');
    const client = new ApiClient('http://api.test');
    await client.getJob('j1');
    expect(seen[0].headers.get('Accept-Language')).toBe('ko');
    i18n.set('en');
    await client.cancelJob('j1');
    expect(seen[1].headers.get('Accept-Language')).toBe('en');

    i18n.set('ko');
    const close = client.jobEvents('j1', { onStatus: vi.fn(), onError: vi.fn() });
    await vi.waitFor(() => expect(seen).toHaveLength(3));
    close();
    expect(seen[2].url.pathname).toBe('/jobs/j1/events');
    expect(seen[2].headers.get('Accept-Language')).toBe('ko');

    const headers: Record<string, string> = {};
    class FakeXhr extends EventTarget {
      status = 202;
      responseText = JSON.stringify({ status: 'accepted', job_id: 'j9', filename: 'a.pdf' });
      upload = new EventTarget();
      open() {}
      setRequestHeader(name: string, value: string) {
        headers[name] = value;
      }
      getResponseHeader() {
        return 'application/json';
      }
      abort() {}
      send() {
        this.dispatchEvent(new Event('load'));
      }
    }
    vi.stubGlobal('XMLHttpRequest', FakeXhr);
    await client.upload({ file: new File(['%PDF'], 'a.pdf') });
    expect(headers['Accept-Language']).toBe('ko');
    i18n.set('en');
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThanOrEqual(29);
    expect(parseRetryAfter(null)).toBeNull();
  });
});
