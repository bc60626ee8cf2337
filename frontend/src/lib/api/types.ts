/** Shapes of the docparse HTTP API, written by hand from the contract in shared/DESIGN.md. */

export type JobStatus = 'queued' | 'processing' | 'completed' | 'failed' | 'cancelled';

export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'processing', 'completed', 'failed', 'cancelled'];
export const TERMINAL_STATUSES: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];

export function isTerminal(status: JobStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Codes a failed job can carry in `error.code`. Unknown codes are still shown (with a generic message). */
export type JobErrorCode =
  | 'encrypted'
  | 'wrong_password'
  | 'corrupt'
  | 'page_timeout'
  | 'timeout'
  | 'worker_lost'
  | 'cancelled'
  | 'too_many_pages'
  | 'internal';

export interface JobError {
  code: JobErrorCode | (string & {});
  message: string;
}

/** The status object of `GET /jobs/{id}`, of every SSE event and of every `GET /jobs` entry. */
export interface Job {
  job_id: string;
  status: JobStatus;
  progress: number;
  message: string;
  pages_done: number;
  pages_total: number | null;
  failed_pages: number[];
  filename: string;
  file_type: string;
  size: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  expires_at: string;
  attempts: number;
  queue_position: number | null;
  error: JobError | null;
}

export interface UploadAccepted {
  status: 'accepted';
  job_id: string;
  filename: string;
  file_type: string;
  message: string;
  status_url: string;
  result_url: string;
}

export interface JobList {
  jobs: Job[];
  next_cursor: string | null;
}

export interface ServerConfig {
  max_upload_bytes: number;
  max_pages: number;
  api_key_required: boolean;
}

/** RFC 9457 problem details, as every error response of the API. */
export interface ProblemDetails {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  code?: string;
  [extension: string]: unknown;
}

/** [x0, y0, x1, y1] in PDF points, origin top-left, in the page's width/height space. */
export type BBox = [number, number, number, number];

export interface DocumentMetadata {
  title: string | null;
  author: string | null;
  subject: string | null;
  keywords: string | null;
  creator: string | null;
  producer: string | null;
  creation_date: string | null;
  modification_date: string | null;
}

export interface OutlineEntry {
  level: number;
  title: string;
  page: number;
}

export interface DocumentInfo {
  file_type: string;
  size: number;
  sha256: string;
  page_count: number;
  metadata: DocumentMetadata;
  encrypted: boolean;
  outline: OutlineEntry[];
}

export interface Block {
  type: 'text' | 'image';
  bbox: BBox;
  /** The block's lines; null for an image block. */
  text: string | null;
}

export interface Link {
  kind: string;
  bbox: BBox;
  uri: string | null;
  page: number | null;
}

export interface PageImage {
  bbox: BBox;
  width: number;
  height: number;
  xref: number;
}

export interface Table {
  bbox: BBox;
  row_count: number;
  col_count: number;
  cells: (string | null)[][];
}

export interface Page {
  number: number;
  width: number;
  height: number;
  rotation: number;
  text: string;
  char_count: number;
  blocks: Block[];
  links: Link[];
  images: PageImage[];
  tables: Table[];
  markdown: string | null;
}

export interface ParseResult {
  job_id: string;
  result: { document: DocumentInfo; pages: Page[] };
}

export type ResultFormat = 'json' | 'markdown' | 'text';

/** Opt-in extraction options of `POST /upload` (`options=tables,markdown`). */
export type ParseOption = 'tables' | 'markdown';
