/** Builders for API objects used across tests. */
import type {
  Deliveries,
  Delivery,
  DeliveryAttempt,
  DocumentInfo,
  Job,
  Page,
  ServerConfig,
  UploadAccepted,
} from '../lib/api/types';

export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    job_id: '3f1c2a9e-0000-4000-8000-000000000001',
    status: 'queued',
    progress: 0,
    message: 'queued',
    pages_done: 0,
    pages_total: null,
    failed_pages: [],
    filename: 'report.pdf',
    file_type: 'pdf',
    size: 123_456,
    created_at: '2025-01-02T03:04:05Z',
    started_at: null,
    finished_at: null,
    expires_at: null,
    attempts: 1,
    queue_position: null,
    error: null,
    ...overrides,
  };
}

export function makeDocument(overrides: Partial<DocumentInfo> = {}): DocumentInfo {
  return {
    file_type: 'pdf',
    size: 123_456,
    sha256: 'ab'.repeat(32),
    page_count: 3,
    metadata: {
      title: 'Annual Report 2024',
      author: 'Kim Minji',
      subject: null,
      keywords: null,
      creator: 'Writer',
      producer: 'LibreOffice',
      creation_date: '2024-01-31T12:00:00+09:00',
      modification_date: null,
    },
    encrypted: false,
    encryption: null,
    is_reflowable: false,
    warnings: [],
    outline: [
      { level: 1, title: 'Introduction', page: 1 },
      { level: 2, title: 'Results', page: 3 },
    ],
    ...overrides,
  };
}

export function makePage(number: number, overrides: Partial<Page> = {}): Page {
  const text = overrides.text ?? `Text of page ${number}`;
  return {
    number,
    width: 612,
    height: 792,
    rotation: 0,
    text,
    char_count: text.length,
    blocks: [{ type: 'text', bbox: [72, 72, 540, 120], text }],
    links: [{ kind: 'uri', bbox: [72, 700, 200, 712], uri: 'https://example.com', page: null }],
    images: [],
    tables: [],
    markdown: null,
    warnings: [],
    ...overrides,
  };
}

/** What the server's `/config` answers (its supported types as of writing). */
export function makeConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  return {
    max_upload_bytes: 1024 * 1024 * 1024,
    max_pages: 10_000,
    page_timeout: 30,
    result_ttl: 604_800,
    supported_types: ['pdf', 'xps', 'epub', 'mobi', 'fb2', 'cbz', 'svg', 'txt', 'png', 'jpeg', 'gif', 'tiff', 'bmp', 'jpx', 'pnm', 'psd', 'jbig2'],
    api_key_required: false,
    ocr: { available: true, languages: ['eng', 'kor'], default_languages: 'kor+eng', page_timeout: 180 },
    ...overrides,
  };
}

export function makeAccepted(jobId: string, filename = `${jobId}.pdf`): UploadAccepted {
  const location = `/jobs/${jobId}`;
  return {
    status: 'accepted',
    job_id: jobId,
    filename,
    file_type: 'pdf',
    message: 'The file was uploaded and queued for processing.',
    size: 10,
    status_url: location,
    result_url: `${location}/result`,
    events_url: `${location}/events`,
  };
}

/** Unix seconds of the first try in the delivery builders (2025-01-02T03:05:00Z, a minute after makeJob's upload). */
export const FIRST_TRY_AT = Date.parse('2025-01-02T03:05:00Z') / 1000;

/** One try of a delivery: by default the first, answered 200. */
export function makeAttempt(attempt = 1, overrides: Partial<DeliveryAttempt> = {}): DeliveryAttempt {
  return {
    delivery_id: 'msg_3f1c2a9e000040008000000000000001_1',
    event: 'job.completed',
    attempt,
    at: FIRST_TRY_AT + (attempt - 1) * 10,
    status_code: 200,
    error: null,
    next_try: null,
    ...overrides,
  };
}

/** One delivery: by default "job.completed", delivered on its first try. */
export function makeDelivery(overrides: Partial<Delivery> = {}): Delivery {
  const attempts = overrides.attempts ?? [makeAttempt(1)];
  return {
    delivery_id: attempts[0]?.delivery_id ?? 'msg_3f1c2a9e000040008000000000000001_1',
    event: attempts[0]?.event ?? 'job.completed',
    state: 'delivered',
    next_try: attempts.at(-1)?.next_try ?? null,
    attempts,
    ...overrides,
  };
}

/**
 * What `GET /jobs/{id}/deliveries` answers: by default a callback URL and one delivery made on the first try.
 * `makeDeliveries({ callback_url: null, deliveries: [] })` is a job without a callback.
 */
export function makeDeliveries(overrides: Partial<Deliveries> = {}): Deliveries {
  return {
    callback_url: 'https://hooks.example.com/docparse',
    deliveries: [makeDelivery()],
    ...overrides,
  };
}

/** A delivery whose first try got a 503 and that waits for its second, due `inSeconds` after `now` (Unix ms). */
export function makeRetryingDelivery(now: number, inSeconds = 5): Delivery {
  const nextTry = now / 1000 + inSeconds;
  return makeDelivery({
    state: 'pending',
    next_try: nextTry,
    attempts: [makeAttempt(1, { status_code: 503, error: 'the receiver answered 503', next_try: nextTry })],
  });
}

/** What a stubbed fetch was asked for, whether it got a Request (the generated client) or a URL and options. */
export async function readRequest(input: RequestInfo | URL, init?: RequestInit) {
  const request = new Request(input instanceof Request ? input : new URL(String(input), 'http://localhost'), init);
  const body = request.body ? await request.text() : '';
  return { url: new URL(request.url), method: request.method, headers: request.headers, body };
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  });
}
