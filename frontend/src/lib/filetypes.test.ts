/** The same cases as the server's backend/tests/parsing/test_detect.py: the browser and the server agree. */
import { describe, expect, it } from 'vitest';
import { detectType } from './filetypes';

const bytes = (...parts: (string | number[] | Uint8Array)[]): Uint8Array => {
  const chunks = parts.map((part) =>
    typeof part === 'string' ? Uint8Array.from(part, (c) => c.charCodeAt(0)) : Uint8Array.from(part),
  );
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
};
const utf8 = (text: string) => new TextEncoder().encode(text);
const le32 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff];
const le16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];

/** A ZIP of stored entries (local headers only, as the server reads them from the head). */
function zip(entries: Record<string, string>): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, data] of Object.entries(entries)) {
    const nameBytes = utf8(name);
    const body = utf8(data);
    parts.push(
      bytes([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0], le32(0), le32(body.length), le32(body.length)),
      bytes(le16(nameBytes.length), le16(0), nameBytes, body),
    );
  }
  return bytes(...parts);
}

function utf16(text: string, bom: boolean): Uint8Array {
  const out = [...(bom ? [0xff, 0xfe] : [])];
  for (const c of text) out.push(c.charCodeAt(0) & 0xff, c.charCodeAt(0) >> 8);
  return Uint8Array.from(out);
}

const cp1251Privet = [0xcf, 0xf0, 0xe8, 0xe2, 0xe5, 0xf2];

const HEADS: [string, Uint8Array, string | null][] = [
  ['gif89a', bytes('GIF89a\x10\x00\x10\x00'), 'gif'],
  ['gif87a', bytes('GIF87a\x10\x00\x10\x00'), 'gif'],
  ['tiff le', bytes('II*\x00\x08\x00\x00\x00'), 'tiff'],
  ['tiff be', bytes('MM\x00*\x00\x00\x00\x08'), 'tiff'],
  ['bmp', bytes('BM', le32(1000), [0, 0, 0, 0], le32(54), le32(40), new Uint8Array(36)), 'bmp'],
  ['jp2', bytes('\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjp2 '), 'jpx'],
  ['j2k', bytes([0xff, 0x4f, 0xff, 0x51, 0x00, 0x2f]), 'jpx'],
  ['jbig2', bytes('\x97JB2\r\n\x1a\n\x01\x00\x00\x00\x01'), 'jbig2'],
  ['pbm', bytes('P4\n16 16\n\xfb\x7f'), 'pnm'],
  ['ppm with comment', bytes('P6\n# made by hand\n64 48\n255\n\xc8'), 'pnm'],
  ['pam', bytes('P7\nWIDTH 4\nHEIGHT 4\n'), 'pnm'],
  ['psd', bytes('8BPS\x00\x01\x00\x00\x00\x00\x00\x00'), 'psd'],
  ['pdf', bytes('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n'), 'pdf'],
  ['pdf after junk', bytes('\r\n\x00garbage\xff\xfe before the header %PDF-1.7\n'), 'pdf'],
  ['pdf without header', bytes('%1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj \n<<\n/Type /Catalog>>\nendobj\ntrailer\n'), 'pdf'],
  ['pdf fragment', bytes('trailer<</Root<<[-2147483648 7 R 8 4 R]>>>>'), 'pdf'],
  ['xref', bytes('  xref 0 1\nstartxref 2\n'), 'pdf'],
  ['damaged header', bytes('%PDFn\r\ntrailer\r\n<</Root 5 0 R>>'), 'pdf'],
  ['mobi', bytes(new Uint8Array(60), 'BOOKMOBI', new Uint8Array(20)), 'mobi'],
  ['palm text', bytes(new Uint8Array(60), 'TEXtREAd', new Uint8Array(20)), 'mobi'],
  ['fb2', utf8('<?xml version="1.0"?>\n<FictionBook xmlns="http://www.gribuser.ru/xml/fictionbook/2.0">'), 'fb2'],
  ['fb2 cp1251', bytes('<?xml version="1.0" encoding="windows-1251"?><FictionBook><p>', cp1251Privet, '</p>'), 'fb2'],
  ['svg', utf8('<svg xmlns="http://www.w3.org/2000/svg"/>'), 'svg'],
  ['svg doctype', utf8('<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" [\n<!ENTITY a "b">\n]>\n<svg>'), 'svg'],
  ['svg prefixed', bytes([0xef, 0xbb, 0xbf], "<svg:svg xmlns:svg='http://www.w3.org/2000/svg'/>"), 'svg'],
  ['html with svg', utf8('<!DOCTYPE html><html><body><svg></svg></body></html>'), 'txt'],
  ['words', utf8('plain words\n'), 'txt'],
  ['BMW', utf8('BMW and BMX are not bitmaps\n'), 'txt'],
  ['talks about %PDF', utf8('This text talks about %PDF-1.7 headers.\n'), 'txt'],
  ['utf-8 bom', bytes([0xef, 0xbb, 0xbf], 'with a UTF-8 BOM\n'), 'txt'],
  ['utf-16 bom', utf16('UTF-16 with a BOM\n', true), 'txt'],
  ['cut character', utf8('ends in the middle of é').subarray(0, -1), 'txt'],
  ['empty', new Uint8Array(0), null],
  ['webp', bytes('RIFF\xa8\x01\x00\x00WEBPVP8 '), null],
  ['jpeg xr', bytes('II\xbc\x01\x08\x00\x00\x00'), null],
  ['latin-1', bytes('caf\xe9 in latin-1\n'), null],
  ['NUL', bytes('text with a NUL\x00 byte'), null],
  ['elf', bytes('\x7fELF\x02\x01\x01\x00'), null],
  ['utf-16 without bom', utf16('UTF-16 without a BOM', false), null],
];

describe('detectType (the server\'s rules, in the browser)', () => {
  it.each(HEADS)('%s', (_name, head, expected) => {
    expect(detectType(head)).toBe(expected);
  });

  it.each([
    [{ 'META-INF/container.xml': '<container/>', 'content.opf': '<package/>' }, 'epub'],
    [{ mimetype: 'application/epub+zip', 'OEBPS/a.xhtml': '<html/>' }, 'epub'],
    [{ '[Content_Types].xml': '<Types/>', 'Documents/1/Pages/1.fpage': '<FixedPage/>' }, 'xps'],
    [{ 'ComicInfo.xml': '<ComicInfo/>', '001.jpg': '\xff\xd8\xff', '002.jpg': '\xff\xd8\xff' }, 'cbz'],
    [{ '[Content_Types].xml': '<Types/>', 'word/document.xml': '<w/>', 'word/media/a.png': 'x' }, null],
    [{ mimetype: 'application/vnd.oasis.opendocument.text', 'Pictures/a.png': 'x' }, null],
    [{ 'notes.txt': 'hello', 'data.csv': 'a,b' }, null],
  ])('zip %#', (entries, expected) => {
    expect(detectType(zip(entries))).toBe(expected);
  });

  it('lets the name veto plain text only for binary formats; the bytes decide the rest', () => {
    expect(detectType(utf8('just some words\n'), 'notes.txt')).toBe('txt');
    expect(detectType(utf8('just some words\n'), 'notes')).toBe('txt');
    expect(detectType(utf8('oops\n'), 'report.PDF')).toBeNull();
    expect(detectType(utf8('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n'), 'misnamed.txt')).toBe('pdf');
    expect(detectType(utf8('%PDF-1.7\n'), 'report.bin')).toBe('pdf');
  });
});
