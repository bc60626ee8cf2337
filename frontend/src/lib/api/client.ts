/**
 * The one client of the docparse HTTP API: the generated SDK (generated/, made from the server's OpenAPI document)
 * plus what it cannot do alone: the API key and the 401 prompt, problem details as ApiError, upload progress, and
 * the job events stream.
 */
import { i18n } from '../i18n.svelte';
import { ApiError, apiErrorFrom, apiErrorFromResponse } from './problem';
import { openEventStream } from './events';
import { createClient, type Client } from './generated/client';
import * as sdk from './generated/sdk.gen';
import type { GetJobPageImageData, GetJobResultData, JobState } from './generated/types.gen';
import type {
  Deliveries,
  DocumentInfo,
  Job,
  JobList,
  OcrMode,
  Page,
  ParseOption,
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
  ocr?: OcrMode;
  /** Tesseract languages joined by "+"; without them, the server's default. */
  ocrLanguages?: string;
  /** false: parse the file again even if this key parsed it before with the same options (default: reuse). */
  reuse?: boolean;
  /** Where the job's status is POSTed when it ends (a webhook, signed by the server). */
  callbackUrl?: string;
  onProgress?: (loaded: number, total: number) => void;
  signal?: AbortSignal;
}

export interface ListJobsQuery {
  status?: JobState | '';
  limit?: number;
  cursor?: string | null;
}

export interface JobEventHandlers {
  /** Each status object the stream carries. */
  onStatus: (job: Job) => void;
  /** The stream gave up (an error answer, or reconnecting failed): the caller should poll instead. */
  onError: (error: unknown) => void;
}

/** What every generated SDK function answers (with `throwOnError` off). */
interface SdkResult<T> {
  data?: T;
  error?: unknown;
  response?: Response;
}

export class ApiClient {
  readonly keys: KeySource | null;
  readonly #http: Client;
  readonly #language: () => string;

  /**
   * Without a `baseUrl`, the page's origin: the built app is served by the API itself. (Absolute, because fetch
   * outside a browser, as in tests, takes no relative URL.) Every request says the UI's language in
   * `Accept-Language`, so the server's messages come back in it.
   */
  constructor(baseUrl = '', keys: KeySource | null = null, language: () => string = () => i18n.locale) {
    this.keys = keys;
    this.#language = language;
    this.#http = createClient({ baseUrl: (baseUrl || globalThis.location?.origin || '').replace(/\/$/, '') });
    this.#http.interceptors.request.use((request) => {
      for (const [name, value] of Object.entries(this.#headers())) request.headers.set(name, value);
      return request;
    });
  }

  /** `GET /config`: the server's limits and supported types. */
  getConfig(): Promise<ServerConfig> {
    return this.#call(() => sdk.getConfig({ client: this.#http }));
  }

