import { render, screen, within } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Deliveries as DeliveriesBody } from '../lib/api/types';
import { ApiError } from '../lib/api/problem';
import type { DeliveriesApi } from '../lib/deliveries.svelte';
import { i18n } from '../lib/i18n.svelte';
import {
  makeAttempt,
  makeDeliveries,
  makeDelivery,
  makeJob,
  makeRetryingDelivery,
  FIRST_TRY_AT,
} from '../test/fixtures';
import Deliveries from './Deliveries.svelte';

/** A stub of the API that answers `answers` in turn, then the last one again and again. */
function serve(...answers: (DeliveriesBody | Error)[]) {
  let last = answers[0];
  const getDeliveries = vi.fn<DeliveriesApi['getDeliveries']>(async () => {
    const next = answers.length > 0 ? answers.shift()! : last;
    last = next;
    if (next instanceof Error) throw next;
    return next;
  });
  return { getDeliveries };
}

const completed = makeJob({
  status: 'completed',
  pages_done: 3,
  pages_total: 3,
  started_at: '2025-01-02T03:04:06Z',
  finished_at: '2025-01-02T03:04:59Z',
});

describe('Deliveries', () => {
  beforeEach(() => i18n.set('en'));
  afterEach(() => vi.useRealTimers());

  it('shows nothing for a job without a callback URL', async () => {
    const api = serve(makeDeliveries({ callback_url: null, deliveries: [] }));
    render(Deliveries, { job: completed, api });
    await vi.waitFor(() => expect(api.getDeliveries).toHaveBeenCalledWith(completed.job_id, expect.any(AbortSignal)));
    await Promise.resolve();
    expect(screen.queryByRole('region')).not.toBeInTheDocument();
    expect(screen.queryByRole('heading', { name: 'Webhook deliveries' })).not.toBeInTheDocument();
  });

  it('shows where the status goes, each delivery with its state and every try', async () => {
    const tries = [
      makeAttempt(1, { status_code: 500, error: 'the receiver answered 500', next_try: FIRST_TRY_AT + 5 }),
      makeAttempt(2, { status_code: null, error: 'no answer within 10 s', next_try: FIRST_TRY_AT + 20 }),
      makeAttempt(3),
    ];
    const api = serve(makeDeliveries({ deliveries: [makeDelivery({ attempts: tries })] }));
    render(Deliveries, { job: completed, api });

    const region = await screen.findByRole('region', { name: 'Webhook deliveries' });
    expect(region).toHaveTextContent('The job’s status is sent to https://hooks.example.com/docparse each time it ends.');
    expect(within(region).getByRole('heading', { level: 3, name: 'Job completed' })).toBeInTheDocument();
    expect(within(region).getByText('Delivered', { exact: true })).toBeInTheDocument();
    expect(within(region).getByText('Delivered on try 3.')).toBeInTheDocument();
    expect(within(region).getByText('webhook-id msg_3f1c2a9e000040008000000000000001_1')).toBeInTheDocument();

    const table = within(region).getByRole('table', { name: 'Tries of “Job completed”' });
    const rows = within(table).getAllByRole('row').slice(1);
    expect(rows).toHaveLength(3);
    const cells = (row: HTMLElement) => within(row).getAllByRole('cell').map((cell) => cell.textContent?.trim());
    expect(within(rows[0]).getByRole('rowheader')).toHaveTextContent('1');
    expect(cells(rows[0])).toEqual([i18n.time(FIRST_TRY_AT * 1000), 'HTTP 500', i18n.time((FIRST_TRY_AT + 5) * 1000)]);
    expect(cells(rows[1])[1]).toBe('no answer within 10 s');
    expect(cells(rows[2])).toEqual([i18n.time((FIRST_TRY_AT + 20) * 1000), 'HTTP 200', 'None']);
    // times to the second: tries are seconds apart
    expect(i18n.time(FIRST_TRY_AT * 1000)).toMatch(/3:05:00|03:05:00/);
  });

  it('says when a delivery was given up', async () => {
    const tries = [makeAttempt(1, { status_code: 410, error: 'the receiver answered 410' })];
    const api = serve(makeDeliveries({ deliveries: [makeDelivery({ state: 'failed', attempts: tries })] }));
    render(Deliveries, { job: makeJob({ status: 'failed' }), api });
    expect(await screen.findByText('Gave up after 1 try.')).toBeInTheDocument();
    expect(screen.getByText('Failed', { exact: true })).toBeInTheDocument();
  });

  it('polls while a delivery is pending, by its next try, and stops once it is delivered', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const start = Date.parse('2025-01-02T03:05:00Z');
    vi.setSystemTime(start);
    const api = serve(
      makeDeliveries({ deliveries: [makeDelivery({ state: 'pending', next_try: null, attempts: [] })] }),
      makeDeliveries({ deliveries: [makeRetryingDelivery(start + 3000, 5)] }),
      makeDeliveries({
        deliveries: [
          makeDelivery({
            attempts: [
              makeAttempt(1, { status_code: 503, error: 'the receiver answered 503', next_try: start / 1000 + 8 }),
              makeAttempt(2),
            ],
          }),
        ],
      }),
    );
    render(Deliveries, { job: completed, api });
    await vi.advanceTimersByTimeAsync(0);
    expect(screen.getByText('Pending', { exact: true })).toBeInTheDocument();
    expect(screen.getByText('Waiting for the first try…')).toBeInTheDocument();
    expect(screen.queryByRole('table')).not.toBeInTheDocument();

    // waiting for a first try: fetched again every 3 s
    await vi.advanceTimersByTimeAsync(3000);
    expect(api.getDeliveries).toHaveBeenCalledTimes(2);
    expect(screen.getByText(/^Tried once; next try at /)).toBeInTheDocument();
    expect(screen.getByRole('cell', { name: 'HTTP 503' })).toBeInTheDocument();

    // the next try is due 5 s later: not asked before then (and a second after it, once it is recorded)
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.getDeliveries).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(api.getDeliveries).toHaveBeenCalledTimes(3);
    expect(screen.getByText('Delivered on try 2.')).toBeInTheDocument();

    // nothing pending: no more requests
    await vi.advanceTimersByTimeAsync(120_000);
    expect(api.getDeliveries).toHaveBeenCalledTimes(3);
  });

  it('asks again when the job ends (an ending queues a delivery)', async () => {
    const running = makeJob({ status: 'processing', pages_done: 1, pages_total: 3 });
    const api = serve(
      makeDeliveries({ deliveries: [] }),
      makeDeliveries({ deliveries: [makeDelivery({ state: 'pending', next_try: null, attempts: [] })] }),
      makeDeliveries(),
    );
    const view = render(Deliveries, { job: running, api, interval: 20 });
    expect(await screen.findByText('Nothing sent yet: the status is sent when the job ends.')).toBeInTheDocument();
    // progress of the running job asks nothing
    await view.rerender({ job: { ...running, pages_done: 2 } });
    expect(api.getDeliveries).toHaveBeenCalledTimes(1);

    await view.rerender({ job: completed });
    expect(await screen.findByText('Waiting for the first try…')).toBeInTheDocument();
    expect(await screen.findByText('Delivered on the first try.')).toBeInTheDocument();
    expect(api.getDeliveries).toHaveBeenCalledTimes(3);
  });

  it('shows nothing for a job that is gone, and says when the deliveries cannot be loaded', async () => {
    const gone = serve(new ApiError(404, { code: 'not_found', detail: 'No such job.' }));
    const view = render(Deliveries, { job: completed, api: gone });
    await vi.waitFor(() => expect(gone.getDeliveries).toHaveBeenCalled());
    expect(screen.queryByRole('heading', { name: 'Webhook deliveries' })).not.toBeInTheDocument();
    view.unmount();

    const flaky = serve(
      makeDeliveries({ deliveries: [makeDelivery({ state: 'pending', next_try: null, attempts: [] })] }),
      new ApiError(503, { code: 'unavailable', detail: 'Redis cannot be reached.' }),
      makeDeliveries(),
    );
    render(Deliveries, { job: completed, api: flaky, interval: 20 });
    expect(await screen.findByRole('alert')).toHaveTextContent(
      'The deliveries could not be loaded: Redis cannot be reached.',
    );
    // the last answer stays on screen, and the next one clears the error
    expect(screen.getByText('Waiting for the first try…')).toBeInTheDocument();
    expect(await screen.findByText('Delivered on the first try.')).toBeInTheDocument();
    expect(screen.queryByRole('alert')).not.toBeInTheDocument();
  });

  it('speaks Korean', async () => {
    i18n.set('ko');
    const api = serve(makeDeliveries({ deliveries: [makeDelivery({ attempts: [makeAttempt(1), makeAttempt(2)] })] }));
    render(Deliveries, { job: completed, api });
    const region = await screen.findByRole('region', { name: '웹훅 전송' });
    expect(within(region).getByRole('heading', { name: '작업 완료' })).toBeInTheDocument();
    expect(within(region).getByText('전송됨', { exact: true })).toBeInTheDocument();
    expect(within(region).getByText('2번째 시도에 전송했습니다.')).toBeInTheDocument();
    expect(within(region).getByRole('table', { name: '“작업 완료” 시도 내역' })).toBeInTheDocument();
    i18n.set('en');
  });
});
