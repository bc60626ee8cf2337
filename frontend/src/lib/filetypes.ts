/**
 * A file's type from its first bytes, by the server's own rules (backend `docparse/filetypes.py`, `detect_type`),
 * so the browser accepts what the server will accept and refuses what it will refuse: a PDF named report.bin
 * passes, a WebP named photo.webp does not. The name only vetoes "plain text" for a file named as a binary format.
 * Kept in step with the server by the same test cases (filetypes.test.ts ports backend tests/parsing/test_detect.py).
 */

/** How many bytes the server looks at (`HEAD_BYTES` in backend api/upload.py). */
export const HEAD_BYTES = 64 * 1024;

const MAGIC: readonly [number[], string][] = [
  [[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'png'],
  [[0xff, 0xd8, 0xff], 'jpeg'],
  [ascii('GIF87a'), 'gif'],
  [ascii('GIF89a'), 'gif'],
  [[0x49, 0x49, 0x2a, 0x00], 'tiff'],
  [[0x4d, 0x4d, 0x00, 0x2a], 'tiff'],
  [[0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a], 'jpx'],
  [[0xff, 0x4f, 0xff, 0x51], 'jpx'],
  [[0x97, 0x4a, 0x42, 0x32, 0x0d, 0x0a, 0x1a, 0x0a], 'jbig2'],
  [[0x38, 0x42, 0x50, 0x53, 0x00, 0x01], 'psd'],
];
const BMP_DIB_SIZES = new Set([12, 16, 40, 52, 56, 64, 108, 124]);
// Over latin-1 text (one character per byte), as the server's byte patterns.
// (`[ \t\n\r\f\v]` is what `\s` means in the server's byte patterns; JavaScript's `\s` also takes U+00A0.)
const PNM = /^(?:P[1-6][ \t\n\r\f\v]+(?:#[^\n]*\n[ \t\n\r\f\v]*)*\d+[ \t\n\r\f\v]+\d+|P7[ \t\n\r\f\v]|P[Ff][ \t\n\r\f\v])/;
const MOBI_IDS = ['BOOKMOBI', 'TEXtREAd'];
const IMAGE_NAME = /\.(?:png|jpe?g|gif|bmp|tiff?|jpx|jp2|j2k|psd|pnm|pbm|pgm|ppm|pam)$/i;
const XML_PROLOG = /\s*(?:<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE(?:[^[>]|\[[\s\S]*?\])*>)/iy;
const XML_ROOT = /\s*<(?:[A-Za-z_][\p{L}\p{N}_.-]*:)?([A-Za-z_][\p{L}\p{N}_.-]*)/uy;
const PDF_SYNTAX = /startxref|trailer[ \t\n\r\f\v]*<<|\d+[ \t\n\r\f\v]+\d+[ \t\n\r\f\v]+obj\b/;
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const BINARY_CONTROL = /[\x00-\x08\x0e-\x19\x1c-\x1f]/;
const BINARY_EXTENSIONS = [
  '.pdf', '.xps', '.oxps', '.epub', '.mobi', '.cbz', '.png', '.jpg', '.jpeg', '.gif', '.tif', '.tiff', '.bmp',
  '.jp2', '.jpx', '.psd',
];

function ascii(text: string): number[] {
  return [...text].map((c) => c.charCodeAt(0));
}

function startsWith(head: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  if (head.length < offset + prefix.length) return false;
  return prefix.every((byte, i) => head[offset + i] === byte);
}

function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return out;
}

/** The type the server will see in these first bytes (at most HEAD_BYTES of them), or null if it refuses them. */
export function detectType(head: Uint8Array, filename?: string | null): string | null {
  const kind = detect(head.subarray(0, HEAD_BYTES));
  const name = filename?.toLowerCase() ?? '';
  if (kind === 'txt' && name && BINARY_EXTENSIONS.some((extension) => name.endsWith(extension))) return null;
  return kind;
}

function detect(head: Uint8Array): string | null {
  if (head.length === 0) return null;
  for (const [magic, kind] of MAGIC) if (startsWith(head, magic)) return kind;
  if (isBmp(head)) return 'bmp';
  const raw = latin1(head);
  if (PNM.test(raw)) return 'pnm';
  const text = decodeText(head);
  if (raw.startsWith('%PDF') || (text === null && raw.slice(0, 1024).includes('%PDF'))) return 'pdf';
  if (raw.startsWith('PK\x03\x04')) return zipType(zipNames(head), raw);
  if (MOBI_IDS.includes(raw.slice(60, 68))) return 'mobi';
  const root = xmlRoot(text ?? raw);
  if (root === 'FictionBook') return 'fb2';
  if (root === 'svg') return 'svg';
  if (PDF_SYNTAX.test(raw)) return 'pdf';
  if (text === null) return null;
  return BINARY_CONTROL.test(text) ? null : 'txt';
}

function isBmp(head: Uint8Array): boolean {
  if (!(head[0] === 0x42 && head[1] === 0x4d) || head.length < 18) return false;
  const dib = new DataView(head.buffer, head.byteOffset, head.byteLength).getUint32(14, true);
  return BMP_DIB_SIZES.has(dib);
}

/** The head as text if it is UTF-8 (or UTF-16 with a BOM) without NUL, else null; a cut last character is fine. */
function decodeText(head: Uint8Array): string | null {
  let encoding: 'utf-16le' | 'utf-16be' | 'utf-8';
  if (head[0] === 0xff && head[1] === 0xfe) encoding = 'utf-16le';
  else if (head[0] === 0xfe && head[1] === 0xff) encoding = 'utf-16be';
  else if (head.includes(0)) return null;
  else encoding = 'utf-8';
  try {
    // streaming, like the server's incremental decoder: a multi-byte character cut at the end is not an error
    const text = new TextDecoder(encoding, { fatal: true }).decode(head, { stream: true });
    return text.includes('\0') ? null : text;
  } catch {
    return null;
  }
}

/** The local name of the first element after the XML prolog, e.g. "svg" for `<svg:svg ...>`. */
function xmlRoot(text: string): string | null {
  const body = text.replace(/^\ufeff/, '');
  let pos = 0;
  for (;;) {
    XML_PROLOG.lastIndex = pos;
    const match = XML_PROLOG.exec(body);
    if (!match || match[0].length === 0) break;
    pos = XML_PROLOG.lastIndex;
  }
  XML_ROOT.lastIndex = pos;
  return XML_ROOT.exec(body)?.[1] ?? null;
}

/** Names of the ZIP entries whose local headers lie within `head`. */
function zipNames(head: Uint8Array): string[] {
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const signature = [0x50, 0x4b, 0x03, 0x04];
  const names: string[] = [];
  const decoder = new TextDecoder();
  let pos = 0;
  while (names.length < 1000 && pos >= 0 && pos <= head.length - 30) {
    if (!startsWith(head, signature, pos)) {
      pos = indexOf(head, signature, pos);
      continue;
    }
    const flags = view.getUint16(pos + 6, true);
    const size = view.getUint32(pos + 18, true);
    const nameLength = view.getUint16(pos + 26, true);
    const extraLength = view.getUint16(pos + 28, true);
    names.push(decoder.decode(head.subarray(pos + 30, pos + 30 + nameLength)));
    const data = pos + 30 + nameLength + extraLength;
    const knownSize = !(flags & 0x08) && size !== 0xffffffff;
    pos = knownSize ? data + size : data;
  }
  return names;
}

function indexOf(head: Uint8Array, needle: readonly number[], from: number): number {
  for (let i = from; i <= head.length - needle.length; i++) if (startsWith(head, needle, i)) return i;
  return -1;
}

/** EPUB, XPS or CBZ by the entries a ZIP starts with; null for other ZIPs (DOCX, ODF, JAR, plain archives). */
function zipType(names: string[], raw: string): string | null {
  if ((names.includes('mimetype') && raw.includes('application/epub+zip')) || names.includes('META-INF/container.xml')) {
    return 'epub';
  }
  if (
    raw.includes('FixedDocumentSequence') ||
    names.some((name) => /\.(?:fdseq|fdoc|fpage)$/i.test(name)) ||
    (names.includes('[Content_Types].xml') && names.some((name) => name.startsWith('Documents/')))
  ) {
    return 'xps';
  }
  const office =
    names.includes('[Content_Types].xml') || names.includes('mimetype') || names.some((n) => n.startsWith('META-INF/'));
  if (!office && names.some((name) => IMAGE_NAME.test(name))) return 'cbz';
  return null;
}

/** Reads a file's first bytes (what the server decides by). */
export async function readHead(file: Blob): Promise<Uint8Array> {
  return new Uint8Array(await file.slice(0, HEAD_BYTES).arrayBuffer());
}
