/** Client-side checks that mirror the server's, so a person hears about a bad file before uploading it. */
import type { MessageKey } from './i18n.svelte';

export const SUPPORTED_EXTENSIONS: ReadonlySet<string> = new Set([
  'pdf', 'xps', 'oxps', 'epub', 'mobi', 'fb2', 'fbz', 'cbz', 'svg', 'txt', 'text',
  'png', 'jpg', 'jpeg', 'jpe', 'jfif', 'gif', 'bmp', 'tif', 'tiff', 'jxr', 'wdp', 'hdp', 'jpx', 'jp2', 'j2k',
  'pnm', 'pgm', 'pbm', 'ppm', 'pam', 'psd', 'webp',
]);

export const SUPPORTED_MIME_TYPES: ReadonlySet<string> = new Set([
  'application/pdf', 'application/x-pdf', 'application/vnd.ms-xpsdocument', 'application/oxps',
  'application/epub+zip', 'application/x-mobipocket-ebook', 'application/x-fictionbook+xml',
  'application/vnd.comicbook+zip', 'application/x-cbz', 'text/plain',
]);

/** For the file picker's `accept` attribute. */
export const ACCEPT = [...[...SUPPORTED_EXTENSIONS].map((ext) => `.${ext}`), ...SUPPORTED_MIME_TYPES, 'image/*'].join(',');

export interface Rejection {
  key: MessageKey;
  params?: Record<string, string | number>;
}

export function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : '';
}

/** True when the name or the MIME type says the server can parse it; the server still decides from the bytes. */
export function isSupportedType(file: Pick<File, 'name' | 'type'>): boolean {
  const extension = extensionOf(file.name);
  const mime = file.type.toLowerCase();
  if (!extension && !mime) return true; // nothing to go by: let the server look at the bytes
  return SUPPORTED_EXTENSIONS.has(extension) || SUPPORTED_MIME_TYPES.has(mime) || mime.startsWith('image/');
}

/** Why this file will not be accepted (the size check needs `formatBytes` for its message), or null. */
export function checkFile(
  file: Pick<File, 'name' | 'type' | 'size'>,
  maxBytes: number,
  formatBytes: (bytes: number) => string,
): Rejection | null {
  if (!isSupportedType(file)) return { key: 'upload.reject.type' };
  if (file.size === 0) return { key: 'upload.reject.empty' };
  if (maxBytes > 0 && file.size > maxBytes) {
    return { key: 'upload.reject.size', params: { size: formatBytes(file.size), max: formatBytes(maxBytes) } };
  }
  return null;
}

const RANGE = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/;

/** "1-3,7" style page selections (1-based, ascending ranges); an empty string means every page. */
export function isValidPageRange(value: string): boolean {
  if (!value.trim()) return true;
  return value.split(',').every((part) => {
    const match = RANGE.exec(part);
    if (!match) return false;
    const start = Number(match[1]);
    const end = match[2] === undefined ? start : Number(match[2]);
    return start >= 1 && end >= start;
  });
}
