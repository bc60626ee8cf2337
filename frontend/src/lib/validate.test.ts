import { describe, expect, it } from 'vitest';
import { compactPages, etaSeconds, percent } from './progress';
import { acceptAttribute, checkFile, isValidOcrLanguages, isValidPageRange, mayBeSupported } from './validate';
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

  it("lets through what the server may take, by its name, the browser's MIME type, or for lack of either", () => {
    const ok = (name: string, type = '') => mayBeSupported({ name, type }, SUPPORTED);
    expect(ok('a.PDF')).toBe(true);
    expect(ok('book.epub')).toBe(true);
    expect(ok('scan', 'image/png')).toBe(true);
    expect(ok('photo.JPG')).toBe(true);
    expect(ok('notes.md', 'text/markdown')).toBe(true);
    // the server decides by the bytes: unknown names and generic types are not refused here
    expect(ok('noext')).toBe(true);
    expect(ok('report.bin', 'application/octet-stream')).toBe(true);
    expect(ok('a.exe')).toBe(true);
    expect(ok('report.pdf', 'application/zip')).toBe(true);
  });

  it("refuses only what the name or the browser says is a type the server does not list", () => {
    const ok = (name: string, type = '') => mayBeSupported({ name, type }, SUPPORTED);
    expect(ok('a.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document')).toBe(false);
    expect(ok('archive.zip', 'application/zip')).toBe(false);
    // PyMuPDF knows these, but this server's build cannot read them, so /config leaves them out
    expect(ok('photo.webp', 'image/webp')).toBe(false);
    expect(ok('photo.jxr', 'image/vnd.ms-photo')).toBe(false);
    // a type the server adds later is accepted by its own name
    expect(mayBeSupported({ name: 'page.webp', type: 'image/webp' }, [...SUPPORTED, 'webp'])).toBe(true);
  });

  it('builds the picker filter from the server list', () => {
    const accept = acceptAttribute(['pdf', 'jpeg']).split(',');
    expect(accept).toEqual(expect.arrayContaining(['.pdf', '.jpg', '.jpeg', 'application/pdf', 'image/jpeg']));
    expect(accept).not.toContain('.webp');
  });

  it('checks emptiness, type and size against the server limits, and only emptiness without them', () => {
    const fmt = (n: number) => `${n}B`;
    const limits = { max_upload_bytes: 10, supported_types: SUPPORTED };
    expect(checkFile({ name: 'a.pdf', type: '', size: 0 }, limits, fmt)?.key).toBe('upload.reject.empty');
    expect(checkFile({ name: 'a.pdf', type: '', size: 11 }, limits, fmt)).toEqual({
      key: 'upload.reject.size',
      params: { size: '11B', max: '10B' },
    });
    expect(checkFile({ name: 'a.pdf', type: '', size: 10 }, limits, fmt)).toBeNull();
    expect(checkFile({ name: 'a.zip', type: 'application/zip', size: 5 }, limits, fmt)?.key).toBe('upload.reject.type');
    expect(checkFile({ name: 'a.zip', type: 'application/zip', size: 5000 }, null, fmt)).toBeNull();
    expect(checkFile({ name: 'a.pdf', type: '', size: 0 }, null, fmt)?.key).toBe('upload.reject.empty');
  });

  it('validates page ranges like the server', () => {
    for (const ok of ['', '1', '1-3,7', ' 2 - 4 , 9 ', '10-', '-3']) expect(isValidPageRange(ok)).toBe(true);
    for (const bad of ['0', '3-1', 'a', '1,,2', '-', '0-2']) expect(isValidPageRange(bad)).toBe(false);
  });
});

describe('progress', () => {
  it('estimates the time left from the pace so far', () => {
    const job = makeJob({ status: 'processing', pages_done: 5, pages_total: 20, started_at: '2025-01-01T00:00:00Z' });
    expect(etaSeconds(job, Date.parse('2025-01-01T00:00:10Z'))).toBe(30);
    expect(etaSeconds({ ...job, pages_done: 0 }, Date.now())).toBeNull();
    expect(etaSeconds({ ...job, status: 'queued' }, Date.now())).toBeNull();
  });

  it('computes a percentage and compacts page lists', () => {
    expect(percent(makeJob({ progress: 0, pages_done: 1, pages_total: 4 }))).toBe(25);
    expect(percent(makeJob({ status: 'completed', progress: 0 }))).toBe(100);
    expect(compactPages([9, 1, 2, 3, 7, 10])).toBe('1–3, 7, 9–10');
  });
});
