import { render, screen, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../lib/api/problem';
import type { Job } from '../lib/api/types';
import { i18n } from '../lib/i18n.svelte';
import type { JobActions } from '../lib/jobs.svelte';
import { makeJob } from '../test/fixtures';
import JobCard from './JobCard.svelte';

function setup(job: Job) {
  const actions = {
    cancel: vi.fn<JobActions['cancel']>(async () => undefined),
    retry: vi.fn<JobActions['retry']>(async () => undefined),
  };
  const view = render(JobCard, { job, actions });
  return { actions, view, user: userEvent.setup() };
}

describe('JobCard', () => {
  beforeEach(() => i18n.set('en'));
  afterEach(() => vi.useRealTimers());

  it('shows a queued job with its queue position and a Cancel button', async () => {
    const { actions, user } = setup(makeJob({ status: 'queued', queue_position: 3 }));
    const card = screen.getByRole('article', { name: 'report.pdf' });
    expect(within(card).getByText('Queued')).toBeInTheDocument();
    expect(within(card).getByText('3 jobs ahead in the queue')).toBeInTheDocument();
    expect(within(card).getByText(/PDF/)).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(actions.cancel).toHaveBeenCalledWith(makeJob().job_id);
  });

  it('says "next in the queue" when no job is ahead', () => {
    setup(makeJob({ status: 'queued', queue_position: 0 }));
    expect(screen.getByText('Next in the queue')).toBeInTheDocument();
  });

  it('shows a processing job as "4/10 pages" with a progress bar, and no ETA from a single status', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-01-02T03:05:05Z'));
    setup(
      makeJob({
        status: 'processing',
        progress: 40,
        pages_done: 4,
        pages_total: 10,
        started_at: '2025-01-02T03:04:45Z', // 20 s for 4 pages → 30 s for the 6 left
      }),
    );
    const bar = screen.getByRole('progressbar', { name: 'Parsing progress of report.pdf' });
    expect(bar).toHaveAttribute('value', '40');
    expect(bar).toHaveAttribute('aria-valuetext', '4/10 pages');
    expect(screen.getByText('4/10 pages')).toBeInTheDocument();
    expect(bar.closest('[aria-live="polite"]')).not.toBeNull();
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeEnabled();
  });

  it('says when a long document is parsed in parts by several workers at once', async () => {
    setup(
      makeJob({
        status: 'processing',
        progress: 50,
        pages_done: 1200,
        pages_total: 2415,
        chunks: { total: 9, running: 2, done: 4 },
      }),
    );
    expect(screen.getByText(/1,200\/2,415 pages.* · 2 of 9 parts in parallel$/)).toBeInTheDocument();
    i18n.set('ko');
    expect(await screen.findByText(/9개 구간 중 2개 동시 처리 중$/)).toBeInTheDocument();
  });

  it('keeps the ETA right while statuses arrive faster than once a second', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'] });
    vi.setSystemTime(new Date('2025-01-02T03:04:45Z'));
    const running = { status: 'processing', pages_total: 10, started_at: '2025-01-02T03:04:45Z' } as const;
    const { view } = setup(makeJob({ ...running, pages_done: 0 }));
    // 20 s with a status every 250 ms, as the server sends them: 4 pages done by the end → 30 s for the 6 left
    for (let i = 1; i <= 80; i++) {
      vi.advanceTimersByTime(250);
      const done = Math.floor(i / 20);
      await view.rerender({ job: makeJob({ ...running, pages_done: done, progress: done * 10 }) });
    }
    expect(screen.getByText('4/10 pages · about 30 sec left')).toBeInTheDocument();
  });

  it('shows a completed job with a link to its result and no Cancel/Retry', () => {
    setup(
      makeJob({
        status: 'completed',
        progress: 100,
        pages_done: 10,
        pages_total: 10,
        started_at: '2025-01-02T03:04:05Z',
        finished_at: '2025-01-02T03:04:17Z',
      }),
    );
    expect(screen.getByText('Completed')).toBeInTheDocument();
    expect(screen.getByText('Parsed 10 pages in 12 sec')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'View result' })).toHaveAttribute('href', `#/jobs/${makeJob().job_id}`);
    expect(screen.queryByRole('button', { name: 'Cancel' })).not.toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();
  });

  it('says "1 page" and "under a second" for a one-page document parsed at once', () => {
    setup(
      makeJob({
        status: 'completed',
        pages_done: 1,
        pages_total: 1,
        started_at: '2025-01-02T03:04:05.100Z',
        finished_at: '2025-01-02T03:04:05.400Z',
      }),
    );
    expect(screen.getByText('Parsed 1 page in under a second')).toBeInTheDocument();
  });

  it('retries a failure that may pass the second time', async () => {
    const { actions, user } = setup(
      makeJob({ status: 'failed', error: { code: 'worker_lost', message: 'the worker stopped' } }),
    );
    expect(screen.getByText('Failed')).toBeInTheDocument();
    expect(screen.getByText('The worker parsing this document stopped unexpectedly.')).toBeInTheDocument();
    expect(screen.getByText('Server message: the worker stopped')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Cancel' })).not.toBeInTheDocument();

    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect(actions.retry).toHaveBeenCalledWith(makeJob().job_id, undefined);
  });

  it.each(['corrupt', 'unsupported_type', 'too_many_pages', 'memory_limit'])(
    'offers no Retry for "%s", which would fail the same way',
    (code) => {
      setup(makeJob({ status: 'failed', error: { code, message: 'the server says why' } }));
      expect(screen.getByText('Failed')).toBeInTheDocument();
      expect(screen.getByText('Server message: the server says why')).toBeInTheDocument();
      expect(screen.queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();
    },
  );

  it('says what to do for a damaged file instead of offering Retry', () => {
    setup(makeJob({ status: 'failed', error: { code: 'corrupt', message: 'cannot open broken document' } }));
    expect(screen.getByText('The file is damaged and could not be read.')).toBeInTheDocument();
    expect(screen.getByText(/save or export it again/)).toBeInTheDocument();
  });

  it('offers a new page range for a range the document does not have, and uploads the file again with it', async () => {
    const job = makeJob({
      status: 'failed',
      error: { code: 'invalid_request', message: "pages: 5 is beyond the document's 1 page." },
    });
    const reupload = vi.fn<NonNullable<JobActions['reupload']>>(async () => undefined);
    const actions = { cancel: vi.fn(), retry: vi.fn(), canReupload: () => true, reupload };
    render(JobCard, { job, actions });
    const user = userEvent.setup();
    expect(screen.getByText('The page range does not fit this document.')).toBeInTheDocument();
    expect(screen.queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();
    const submit = screen.getByRole('button', { name: 'Upload again with these pages' });
    expect(submit).toBeDisabled();
    await user.type(screen.getByLabelText('New page range'), '1');
    await user.click(submit);
    expect(reupload).toHaveBeenCalledWith(job.job_id, '1');
    expect(actions.retry).not.toHaveBeenCalled();
  });

  it('sends to the upload form for a bad page range when this tab no longer has the file', () => {
    setup(makeJob({ status: 'failed', error: { code: 'invalid_request', message: 'pages: 5 is beyond' } }));
    expect(screen.getByRole('link', { name: 'Upload the file again' })).toHaveAttribute('href', '#/');
    expect(screen.queryByRole('button', { name: 'Retry' })).not.toBeInTheDocument();
  });

  it('asks for the password of an encrypted PDF and retries with it', async () => {
    const { actions, user } = setup(
      makeJob({ status: 'failed', error: { code: 'encrypted', message: 'Document is encrypted' } }),
    );
    expect(
      screen.getByText('This PDF is password protected — enter the password and retry.'),
    ).toBeInTheDocument();
    const retry = screen.getByRole('button', { name: 'Retry' });
    expect(retry).toBeDisabled();

    await user.type(screen.getByLabelText('Document password'), 's3cret');
    await user.click(retry);
    expect(actions.retry).toHaveBeenCalledWith(makeJob().job_id, 's3cret');
  });

  it("shows the server's message when an action fails", async () => {
    const { actions, user } = setup(makeJob({ status: 'processing', pages_done: 1, pages_total: 2 }));
    actions.cancel.mockRejectedValueOnce(
      new ApiError(409, { status: 409, code: 'conflict', detail: 'The job has already finished.' }),
    );
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('The job has already finished.');
  });

  it('shows a cancelled job with Retry', async () => {
    const { actions, user } = setup(
      makeJob({ status: 'cancelled', pages_done: 2, pages_total: 5, error: { code: 'cancelled', message: 'x' } }),
    );
    expect(screen.getByText('Cancelled')).toBeInTheDocument();
    expect(screen.getByText('The job was cancelled.')).toBeInTheDocument();
    expect(screen.getByText('2 of 5 pages were parsed before it stopped.')).toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Retry' }));
    expect(actions.retry).toHaveBeenCalledOnce();
  });

  it('updates when the job changes', async () => {
    const { view } = setup(makeJob({ status: 'queued', queue_position: 1 }));
    await view.rerender({ job: makeJob({ status: 'processing', pages_done: 1, pages_total: 4, progress: 25 }) });
    expect(screen.getByText('Processing')).toBeInTheDocument();
    expect(screen.getByText(/^1\/4 pages/)).toBeInTheDocument();
  });

  it('says a result was reused from an earlier upload, with a link to it while it exists', async () => {
    const reused = makeJob({
      status: 'completed',
      pages_done: 3,
      pages_total: 3,
      started_at: '2025-01-02T03:04:06Z',
      finished_at: '2025-01-02T03:04:06.010Z',
      reused_from: { job_id: 'earlier-job', parsed_at: '2024-12-31T10:00:00Z' },
    });
    const exists = vi.fn<NonNullable<JobActions['exists']>>(async () => true);
    const actions = { cancel: vi.fn(), retry: vi.fn(), exists };
    const view = render(JobCard, { job: reused, actions });
    const note = screen.getByText(/^Result reused from/);
    expect(note).toHaveTextContent(
      `Result reused from an earlier upload of the same file (parsed ${i18n.date('2024-12-31T10:00:00Z')}).`,
    );
    const link = await screen.findByRole('link', { name: 'an earlier upload of the same file' });
    expect(link).toHaveAttribute('href', '#/jobs/earlier-job');
    expect(exists).toHaveBeenCalledWith('earlier-job');
    // the copy took milliseconds: no parse time is claimed
    expect(screen.getByText('Parsed 3 pages')).toBeInTheDocument();

    expect(exists).toHaveBeenCalledOnce();
    // statuses arriving again ask nothing more
    await view.rerender({ job: { ...reused, message: 'again' } });
    expect(exists).toHaveBeenCalledOnce();
    view.unmount();

    // the earlier job was deleted: the same note, without a link
    render(JobCard, { job: reused, actions: { ...actions, exists: vi.fn(async () => false) } });
    await Promise.resolve();
    expect(screen.getByText(/^Result reused from an earlier upload of the same file/)).toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'an earlier upload of the same file' })).not.toBeInTheDocument();
  });

  it('says a reused result without its parse time, and in Korean', async () => {
    const reused = makeJob({ status: 'completed', reused_from: { job_id: 'earlier-job', parsed_at: null } });
    setup(reused);
    expect(screen.getByText('Result reused from an earlier upload of the same file.')).toBeInTheDocument();
    i18n.set('ko');
    expect(await screen.findByText('같은 파일의 이전 업로드의 결과를 재사용했습니다.')).toBeInTheDocument();
  });

  it('says nothing about reuse for a job parsed from its own file', () => {
    setup(makeJob({ status: 'completed', pages_done: 1, pages_total: 1 }));
    expect(screen.queryByText(/reused/)).not.toBeInTheDocument();
  });
});
