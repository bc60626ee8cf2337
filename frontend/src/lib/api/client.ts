/** The one client of the docparse HTTP API. Relative URLs: the built app is served by the API itself. */
import { ApiError, apiErrorFromResponse, parseProblem, parseRetryAfter } from './problem';
import type {
  DocumentInfo,
  Job,
  JobList,
  JobStatus,
  Page,
  ParseOption,
  ParseResult,
  ResultFormat,
  ServerConfig,
  UploadAccepted,
} from './types';

/** Where the API key comes from, and how to ask for one when the server answers 401. */
export interface KeySource {
  readonly key: string | null;
  requestKey(): Promise<boolean>;
}

export interface UploadRequest {
  file: File;
  password?: string;
  pages?: string;
  options?: ParseOption[];
  onProgress?: (loaded: number, total: number) => void;
  signal?: AbortSignal;
}

export interface ListJobsQuery {
  status?: JobStatus | '';
  limit?: number;
  cursor?: string | null;
}

type Query = Record<string, string | number | null | undefined>;

export const DEFAULT_CONFIG: ServerConfig = {
  max_upload_bytes: 100 * 1024 * 1024,
  max_pages: 5000,
  api_key_required: false,
};

export class ApiClient {
  readonly baseUrl: string;
  readonly keys: KeySource | null;

  constructor(baseUrl = '', keys: KeySource | null = null) {
    this.baseUrl = baseUrl.replace(/\/$/, '');
    this.keys = keys;
  }

