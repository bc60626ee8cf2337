/**
 * The page requests of the viewer, a few at a time and nearest to the reader first: a browser opens only about six
 * connections to a server, so dozens of requests sent at once would make the page in view wait behind the others.
 * A request whose page leaves the view is cancelled: taken out of the queue, or aborted while it runs.
 */

export type FetchKind = 'page' | 'picture';

/** Which request goes first: lower first. Asked when a slot frees, so it follows the reader. */
export type Rank = (page: number, kind: FetchKind) => number;

interface Entry {
  page: number;
  kind: FetchKind;
  run: (signal: AbortSignal) => Promise<unknown>;
  controller: AbortController;
  state: 'waiting' | 'running' | 'done';
}

export class FetchQueue {
  readonly limit: number;
  readonly #rank: Rank;
  #waiting: Entry[] = [];
  #running = 0;
  #scheduled = false;

  constructor(limit: number, rank: Rank) {
    this.limit = Math.max(1, limit);
    this.#rank = rank;
  }

  /** Requests waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Requests under way. */
  get running(): number {
    return this.#running;
  }

  /**
   * Queues `run` (given a signal that aborts when cancelled); returns the function that cancels it. Requests added
   * in the same task are ranked together before any starts.
   */
  add(page: number, kind: FetchKind, run: (signal: AbortSignal) => Promise<unknown>): () => void {
    const entry: Entry = { page, kind, run, controller: new AbortController(), state: 'waiting' };
    this.#waiting.push(entry);
    this.#schedule();
    return () => {
      if (entry.state === 'done') return;
      if (entry.state === 'waiting') {
        this.#waiting = this.#waiting.filter((other) => other !== entry);
        entry.state = 'done';
      }
      entry.controller.abort();
    };
  }

  #schedule() {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump() {
    while (this.#running < this.limit && this.#waiting.length > 0) {
      let best = 0;
      let bestRank = Infinity;
      this.#waiting.forEach((entry, i) => {
        const rank = this.#rank(entry.page, entry.kind);
        if (rank < bestRank) [best, bestRank] = [i, rank];
      });
      const [entry] = this.#waiting.splice(best, 1);
      entry.state = 'running';
      this.#running += 1;
      Promise.resolve()
        .then(() => entry.run(entry.controller.signal))
        .catch(() => undefined) // the task reports its own failures
        .finally(() => {
          entry.state = 'done';
          this.#running -= 1;
          this.#schedule();
        });
    }
  }
}
