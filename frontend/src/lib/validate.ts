/**
 * Client-side checks, so a person hears about a file the server will refuse before uploading it. The server
 * decides a type from the bytes, so the name only counts as a hint: a file is refused here only when its name or
 * the browser's MIME type says a type the server does not list (`/config`'s `supported_types`). A PDF named
 * report.bin, or a file without any known name, goes to the server, which looks inside.
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
import type { MessageKey } from './i18n.svelte';

/** How the server's type names appear as file name extensions and MIME types (a type not listed: its own name). */
const NAMES: Readonly<Record<string, { extensions: string[]; mime: string[] }>> = {
  pdf: { extensions: ['pdf'], mime: ['application/pdf', 'application/x-pdf'] },
  xps: { extensions: ['xps', 'oxps'], mime: ['application/vnd.ms-xpsdocument', 'application/oxps'] },
  epub: { extensions: ['epub'], mime: ['application/epub+zip'] },
  mobi: { extensions: ['mobi', 'prc', 'azw'], mime: ['application/x-mobipocket-ebook'] },
  fb2: { extensions: ['fb2'], mime: ['application/x-fictionbook+xml', 'application/x-fictionbook'] },
  cbz: { extensions: ['cbz'], mime: ['application/vnd.comicbook+zip', 'application/x-cbz'] },
  svg: { extensions: ['svg'], mime: ['image/svg+xml'] },
  txt: { extensions: ['txt', 'text', 'md', 'csv', 'log'], mime: ['text/*'] },
  png: { extensions: ['png'], mime: ['image/png'] },
  jpeg: { extensions: ['jpg', 'jpeg', 'jpe', 'jfif'], mime: ['image/jpeg'] },
  gif: { extensions: ['gif'], mime: ['image/gif'] },
  tiff: { extensions: ['tif', 'tiff'], mime: ['image/tiff'] },
  bmp: { extensions: ['bmp'], mime: ['image/bmp', 'image/x-ms-bmp'] },
  jpx: { extensions: ['jpx', 'jp2', 'j2k', 'jpf'], mime: ['image/jp2', 'image/jpx'] },
  pnm: {
    extensions: ['pnm', 'pbm', 'pgm', 'ppm', 'pam'],
    mime: ['image/x-portable-anymap', 'image/x-portable-bitmap', 'image/x-portable-graymap', 'image/x-portable-pixmap'],
  },
  psd: { extensions: ['psd'], mime: ['image/vnd.adobe.photoshop'] },
  jbig2: { extensions: ['jb2', 'jbig2'], mime: ['image/x-jbig2'] },
};

/** MIME types that say nothing about the content: the browser did not know the file. */
const GENERIC_MIME = new Set(['', 'application/octet-stream', 'binary/octet-stream', 'application/unknown']);

export interface Accepted {
  extensions: ReadonlySet<string>;
  mime: ReadonlySet<string>;
}

/** The extensions and MIME types of the server's supported types. */
export function acceptedNames(supportedTypes: readonly string[]): Accepted {
  const extensions = new Set<string>();
  const mime = new Set<string>();
  for (const type of supportedTypes) {
    const names = NAMES[type] ?? { extensions: [type], mime: [] };
    for (const extension of names.extensions) extensions.add(extension);
    for (const name of names.mime) mime.add(name);
  }
  return { extensions, mime };
}

/** For the file picker's `accept` attribute (a filter the person can still switch off). */
export function acceptAttribute(supportedTypes: readonly string[]): string {
  const { extensions, mime } = acceptedNames(supportedTypes);
  return [...[...extensions].map((extension) => `.${extension}`), ...mime].join(',');
}

export interface Rejection {
  key: MessageKey;
  params?: Record<string, string | number>;
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

function mimeMatches(accepted: ReadonlySet<string>, mime: string): boolean {
  return accepted.has(mime) || accepted.has(`${mime.split('/')[0]}/*`);
}

/**
 * False only when the name or the browser says a type the server does not list, and nothing says a supported one.
 * Unknown names and generic MIME types are let through: the server looks at the bytes.
 */
export function mayBeSupported(file: Pick<File, 'name' | 'type'>, supportedTypes: readonly string[]): boolean {
  const accepted = acceptedNames(supportedTypes);
  const extension = extensionOf(file.name);
  const mime = file.type.toLowerCase().split(';')[0].trim();
  if (accepted.extensions.has(extension) || mimeMatches(accepted.mime, mime)) return true;
  return GENERIC_MIME.has(mime);
}

/** Why this file will not be accepted (the size check needs `formatBytes` for its message), or null. */
export function checkFile(
  file: Pick<File, 'name' | 'type' | 'size'>,
  limits: Pick<ServerConfig, 'max_upload_bytes' | 'supported_types'> | null,
  formatBytes: (bytes: number) => string,
): Rejection | null {
  if (file.size === 0) return { key: 'upload.reject.empty' };
  if (!limits) return null; // the server's limits are not known: it will say itself
  if (!mayBeSupported(file, limits.supported_types)) return { key: 'upload.reject.type' };
  if (limits.max_upload_bytes > 0 && file.size > limits.max_upload_bytes) {
    const params = { size: formatBytes(file.size), max: formatBytes(limits.max_upload_bytes) };
    return { key: 'upload.reject.size', params };
  }
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
