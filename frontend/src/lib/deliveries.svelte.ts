/**
 * DeliveriesWatch: a job's webhook deliveries (`GET /jobs/{id}/deliveries`), kept fresh while one is pending.
 *
 * Fetched when watching starts and again whenever the caller says the job ended (`refresh()`): an ending queues a
 * delivery. While a delivery is pending and the page is visible it is fetched again: every `interval` while a try
 * is due, else just after the earliest next try (at most `maxInterval` apart, so a receiver answering again is
 * seen). Hidden pages are not polled; becoming visible fetches at once. Nothing pending: no polling at all.
 */
import type { ApiClient } from './api/client';
import { ApiError } from './api/problem';
import type { Deliveries } from './api/types';

export type DeliveriesApi = Pick<ApiClient, 'getDeliveries'>;

export interface DeliveriesWatchOptions {
  /** Milliseconds between fetches while a try is due (or its time is unknown). */
  interval?: number;
  /** Milliseconds between fetches at most while the next try is far off. */
  maxInterval?: number;
  /** The page's visibility; tests pass their own. */
  visibility?: { readonly visibilityState: DocumentVisibilityState } & Pick<
    EventTarget,
    'addEventListener' | 'removeEventListener'
  >;
  /** The clock, in milliseconds. */
  now?: () => number;
}

export class DeliveriesWatch {
  /** The last answer; null until the first one (or when the job is gone). */
  value = $state<Deliveries | null>(null);
  /** The last fetch's error, cleared by the next answer. */
  error = $state<unknown>(null);

  readonly pending = $derived(this.value?.deliveries.some((delivery) => delivery.state === 'pending') ?? false);

  readonly #api: DeliveriesApi;
  readonly #interval: number;
  readonly #maxInterval: number;
  readonly #visibility: DeliveriesWatchOptions['visibility'];
  readonly #now: () => number;
  #id: string | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #controller: AbortController | null = null;
  /** Bumped by every fetch and by stop(), so an answer overtaken by a newer request is dropped. */
  #generation = 0;
  /** Failed fetches in a row, to back off while the server cannot be reached. */
  #failures = 0;

  constructor(api: DeliveriesApi, options: DeliveriesWatchOptions = {}) {
    this.#api = api;
    this.#interval = options.interval ?? 3000;
    this.#maxInterval = options.maxInterval ?? 60_000;
    this.#visibility = options.visibility ?? (typeof document === 'undefined' ? undefined : document);
    this.#now = options.now ?? Date.now;
  }

  /** Fetches the deliveries of `id` now and keeps them fresh while one is pending; returns the cleanup. */
  watch(id: string): () => void {
    this.stop();
    this.#id = id;
    this.value = null;
    this.error = null;
    this.#failures = 0;
    this.#visibility?.addEventListener('visibilitychange', this.#onVisibility);
    void this.refresh();
    return () => this.stop();
  }

  /** Fetches again at once (the job ended, or the page became visible), then polls while a delivery is pending. */
  async refresh(): Promise<void> {
    const id = this.#id;
    if (id === null) return;
    clearTimeout(this.#timer);
    this.#controller?.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const generation = ++this.#generation;
    try {
      const answer = await this.#api.getDeliveries(id, controller.signal);
      if (generation !== this.#generation) return;
      this.value = answer;
      this.error = null;
      this.#failures = 0;
    } catch (error) {
      if (generation !== this.#generation) return;
      if (error instanceof ApiError && error.status === 404) {
        this.value = null; // the job is gone: nothing to show, nothing to wait for
        return;
      }
      this.error = error;
      this.#failures += 1;
    }
    this.#schedule();
  }

  stop(): void {
    this.#generation += 1;
    clearTimeout(this.#timer);
    this.#controller?.abort();
    this.#controller = null;
    this.#visibility?.removeEventListener('visibilitychange', this.#onVisibility);
    this.#id = null;
  }

  /** When to fetch next: only while something is pending (or the last fetch failed) and the page is visible. */
  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#id === null || this.#hidden()) return;
    if (!this.pending && !this.error) return;
    this.#timer = setTimeout(() => void this.refresh(), this.#delay());
  }

  #delay(): number {
    if (this.error) return Math.min(this.#maxInterval, this.#interval * 2 ** (this.#failures - 1));
    const tries = (this.value?.deliveries ?? []).filter((delivery) => delivery.state === 'pending');
    // a pending delivery without a next try is waiting for its first (or a try is under way): soon
    if (tries.some((delivery) => delivery.next_try === null)) return this.#interval;
    const earliest = Math.min(...tries.map((delivery) => (delivery.next_try ?? 0) * 1000));
    const untilThen = earliest - this.#now() + 1000; // a second after it is due, for the try to be recorded
    return Math.min(this.#maxInterval, Math.max(this.#interval, untilThen));
  }

  #hidden(): boolean {
    return this.#visibility?.visibilityState === 'hidden';
  }

  #onVisibility = () => {
    if (this.#hidden()) clearTimeout(this.#timer);
    else if (this.pending || this.error) void this.refresh();
  };
}
