import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { makeDeliveries, makeDelivery, makeRetryingDelivery } from '../test/fixtures';
import type { Deliveries } from './api/types';
import { DeliveriesWatch, type DeliveriesApi } from './deliveries.svelte';

/** A page whose visibility the test sets. */
class FakePage extends EventTarget {
  visibilityState: DocumentVisibilityState = 'visible';

  set(state: DocumentVisibilityState) {
    this.visibilityState = state;
    this.dispatchEvent(new Event('visibilitychange'));
  }
}

const waiting = () => makeDeliveries({ deliveries: [makeDelivery({ state: 'pending', next_try: null, attempts: [] })] });

function setup(answer: () => Deliveries | Error) {
  const page = new FakePage();
  const getDeliveries = vi.fn<DeliveriesApi['getDeliveries']>(async () => {
    const next = answer();
    if (next instanceof Error) throw next;
    return next;
  });
  const watch = new DeliveriesWatch({ getDeliveries }, { interval: 3000, maxInterval: 60_000, visibility: page });
  return { page, getDeliveries, watch };
}

describe('DeliveriesWatch', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(Date.parse('2025-01-02T03:05:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('does not poll a hidden page, and asks at once when it becomes visible', async () => {
    const { page, getDeliveries, watch } = setup(waiting);
    const stop = watch.watch('j1');
    await vi.advanceTimersByTimeAsync(0);
    expect(watch.pending).toBe(true);
    expect(getDeliveries).toHaveBeenCalledTimes(1);

    page.set('hidden');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(getDeliveries).toHaveBeenCalledTimes(1);

    page.set('visible');
    await vi.advanceTimersByTimeAsync(0);
    expect(getDeliveries).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(3000);
    expect(getDeliveries).toHaveBeenCalledTimes(3);

    // after the cleanup: nothing, visible or not
    stop();
    page.set('hidden');
    page.set('visible');
    await vi.advanceTimersByTimeAsync(30_000);
    expect(getDeliveries).toHaveBeenCalledTimes(3);
  });

  it('waits for a far next try at most a minute between requests', async () => {
    const { getDeliveries, watch } = setup(() => makeDeliveries({ deliveries: [makeRetryingDelivery(Date.now(), 3600)] }));
    watch.watch('j1');
    await vi.advanceTimersByTimeAsync(59_999);
    expect(getDeliveries).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(getDeliveries).toHaveBeenCalledTimes(2);
    watch.stop();
  });

  it('backs off while the server cannot be reached, and does not poll without anything pending', async () => {
    let fail = true;
    const { getDeliveries, watch } = setup(() => (fail ? new TypeError('Failed to fetch') : makeDeliveries()));
    watch.watch('j1');
    await vi.advanceTimersByTimeAsync(0);
    expect(watch.error).toBeInstanceOf(TypeError);
    // 3 s, 6 s, 12 s after each failure
    await vi.advanceTimersByTimeAsync(3000);
    expect(getDeliveries).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(5999);
    expect(getDeliveries).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(getDeliveries).toHaveBeenCalledTimes(3);
    fail = false;
    await vi.advanceTimersByTimeAsync(12_000);
    expect(getDeliveries).toHaveBeenCalledTimes(4);
    expect(watch.error).toBeNull();
    expect(watch.value?.deliveries[0].state).toBe('delivered');
    await vi.advanceTimersByTimeAsync(600_000);
    expect(getDeliveries).toHaveBeenCalledTimes(4);
    watch.stop();
  });

  it('keeps only the newest answer when requests overlap', async () => {
    const answers: ((value: Deliveries) => void)[] = [];
    const getDeliveries = vi.fn<DeliveriesApi['getDeliveries']>(
      () => new Promise<Deliveries>((resolve) => answers.push(resolve)),
    );
    const watch = new DeliveriesWatch({ getDeliveries }, { visibility: new FakePage() });
    watch.watch('j1');
    void watch.refresh();
    answers[1](makeDeliveries());
    await vi.advanceTimersByTimeAsync(0);
    answers[0](waiting());
    await vi.advanceTimersByTimeAsync(0);
    expect(watch.value?.deliveries[0].state).toBe('delivered');
    expect(getDeliveries.mock.calls[0][1]?.aborted).toBe(true);
    watch.stop();
  });
});
