import { describe, expect, it } from 'vitest';
import { compactPages, etaSeconds, percent } from './progress';
import { checkFile, isSupportedType, isValidPageRange } from './validate';
import { makeJob } from '../test/fixtures';

describe('validate', () => {
  it('accepts the types PyMuPDF opens, by extension or MIME type', () => {
    expect(isSupportedType({ name: 'a.PDF', type: '' })).toBe(true);
    expect(isSupportedType({ name: 'book.epub', type: '' })).toBe(true);
    expect(isSupportedType({ name: 'scan', type: 'image/png' })).toBe(true);
    expect(isSupportedType({ name: 'noext', type: '' })).toBe(true);
    expect(isSupportedType({ name: 'a.docx', type: 'application/msword' })).toBe(false);
    expect(isSupportedType({ name: 'a.exe', type: '' })).toBe(false);
  });

  it('checks emptiness and size', () => {
    const fmt = (n: number) => `${n}B`;
    expect(checkFile({ name: 'a.pdf', type: '', size: 0 }, 10, fmt)?.key).toBe('upload.reject.empty');
    expect(checkFile({ name: 'a.pdf', type: '', size: 11 }, 10, fmt)).toEqual({
      key: 'upload.reject.size',
      params: { size: '11B', max: '10B' },
    });
    expect(checkFile({ name: 'a.pdf', type: '', size: 10 }, 10, fmt)).toBeNull();
  });

  it('validates page ranges like the server', () => {
    for (const ok of ['', '1', '1-3,7', ' 2 - 4 , 9 ']) expect(isValidPageRange(ok)).toBe(true);
    for (const bad of ['0', '3-1', 'a', '1,,2', '1-', '-3']) expect(isValidPageRange(bad)).toBe(false);
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
