/**
 * Client-side checks, so a person hears about a file the server will refuse before uploading it, by the server's
 * own rules: its limits from `/config`, and the type from the file's first bytes (filetypes.ts), so a PDF named
 * report.bin goes through and a WebP named photo.webp does not.
 */
import type { ServerConfig } from './api/types';

/** Tesseract language names joined by "+", as the server accepts them in `ocr_languages`. */
const OCR_LANGUAGES = /^[A-Za-z0-9_]{1,32}(\+[A-Za-z0-9_]{1,32}){0,7}$/;

/** Empty (the server's default) or languages like "kor+eng"; when the server's list is known, only those. */
export function isValidOcrLanguages(value: string, installed: readonly string[] | null = null): boolean {
  const trimmed = value.trim();
  if (!trimmed) return true;
  if (!OCR_LANGUAGES.test(trimmed)) return false;
  return !installed?.length || trimmed.split('+').every((language) => installed.includes(language));
}
import { detectType, readHead } from './filetypes';
import type { MessageKey } from './i18n.svelte';

export interface Rejection {
  key: MessageKey;
  params?: Record<string, string | number>;
}

/**
 * Why the server will not accept this file, or null. Decided as the server decides: the size against its limit
 * (`size > max_upload_bytes`, as the server counts), then the type from the first bytes (never the name alone),
 * among `/config`'s `supported_types`. `formatSizes` shows the file's size and the limit for the message.
 */
export async function checkFile(
  file: Pick<File, 'name' | 'size'> & Blob,
  limits: Pick<ServerConfig, 'max_upload_bytes' | 'supported_types'> | null,
  formatSizes: (size: number, limit: number) => [string, string],
): Promise<Rejection | null> {
  if (file.size === 0) return { key: 'upload.reject.empty' };
  if (!limits) return null; // the server's limits are not known: it will say itself
  if (limits.max_upload_bytes > 0 && file.size > limits.max_upload_bytes) {
    const [size, max] = formatSizes(file.size, limits.max_upload_bytes);
    return { key: 'upload.reject.size', params: { size, max } };
  }
  let head: Uint8Array;
  try {
    head = await readHead(file);
  } catch {
    return null; // unreadable here: the server will say
  }
  const type = detectType(head, file.name);
  if (type === null || !limits.supported_types.includes(type)) return { key: 'upload.reject.type' };
  return null;
}

// The server's grammar (backend pageranges.py): `7`, `1-3`, `10-` (to the end), `-3` (from the start).
const RANGE = /^\s*(\d+)?\s*(-)?\s*(\d+)?\s*$/;

/** "1-3,7,10-" style page selections (1-based, ascending ranges); an empty string means every page. */
export function isValidPageRange(value: string): boolean {
  if (!value.trim()) return true;
  return value.split(',').every((part) => {
    const match = RANGE.exec(part);
    if (!match || (match[1] === undefined && match[3] === undefined)) return false;
    const start = match[1] === undefined ? 1 : Number(match[1]);
    const end = match[3] === undefined ? (match[2] ? Infinity : start) : Number(match[3]);
    return start >= 1 && end >= start;
  });
}

/** Empty (no callback) or an absolute http(s) URL with a host, as the server accepts for `callback_url`. */
export function isValidCallbackUrl(value: string): boolean {
  const trimmed = value.trim();
  if (!trimmed) return true;
  if (trimmed.length > 2048) return false;
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    return false;
  }
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '' && !url.username && !url.password;
}
