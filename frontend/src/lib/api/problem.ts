/** API errors and the one helper that turns any failure (problem details, network, abort) into a message for a person. */
import { i18n } from '../i18n.svelte';
import type { ProblemDetails } from './types';

/** A non-2xx answer of the API. `problem` is the RFC 9457 body when the server sent one. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: ProblemDetails | null;
  /** Seconds from a `Retry-After` header (429, 503), when present. */
  readonly retryAfter: number | null;

  constructor(status: number, problem: ProblemDetails | null, retryAfter: number | null = null) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** The stable machine code (`file_too_large`, `unauthorized`, ...), if the server sent one. */
  get code(): string | null {
    return typeof this.problem?.code === 'string' ? this.problem.code : null;
  }
}

/** Reads a problem-details body from any text; non-JSON bodies become `{detail: text}` when short and readable. */
export function parseProblem(body: string, contentType: string | null): ProblemDetails | null {
  const text = body.trim();
  if (!text) return null;
  if (contentType?.includes('json') || text.startsWith('{')) {
    try {
      const value: unknown = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value as ProblemDetails;
    } catch {
      // fall through: not JSON after all
    }
  }
  return text.length <= 300 && !text.startsWith('<') ? { detail: text } : null;
}

/** Seconds from a Retry-After header: either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - now) / 1000));
}

/** An error answer whose body was already read: `body` is its text, or its JSON when it parsed. */
export function apiErrorFrom(answer: Response | XMLHttpRequest, body: unknown): ApiError {
  const header = (name: string) =>
    'getResponseHeader' in answer ? answer.getResponseHeader(name) : answer.headers.get(name);
  const problem =
    body && typeof body === 'object' && !Array.isArray(body)
      ? (body as ProblemDetails)
      : parseProblem(typeof body === 'string' ? body : '', header('content-type'));
  return new ApiError(answer.status, problem, parseRetryAfter(header('retry-after')));
}

export async function apiErrorFromResponse(response: Response): Promise<ApiError> {
  let body = '';
  try {
    body = await response.text();
  } catch {
    // the body is optional for an error
  }
  return apiErrorFrom(response, body);
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

/**
 * The message to show for any error. The server's problem `detail` is shown as it is (it is written for people);
 * without one, the code's or the status's translated text; network failures get their own text.
 */
export function errorMessage(error: unknown): string {
  const { t } = i18n;
  if (error instanceof ApiError) {
    const codeKey = `problem.${error.code}`;
    const base =
      error.problem?.detail ||
      error.problem?.title ||
      (i18n.has(codeKey) ? t(codeKey) : '') ||
      statusMessage(error.status);
    if (error.status === 429 && error.retryAfter !== null) {
      return `${base} ${t('problem.retry_after', { seconds: error.retryAfter })}`;
    }
    return base;
  }
  if (isAbort(error)) return t('problem.aborted');
  if (error instanceof TypeError) return t('problem.network');
  if (error instanceof Error && error.message) return error.message;
  return t('problem.unknown');
}

function statusMessage(status: number): string {
  const { t } = i18n;
  if (status === 401) return t('problem.unauthorized');
  if (status === 404) return t('problem.not_found');
  if (status === 413) return t('problem.file_too_large');
  if (status === 429) return t('problem.too_many_requests');
  if (status >= 500) return t('problem.server', { status });
  return t('problem.http', { status });
}
