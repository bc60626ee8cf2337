import { render, screen, waitFor, within } from '@testing-library/svelte';
import userEvent from '@testing-library/user-event';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import { i18n } from './lib/i18n.svelte';
import { jsonResponse, makeConfig, makeJob, readRequest } from './test/fixtures';

const done = makeJob({ job_id: 'j-done', filename: 'done.pdf', status: 'completed', pages_done: 2, pages_total: 2 });
const broken = makeJob({ job_id: 'j-bad', filename: 'bad.pdf', status: 'failed', error: { code: 'corrupt', message: 'x' } });

describe('App', () => {
  beforeEach(() => {
    i18n.set('en');
    window.location.hash = '';
    vi.unstubAllGlobals();
  });

  it('shows the upload page, then the history with a filter, and deletes a job', async () => {
    let listed = [done, broken];
    const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const { url, method } = await readRequest(input, init);
      if (url.pathname === '/config') return jsonResponse(makeConfig({ max_upload_bytes: 1e6, max_pages: 50 }));
      if (url.pathname === '/jobs') {
        const status = url.searchParams.get('status');
        return jsonResponse({ jobs: listed.filter((job) => !status || job.status === status), next_cursor: null });
      }
      if (method === 'DELETE') {
        listed = listed.filter((job) => !url.pathname.endsWith(job.job_id));
        return new Response(null, { status: 204 });
      }
      return jsonResponse({ status: 404, code: 'not_found', detail: 'No such job.' }, 404);
    });
    vi.stubGlobal('fetch', fetch);
    const user = userEvent.setup();
    render(App);

    expect(screen.getByRole('heading', { name: 'Upload documents' })).toBeInTheDocument();
    await waitFor(() => expect(screen.getByText(/up to 977 KiB per file · at most 50 pages/)).toBeInTheDocument());

    await user.click(screen.getByRole('link', { name: 'History' }));
    const bad = await screen.findByRole('article', { name: 'bad.pdf' });
    expect(screen.getByRole('heading', { level: 1, name: 'History' })).toHaveFocus(); // a new screen starts there
    expect(within(bad).getByText('Failed')).toBeInTheDocument();
    expect(screen.getByRole('link', { name: 'done.pdf' })).toHaveAttribute('href', '#/jobs/j-done');

    await user.selectOptions(screen.getByLabelText('Status'), 'Completed');
    await waitFor(() => expect(screen.queryByRole('article', { name: 'bad.pdf' })).not.toBeInTheDocument());
    const asked = await Promise.all(fetch.mock.calls.map(([input, init]) => readRequest(input, init)));
    expect(asked.map(({ url }) => url.pathname + url.search)).toContain('/jobs?status=completed&limit=20');

    await user.click(within(screen.getByRole('article', { name: 'done.pdf' })).getByRole('button', { name: 'Delete done.pdf' }));
    // it asks first; "Keep it" keeps it
    const dialog = await screen.findByRole('alertdialog', { name: 'Delete done.pdf?' });
    expect(dialog).toHaveTextContent('This cannot be undone.');
    expect(within(dialog).getByRole('button', { name: 'Keep it' })).toHaveFocus();
    await user.click(within(dialog).getByRole('button', { name: 'Keep it' }));
    expect(screen.queryByRole('alertdialog')).not.toBeInTheDocument();
    expect(fetch.mock.calls.some(([, init]) => init?.method === 'DELETE')).toBe(false);
    await user.click(within(screen.getByRole('article', { name: 'done.pdf' })).getByRole('button', { name: 'Delete done.pdf' }));
    await user.click(within(await screen.findByRole('alertdialog')).getByRole('button', { name: 'Delete' }));
    await waitFor(() => expect(screen.queryByRole('article', { name: 'done.pdf' })).not.toBeInTheDocument());
    expect(screen.getByText('done.pdf was deleted.')).toBeInTheDocument();
    expect(screen.getByText('No jobs with this status.')).toBeInTheDocument();
  });

  it('asks for an API key when the server answers 401 and sends it', async () => {
    const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const { url, headers } = await readRequest(input, init);
      const authorized = headers.get('Authorization') === 'Bearer sekrit';
      if (url.pathname === '/config') return new Response('', { status: 404 });
      if (!authorized) return jsonResponse({ status: 401, code: 'unauthorized', detail: 'An API key is required.' }, 401);
      return jsonResponse({ jobs: [done], next_cursor: null });
    });
    vi.stubGlobal('fetch', fetch);
    window.location.hash = '#/history';
    const user = userEvent.setup();
    render(App);

    const dialog = await screen.findByRole('dialog', { name: 'API key required' });
    await user.type(within(dialog).getByLabelText('API key'), 'sekrit');
    await user.click(within(dialog).getByRole('button', { name: 'Save key' }));

    expect(await screen.findByRole('article', { name: 'done.pdf' })).toBeInTheDocument();
    expect(localStorage.getItem('docparse.apiKey')).toBe('sekrit');
    expect(screen.queryByRole('dialog')).not.toBeInTheDocument();
    await user.click(screen.getByRole('button', { name: 'Forget API key' }));
    expect(localStorage.getItem('docparse.apiKey')).toBeNull();
  });

  it('opens a job page: an encrypted PDF is retried with its password', async () => {
    let current = makeJob({
      job_id: 'j-enc',
      filename: 'secret.pdf',
      status: 'failed',
      error: { code: 'encrypted', message: 'Document is encrypted' },
    });
    const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const { url, method, body } = await readRequest(input, init);
      if (url.pathname === '/jobs/j-enc/retry' && method === 'POST') {
        expect(JSON.parse(body)).toEqual({ password: 'open sesame' });
        current = { ...current, status: 'queued', error: null, queue_position: 1, attempts: 2 };
        return jsonResponse(current);
      }
      if (url.pathname === '/jobs/j-enc') return jsonResponse(current);
      return new Response('', { status: 404 });
    });
    vi.stubGlobal('fetch', fetch);
    window.location.hash = '#/jobs/j-enc';
    const user = userEvent.setup();
    render(App);

    expect(
      await screen.findByText('This PDF is password protected — enter the password and retry.'),
    ).toBeInTheDocument();
    await user.type(screen.getByLabelText('Document password'), 'open sesame');
    await user.click(screen.getByRole('button', { name: 'Retry' }));

    expect(await screen.findByText('1 job ahead in the queue')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Cancel' })).toBeInTheDocument();
    // deleting a job that is still waiting says so
    await user.click(screen.getByRole('button', { name: 'Delete secret.pdf' }));
    expect(await screen.findByRole('alertdialog')).toHaveTextContent(/still waiting in the queue: deleting it stops it/);
  });
});
