import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, DEFAULT_CONFIG, type KeySource } from './client';
import { ApiError, errorMessage, parseRetryAfter } from './problem';
import { i18n } from '../i18n.svelte';
import { jsonResponse, makeJob } from '../../test/fixtures';

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

describe('ApiClient', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('turns a problem-details answer into an ApiError whose message is the detail', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () =>
        jsonResponse(
          { type: 'about:blank', title: 'Too Many Requests', status: 429, detail: 'Slow down.', code: 'too_many_requests' },
          429,
          { 'Retry-After': '7' },
        ),
      ),
    );
    const error = await new ApiClient().getJob('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).code).toBe('too_many_requests');
    expect((error as ApiError).retryAfter).toBe(7);
    i18n.set('en');
    expect(errorMessage(error)).toBe('Slow down. Try again in 7 s.');
  });

  it('asks for a key on 401 and repeats the request with it as a Bearer token', async () => {
    const fetch = vi
      .fn()
      .mockResolvedValueOnce(jsonResponse({ status: 401, code: 'unauthorized', detail: 'API key required.' }, 401))
      .mockResolvedValueOnce(jsonResponse(makeJob()));
    vi.stubGlobal('fetch', fetch);
    const source = keys(null, 'k-123');
    const job = await new ApiClient('', source).getJob('abc');
    expect(job.job_id).toBe(makeJob().job_id);
    expect(source.requestKey).toHaveBeenCalledOnce();
    expect(fetch.mock.calls[1][1].headers.Authorization).toBe('Bearer k-123');
  });

  it('gives up with the 401 when no key is entered', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => jsonResponse({ status: 401, code: 'unauthorized' }, 401)));
    const error = await new ApiClient('', keys(null)).listJobs().catch((e: unknown) => e);
    expect((error as ApiError).status).toBe(401);
  });

  it('builds the URLs of the contract', () => {
    const client = new ApiClient('', keys('s e/cret'));
    expect(client.eventsUrl('j1')).toBe('/jobs/j1/events?api_key=s+e%2Fcret');
    expect(client.pageImageUrl('j1', 3, 800)).toBe('/jobs/j1/pages/3/image?width=800');
    expect(client.resultUrl('j1', 'text')).toBe('/jobs/j1/result?format=text');
    expect(new ApiClient().eventsUrl('j1')).toBe('/jobs/j1/events');
  });

  it('lists jobs with the filter and cursor, and sends the retry password as JSON', async () => {
    const fetch = vi.fn(async () => jsonResponse({ jobs: [], next_cursor: null }));
    vi.stubGlobal('fetch', fetch);
    const client = new ApiClient();
    await client.listJobs({ status: 'failed', limit: 5, cursor: 'abc' });
    expect(fetch).toHaveBeenLastCalledWith('/jobs?status=failed&limit=5&cursor=abc', expect.anything());
    await client.retryJob('j1', 'pw');
    expect(fetch).toHaveBeenLastCalledWith(
      '/jobs/j1/retry',
      expect.objectContaining({ method: 'POST', body: '{"password":"pw"}' }),
    );
  });

  it('falls back to default limits when /config is missing', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('Not Found', { status: 404 })));
    expect(await new ApiClient().getConfig()).toEqual(DEFAULT_CONFIG);
    vi.stubGlobal('fetch', vi.fn(async () => jsonResponse({ max_upload_bytes: 5, max_pages: 2, api_key_required: true })));
    expect(await new ApiClient().getConfig()).toEqual({ max_upload_bytes: 5, max_pages: 2, api_key_required: true });
  });

  it('uploads with XMLHttpRequest, reporting byte progress', async () => {
    const sent: { body?: FormData; headers: Record<string, string> } = { headers: {} };
    class FakeXhr extends EventTarget {
      status = 0;
      responseText = '';
      upload = new EventTarget();
      open = vi.fn();
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
    const accepted = await new ApiClient('', keys('key')).upload({
      file: new File(['%PDF'], 'a.pdf'),
      pages: '1-2',
      options: ['tables', 'markdown'],
      onProgress: progress,
    });
    expect(accepted.job_id).toBe('j9');
    expect(progress).toHaveBeenCalledWith(5, 10);
    expect(sent.headers.Authorization).toBe('Bearer key');
    expect(sent.body?.get('pages')).toBe('1-2');
    expect(sent.body?.get('options')).toBe('tables,markdown');
    expect((sent.body?.get('file') as File).name).toBe('a.pdf');
    expect(sent.body?.has('password')).toBe(false);
  });

  it('reads Retry-After as seconds or as a date', () => {
    expect(parseRetryAfter('12')).toBe(12);
    expect(parseRetryAfter(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThanOrEqual(29);
    expect(parseRetryAfter(null)).toBeNull();
  });
});
