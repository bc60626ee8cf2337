import { describe, expect, it } from 'vitest';
import { compactPages, percent } from './progress';
import { checkFile, isValidCallbackUrl, isValidOcrLanguages, isValidPageRange } from './validate';
import { makeConfig, makeJob } from '../test/fixtures';

const SUPPORTED = makeConfig().supported_types;

describe('validate', () => {
  it('takes OCR languages joined by +, only those the server has when it says', () => {
    expect(isValidOcrLanguages('')).toBe(true); // the server's default
    expect(isValidOcrLanguages(' kor+eng ')).toBe(true);
    expect(isValidOcrLanguages('chi_sim')).toBe(true);
    for (const bad of ['kor eng', 'kor+', '../etc/passwd', 'a'.repeat(33)]) expect(isValidOcrLanguages(bad)).toBe(false);
    expect(isValidOcrLanguages('kor+eng', ['eng', 'kor'])).toBe(true);
    expect(isValidOcrLanguages('kor+fra', ['eng', 'kor'])).toBe(false);
  });

  it('decides the type by the bytes, as the server does, among the types /config lists', async () => {
    const sizes = (size: number, limit: number): [string, string] => [`${size}B`, `${limit}B`];
    const limits = { max_upload_bytes: 1000, supported_types: SUPPORTED };
    const check = (parts: BlobPart[], name: string, type = '', config = limits) =>
      checkFile(new File(parts, name, { type }), config, sizes);
    // a PDF is a PDF whatever its name
    expect(await check(['%PDF-1.7\n'], 'report.bin', 'application/octet-stream')).toBeNull();
    expect(await check(['%PDF-1.7\n'], 'scan')).toBeNull();
    // the server's build cannot read WebP, so neither /config nor the bytes let it through
    expect((await check(['RIFF\xa8\x01\x00\x00WEBPVP8 '], 'photo.webp', 'image/webp'))?.key).toBe('upload.reject.type');
    // an ELF named .pdf, a ZIP archive, a broken "PDF" of plain text: refused before uploading
    expect((await check(['\x7fELF\x02\x01\x01\x00'], 'program.pdf', 'application/pdf'))?.key).toBe(
      'upload.reject.type',
    );
    expect((await check(['oops\n'], 'report.pdf', 'application/pdf'))?.key).toBe('upload.reject.type');
    expect(await check(['just words\n'], 'notes.txt', 'text/plain')).toBeNull();
    // a type the server does not list is refused even when the bytes are known
    expect((await check(['%PDF-1.7\n'], 'a.pdf', '', { ...limits, supported_types: ['png'] }))?.key).toBe(
      'upload.reject.type',
    );
  });

  it('checks emptiness and size against the server limit exactly, and only emptiness without limits', async () => {
    const sizes = (size: number, limit: number): [string, string] => [`${size}B`, `${limit}B`];
    const limits = { max_upload_bytes: 10, supported_types: SUPPORTED };
    const file = (size: number, name = 'a.pdf') => new File(['%PDF-1.7\n'.padEnd(size, ' ').slice(0, size)], name);
    expect((await checkFile(file(0), limits, sizes))?.key).toBe('upload.reject.empty');
    expect(await checkFile(file(11), limits, sizes)).toEqual({
      key: 'upload.reject.size',
      params: { size: '11B', max: '10B' },
    });
    expect(await checkFile(file(10), limits, sizes)).toBeNull(); // the server refuses only size > limit
    expect(await checkFile(new File(['PK\x03\x04'], 'a.zip'), null, sizes)).toBeNull();
    expect((await checkFile(file(0), null, sizes))?.key).toBe('upload.reject.empty');
  });

  it('takes an empty callback URL or an absolute http(s) one, as the server does', () => {
    expect(isValidCallbackUrl('')).toBe(true);
    expect(isValidCallbackUrl('  https://hooks.example.com/docparse?x=1 ')).toBe(true);
    expect(isValidCallbackUrl('http://127.0.0.1:8000/hook')).toBe(true);
    expect(isValidCallbackUrl('hooks.example.com/docparse')).toBe(false);
    expect(isValidCallbackUrl('ftp://hooks.example.com/')).toBe(false);
    expect(isValidCallbackUrl('https://user:secret@hooks.example.com/')).toBe(false);
    expect(isValidCallbackUrl(`https://example.com/${'a'.repeat(2048)}`)).toBe(false);
  });

  it('validates page ranges like the server', () => {
    for (const ok of ['', '1', '1-3,7', ' 2 - 4 , 9 ', '10-', '-3']) expect(isValidPageRange(ok)).toBe(true);
    for (const bad of ['0', '3-1', 'a', '1,,2', '-', '0-2']) expect(isValidPageRange(bad)).toBe(false);
  });
});

describe('progress', () => {
  it('computes a percentage and compacts page lists', () => {
    expect(percent(makeJob({ progress: 0, pages_done: 1, pages_total: 4 }))).toBe(25);
    expect(percent(makeJob({ status: 'completed', progress: 0 }))).toBe(100);
    expect(compactPages([9, 1, 2, 3, 7, 10])).toBe('1–3, 7, 9–10');
  });
});
