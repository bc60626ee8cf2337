/**
 * The API's shapes as the UI names them. Every type comes from generated/ (made from the server's OpenAPI document
 * by `npm run generate`), so a change on the server shows up here as a type error, not as a surprise at run time.
 */
import {
  JobState,
  type GetJobResultData,
  type Image,
  type JobStatus,
  type Problem,
} from './generated/types.gen';

export type {
  Attempt as DeliveryAttempt,
  Block,
  Deliveries,
  Delivery,
  DocumentInfo,
  ErrorInfo as JobError,
  JobList,
  Link,
  Metadata as DocumentMetadata,
  Notice as PageNotice,
  OcrConfig,
  OutlineEntry,
  Page,
  PageOcr,
  ReusedResult,
  ServerConfig,
  Table,
  UploadAccepted,
} from './generated/types.gen';

/** The status object of `GET /jobs/{id}`, of every event of its stream and of every `GET /jobs` entry. */
export type Job = JobStatus;
export { JobState };
export type PageImage = Image;

export const JOB_STATES: readonly JobState[] = Object.values(JobState);
const TERMINAL: ReadonlySet<JobState> = new Set([JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED]);

export function isTerminal(state: JobState): boolean {
  return TERMINAL.has(state);
}

/** [x0, y0, x1, y1] in PDF points, origin top-left, in the page's width/height space. */
export type BBox = Image['bbox'];

export type ResultFormat = NonNullable<NonNullable<GetJobResultData['query']>['format']>;

/** RFC 9457 problem details as read from any error answer: every member may be missing, extensions may be added. */
export type ProblemDetails = Partial<Problem> & { [extension: string]: unknown };

/** Opt-in extraction options of `POST /upload` (`options=tables,markdown`). */
export type ParseOption = 'tables' | 'markdown';
/** When the server reads pages with OCR (the upload's `ocr` field). */
export type OcrMode = 'auto' | 'always' | 'never';
export const OCR_MODES: readonly OcrMode[] = ['auto', 'always', 'never'];