  /** `POST /upload` through XMLHttpRequest, for its upload progress events (fetch has none). */
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
    return this.#call(() => sdk.getJob({ client: this.#http, path: { job_id: id } }));
  }

  listJobs({ status, limit = 20, cursor }: ListJobsQuery = {}): Promise<JobList> {
    const query = { status: status || undefined, limit, cursor: cursor ?? undefined };
    return this.#call(() => sdk.listJobs({ client: this.#http, query }));
  }

  cancelJob(id: string): Promise<Job> {
    return this.#call(() => sdk.cancelJob({ client: this.#http, path: { job_id: id } }));
  }

  /** Retries a failed or cancelled job, with the password of an encrypted PDF when given. */
  retryJob(id: string, password?: string): Promise<Job> {
    const body = password ? { password } : null;
    return this.#call(() => sdk.retryJob({ client: this.#http, path: { job_id: id }, body }));
  }

  async deleteJob(id: string): Promise<void> {
    await this.#call(() => sdk.deleteJob({ client: this.#http, path: { job_id: id } }));
  }

  /** `GET /jobs/{id}/deliveries`: the job's callback URL (null: none) and its webhook deliveries with every try. */
  getDeliveries(id: string, signal?: AbortSignal): Promise<Deliveries> {
    return this.#call(() => sdk.getJobDeliveries({ client: this.#http, path: { job_id: id }, signal }));
  }

  getDocument(id: string, signal?: AbortSignal): Promise<DocumentInfo> {
    return this.#call(() => sdk.getJobDocument({ client: this.#http, path: { job_id: id }, signal }));
  }

  getPage(id: string, number: number, signal?: AbortSignal): Promise<Page> {
    return this.#call(() => sdk.getJobPage({ client: this.#http, path: { job_id: id, number }, signal }));
  }

  resultUrl(id: string, format: ResultFormat): string {
    return this.#http.buildUrl<GetJobResultData>({
      url: '/jobs/{job_id}/result',
      path: { job_id: id },
      query: { format },
    });
  }

  pageImageUrl(id: string, number: number, width: number): string {
    return this.#http.buildUrl<GetJobPageImageData>({
      url: '/jobs/{job_id}/pages/{number}/image',
      path: { job_id: id, number },
      query: { width },
    });
  }

  /** Any API URL as a Blob, fetched with the API key header (for images and downloads when a key is in use). */
  async blob(url: string, signal?: AbortSignal): Promise<Blob> {
    const response = await this.#fetch(url, { signal });
    return response.blob();
  }

  /**
   * Follows `GET /jobs/{id}/events` until the returned function is called. Read with fetch, not EventSource, so
   * the key travels in the Authorization header (EventSource can send no header, and a key in the URL ends up in
   * logs). Reconnects with Last-Event-ID as EventSource would.
   */
  jobEvents(id: string, handlers: JobEventHandlers): () => void {
    const url = this.#http.buildUrl({ url: '/jobs/{job_id}/events', path: { job_id: id } });
    return openEventStream({
      connect: (headers, signal) => this.#fetch(url, { headers, signal }),
      onEvent: (message) => {
        if (message.event && message.event !== 'status' && message.event !== 'message') return;
        let job: Job;
        try {
          job = JSON.parse(message.data) as Job;
        } catch {
          return;
        }
        if (job && typeof job === 'object' && job.status) handlers.onStatus({ ...job, job_id: job.job_id ?? id });
      },
      onError: handlers.onError,
    });
  }

  /** Runs one generated SDK call; error answers become ApiError, and a 401 asks for a key and tries again. */
  async #call<T>(send: () => Promise<SdkResult<T>>): Promise<T> {
    for (;;) {
      const { data, error, response } = await send();
      if (!response) throw error; // the request never got an answer: network failure or abort
      if (response.ok) return data as T;
      const apiError = apiErrorFrom(response, error);
      if (!(await this.#mayRetryWithKey(apiError))) throw apiError;
    }
  }

  async #fetch(url: string, init: RequestInit): Promise<Response> {
    for (;;) {
      const response = await globalThis.fetch(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), ...this.#headers() },
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
    const headers: Record<string, string> = { 'Accept-Language': this.#language() };
    const key = this.keys?.key;
    if (key) headers.Authorization = `Bearer ${key}`;
    return headers;
  }

  #uploadOnce({ file, password, pages, options, ocr, ocrLanguages, reuse, callbackUrl, onProgress, signal }: UploadRequest): Promise<UploadAccepted> {
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
      if (ocr) form.append('ocr', ocr);
      if (ocrLanguages?.trim()) form.append('ocr_languages', ocrLanguages.trim());
      if (reuse === false) form.append('reuse', 'false');
      if (callbackUrl?.trim()) form.append('callback_url', callbackUrl.trim());

      const xhr = new XMLHttpRequest();
      xhr.open('POST', this.#http.buildUrl({ url: '/upload' }));
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
        reject(apiErrorFrom(xhr, xhr.responseText));
      });
      xhr.addEventListener('error', () => reject(new TypeError('Network error during upload')));
      xhr.addEventListener('abort', () => reject(new DOMException('Upload aborted', 'AbortError')));
      signal?.addEventListener('abort', () => xhr.abort(), { once: true });
      xhr.send(form);
    });
  }
}