  url(path: string, query: Query = {}): string {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) {
      if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
    }
    const search = params.toString();
    return `${this.baseUrl}${path}${search ? `?${search}` : ''}`;
  }

  /** `GET /config`; the defaults when the server has no such endpoint (or it fails). */
  async getConfig(): Promise<ServerConfig> {
    try {
      const response = await globalThis.fetch(this.url('/config'), { headers: this.#headers() });
      if (!response.ok) return { ...DEFAULT_CONFIG };
      const body = (await response.json()) as Partial<ServerConfig>;
      return { ...DEFAULT_CONFIG, ...body };
    } catch {
      return { ...DEFAULT_CONFIG };
    }
  }

  /** `POST /upload` through XMLHttpRequest, for its upload progress events. */
  async upload(request: UploadRequest): Promise<UploadAccepted> {
    for (;;) {
      try {
        return await this.#uploadOnce(request);
      } catch (error) {
        if (!(await this.#mayRetryWithKey(error))) throw error;
      }
    }
  }

  getJob(id: string): Promise<Job> {
    return this.#json<Job>(jobPath(id));
  }

  listJobs({ status, limit = 20, cursor }: ListJobsQuery = {}): Promise<JobList> {
    return this.#json<JobList>('/jobs', {}, { status, limit, cursor });
  }

  cancelJob(id: string): Promise<Job> {
    return this.#json<Job>(`${jobPath(id)}/cancel`, { method: 'POST' });
  }

  /** Retries a failed or cancelled job, with the password of an encrypted PDF when given. */
  retryJob(id: string, password?: string): Promise<Job> {
    const init: RequestInit = { method: 'POST' };
    if (password) {
      init.body = JSON.stringify({ password });
      init.headers = { 'Content-Type': 'application/json' };
    }
    return this.#json<Job>(`${jobPath(id)}/retry`, init);
  }

  async deleteJob(id: string): Promise<void> {
    await this.#fetch(jobPath(id), { method: 'DELETE' });
  }

  getDocument(id: string, signal?: AbortSignal): Promise<DocumentInfo> {
    return this.#json<DocumentInfo>(`${jobPath(id)}/document`, { signal });
  }

  getPage(id: string, number: number, signal?: AbortSignal): Promise<Page> {
    return this.#json<Page>(`${jobPath(id)}/pages/${number}`, { signal });
  }

  getResult(id: string, pages?: string): Promise<ParseResult> {
    return this.#json<ParseResult>(`${jobPath(id)}/result`, {}, { format: 'json', pages });
  }

  async getResultText(id: string, format: Exclude<ResultFormat, 'json'>, pages?: string): Promise<string> {
    const response = await this.#fetch(`${jobPath(id)}/result`, {}, { format, pages });
    return response.text();
  }

  resultUrl(id: string, format: ResultFormat): string {
    return this.url(`${jobPath(id)}/result`, { format });
  }

  pageImageUrl(id: string, number: number, width: number): string {
    return this.url(`${jobPath(id)}/pages/${number}/image`, { width });
  }

  /** The SSE stream of a job. EventSource cannot send headers, so the key travels as `?api_key=`. */
  eventsUrl(id: string): string {
    return this.url(`${jobPath(id)}/events`, { api_key: this.keys?.key });
  }

  /** Any API URL as a Blob, with the API key header (for images and downloads when a key is in use). */
  async blob(url: string, signal?: AbortSignal): Promise<Blob> {
    const response = await this.#fetchUrl(url, { signal });
    return response.blob();
  }

  async #json<T>(path: string, init: RequestInit = {}, query: Query = {}): Promise<T> {
    const response = await this.#fetch(path, init, query);
    return (await response.json()) as T;
  }

  #fetch(path: string, init: RequestInit = {}, query: Query = {}): Promise<Response> {
    return this.#fetchUrl(this.url(path, query), init);
  }

  async #fetchUrl(url: string, init: RequestInit): Promise<Response> {
    for (;;) {
      const response = await globalThis.fetch(url, {
        ...init,
        headers: { Accept: 'application/json', ...this.#headers(), ...(init.headers as Record<string, string>) },
      });
      if (response.ok) return response;
      const error = await apiErrorFromResponse(response);
      if (!(await this.#mayRetryWithKey(error))) throw error;
    }
  }

  /** On a 401, asks for a key; true when the request should be sent again with it. */
  async #mayRetryWithKey(error: unknown): Promise<boolean> {
    return error instanceof ApiError && error.status === 401 && this.keys !== null && (await this.keys.requestKey());
  }

  #headers(): Record<string, string> {
    const key = this.keys?.key;
    return key ? { Authorization: `Bearer ${key}` } : {};
  }

  #uploadOnce({ file, password, pages, options, onProgress, signal }: UploadRequest): Promise<UploadAccepted> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(new DOMException('Upload aborted', 'AbortError'));
        return;
      }
      const form = new FormData();
      form.append('file', file, file.name);
      if (password) form.append('password', password);
      if (pages?.trim()) form.append('pages', pages.trim());
      if (options?.length) form.append('options', options.join(','));

      const xhr = new XMLHttpRequest();
      xhr.open('POST', this.url('/upload'));
      xhr.setRequestHeader('Accept', 'application/json');
      for (const [name, value] of Object.entries(this.#headers())) xhr.setRequestHeader(name, value);
      xhr.upload.addEventListener('progress', (event) => {
        onProgress?.(event.loaded, event.lengthComputable ? event.total : file.size);
      });
      xhr.addEventListener('load', () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          try {
            resolve(JSON.parse(xhr.responseText) as UploadAccepted);
          } catch {
            reject(new ApiError(xhr.status, { detail: 'The server sent an unreadable answer.' }));
          }
          return;
        }
        const problem = parseProblem(xhr.responseText, xhr.getResponseHeader('content-type'));
        reject(new ApiError(xhr.status, problem, parseRetryAfter(xhr.getResponseHeader('retry-after'))));
      });
      xhr.addEventListener('error', () => reject(new TypeError('Network error during upload')));
      xhr.addEventListener('abort', () => reject(new DOMException('Upload aborted', 'AbortError')));
      signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(form);
    });
  }
}

function jobPath(id: string): string {
  return `/jobs/${encodeURIComponent(id)}`;
}
