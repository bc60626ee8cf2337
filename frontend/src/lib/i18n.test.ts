import { describe, expect, it } from 'vitest';
import { I18n } from './i18n.svelte';

describe('I18n', () => {
  it('fills placeholders and formats numbers for the locale', () => {
    const i18n = new I18n('en');
    expect(i18n.t('job.pages', { done: 4, total: 1200 })).toBe('4/1,200 pages');
    expect(i18n.t('job.queue_position', { position: 2 })).toBe('Position 2 in the queue');
    i18n.set('ko');
    expect(i18n.t('job.queue_position', { position: 2 })).toBe('대기열 2번째');
  });

  it('formats sizes and durations', () => {
    const i18n = new I18n('en');
    expect(i18n.bytes(0)).toBe('0 bytes');
    expect(i18n.bytes(1_500_000)).toBe('1.5 MB');
    expect(i18n.duration(42)).toBe('42 sec');
    expect(i18n.duration(83)).toBe('1 min 23 sec');
    expect(i18n.duration(3 * 3600 + 600)).toBe('3 hr 10 min');
    expect(new I18n('ko').duration(83)).toBe('1분 23초');
  });
});
