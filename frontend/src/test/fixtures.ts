/** Builders for API objects used across tests. */
import type { DocumentInfo, Job, Page } from '../lib/api/types';

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
    expires_at: '2025-01-09T03:04:05Z',
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
      creation_date: "D:20240131120000+09'00'",
      modification_date: null,
    },
    encrypted: false,
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
    ...overrides,
  };
}

export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ...headers },
  });
}
