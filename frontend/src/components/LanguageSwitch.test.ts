import { render, screen } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigStore } from '../lib/config.svelte';
import { detectLocale, i18n } from '../lib/i18n.svelte';
import { UploadsStore } from '../lib/uploads.svelte';
import { makeJob } from '../test/fixtures';
import JobCard from './JobCard.svelte';
import LanguageSwitch from './LanguageSwitch.svelte';
import UploadZone from './UploadZone.svelte';

describe('LanguageSwitch', () => {
  beforeEach(() => i18n.set('en'));

  it('switches every label to Korean and back', async () => {
    const config = new ConfigStore();
    const store = new UploadsStore({
      upload: vi.fn(),
      onAccepted: vi.fn(),
      config: () => config.value,
      formatSizes: (size, limit) => i18n.bytesApart(size, limit),
    });
    render(LanguageSwitch);
    render(UploadZone, { store, config });
    render(JobCard, {
      job: makeJob({ status: 'processing', pages_done: 4, pages_total: 10, progress: 40 }),
      actions: { cancel: vi.fn(), retry: vi.fn() },
    });
    const user = userEvent.setup();

    expect(screen.getByRole('button', { name: 'Upload' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeInTheDocument();

    await user.selectOptions(screen.getByLabelText('Language'), '한국어');

    expect(screen.getByRole('button', { name: '업로드' })).toBeInTheDocument();
    expect(screen.getByRole('button', { name: '취소' })).toBeInTheDocument();
    expect(screen.getByLabelText('파일 선택')).toBeInTheDocument();
    expect(screen.getByLabelText('비밀번호')).toBeInTheDocument();
    expect(screen.getByText('처리 중')).toBeInTheDocument();
    expect(screen.getByText('4/10 페이지')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Upload' })).not.toBeInTheDocument();
    expect(document.documentElement.lang).toBe('ko');
    expect(localStorage.getItem('docparse.locale')).toBe('ko');

    await user.selectOptions(screen.getByLabelText('언어'), 'English');
    expect(screen.getByRole('button', { name: 'Upload' })).toBeInTheDocument();
  });

  it('picks the first supported browser language', () => {
    expect(detectLocale(['ko-KR', 'en-US'])).toBe('ko');
    expect(detectLocale(['fr-FR', 'en-GB'])).toBe('en');
    expect(detectLocale(['de'])).toBe('en');
  });
});
