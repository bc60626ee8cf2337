import { describe, expect, it } from 'vitest';
import { I18n } from './i18n.svelte';

describe('I18n', () => {
  it('fills placeholders and formats numbers for the locale', () => {
    const i18n = new I18n('en');
    expect(i18n.t('job.pages', { done: 4, total: 1200 })).toBe('4/1,200 pages');
    expect(i18n.t('job.queue_position', { position: 2 })).toBe('2 jobs ahead in the queue');
    i18n.set('ko');
    expect(i18n.t('job.queue_position', { position: 2 })).toBe('앞에 작업 2개 대기 중');
  });

  it('chooses plural forms with Intl.PluralRules in both languages', () => {
    const i18n = new I18n('en');
    expect(i18n.t('job.done', { total: 1, time: i18n.duration(3) })).toBe('Parsed 1 page in 3 sec');
    expect(i18n.t('job.done', { total: 2, time: i18n.duration(3) })).toBe('Parsed 2 pages in 3 sec');
    expect(i18n.t('job.done_fast', { total: 1 })).toBe('Parsed 1 page in under a second');
    expect(i18n.t('job.done_short', { total: 1_000 })).toBe('Parsed 1,000 pages');
    expect(i18n.t('job.pages', { done: 0, total: 1 })).toBe('0/1 page');
    expect(i18n.t('job.queue_position', { position: 1 })).toBe('1 job ahead in the queue');
    expect(i18n.t('job.partial', { done: 1, total: 1 })).toBe('1 of 1 page was parsed before it stopped.');
    expect(i18n.t('job.failed_pages', { count: 1, pages: '3' })).toBe('Page that could not be parsed: 3');
    expect(i18n.t('viewer.stats', { chars: 1, blocks: 2, links: 0, images: 1, tables: 1 })).toBe(
      '1 character · 2 blocks · 0 links · 1 image · 1 table',
    );
    expect(i18n.t('job.confirm_delete_running', { status: 'queued' })).toMatch(/^It is still waiting in the queue:/);
    expect(i18n.t('job.confirm_delete_running', { status: 'processing' })).toMatch(/^It is still being parsed:/);
    i18n.set('ko');
    expect(i18n.t('job.done', { total: 1, time: i18n.duration(3) })).toBe('1페이지를 3초 만에 처리했습니다');
    expect(i18n.t('job.done_fast', { total: 1 })).toBe('1페이지를 1초 안에 처리했습니다');
    expect(i18n.t('job.pages', { done: 1, total: 1 })).toBe('1/1 페이지');
    expect(i18n.t('viewer.stats', { chars: 1, blocks: 2, links: 0, images: 1, tables: 1 })).toBe(
      '글자 1개 · 블록 2개 · 링크 0개 · 이미지 1개 · 표 1개',
    );
  });

  it('leaves unknown placeholders as written', () => {
    const i18n = new I18n('en');
    expect(i18n.t('job.eta', {})).toBe('about {time} left');
  });

  it('formats sizes in binary units labelled KiB, MiB, GiB', () => {
    const i18n = new I18n('en');
    expect(i18n.bytes(0)).toBe('0 bytes');
    expect(i18n.bytes(1)).toBe('1 byte');
    expect(i18n.bytes(1536)).toBe('1.5 KiB');
    expect(i18n.bytes(1_500_000)).toBe('1.4 MiB');
    expect(i18n.bytes(200 * 2 ** 20)).toBe('200 MiB');
    expect(i18n.bytes(2 ** 30)).toBe('1 GiB');
    expect(new I18n('ko').bytes(2 ** 30)).toBe('1 GiB');
    expect(new I18n('ko').bytes(10)).toBe('10바이트');
  });

  it('shows a size just over a limit with enough decimals to read as larger', () => {
    const i18n = new I18n('en');
    expect(i18n.bytesApart(1_080_000_000, 2 ** 30)).toEqual(['1.01 GiB', '1 GiB']);
    expect(i18n.bytesApart(2 ** 30 + 1, 2 ** 30)).toEqual(['1.001 GiB', '1 GiB']);
    expect(i18n.bytesApart(3 * 2 ** 30, 2 ** 30)).toEqual(['3 GiB', '1 GiB']);
  });

  it('formats durations, and says so under a second', () => {
    const i18n = new I18n('en');
    expect(i18n.duration(0)).toBe('under a second');
    expect(i18n.duration(0.6)).toBe('under a second');
    expect(i18n.duration(42)).toBe('42 sec');
    expect(i18n.duration(83)).toBe('1 min 23 sec');
    expect(i18n.duration(3 * 3600 + 600)).toBe('3 hr 10 min');
    expect(new I18n('ko').duration(83)).toBe('1분 23초');
    expect(new I18n('ko').duration(0.2)).toBe('1초 미만');
  });
});
