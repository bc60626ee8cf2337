/** HistoryStore: the server's job list (newest first), filtered by status, paged by cursor. */
import type { ApiClient } from './api/client';
import type { Job, JobState } from './api/types';
import type { JobsStore } from './jobs.svelte';

export class HistoryStore {
  readonly #api: Pick<ApiClient, 'listJobs'>;
  readonly #jobs: JobsStore;
  readonly #pageSize: number;
  #request = 0;

  status = $state<JobState | ''>('');
  ids = $state<string[]>([]);
  nextCursor = $state<string | null>(null);
  loading = $state(false);
  loaded = $state(false);
  error = $state<unknown>(null);

  /** Rows to show, read from the JobsStore cache so live updates and deletions show here too. */
  readonly rows: Job[] = $derived(
    this.ids.map((id) => this.#jobs.get(id)).filter((job): job is Job => job !== undefined),
  );

  constructor(api: Pick<ApiClient, 'listJobs'>, jobs: JobsStore, pageSize = 20) {
    this.#api = api;
    this.#jobs = jobs;
    this.#pageSize = pageSize;
  }

  /** Loads the first page for the current filter. */
  load(): Promise<void> {
    return this.#fetch(null);
  }

  more(): Promise<void> {
    return this.nextCursor ? this.#fetch(this.nextCursor) : Promise.resolve();
  }

  async remove(id: string): Promise<void> {
    await this.#jobs.remove(id);
    this.ids = this.ids.filter((other) => other !== id);
  }

  async #fetch(cursor: string | null): Promise<void> {
    const request = ++this.#request;
    this.loading = true;
    this.error = null;
    try {
      const page = await this.#api.listJobs({ status: this.status, limit: this.#pageSize, cursor });
      if (request !== this.#request) return; // a newer load (e.g. another filter) won
      for (const job of page.jobs) this.#jobs.upsert(job);
      const ids = page.jobs.map((job) => job.job_id);
      this.ids = cursor ? [...this.ids, ...ids.filter((id) => !this.ids.includes(id))] : ids;
      this.nextCursor = page.next_cursor;
      this.loaded = true;
    } catch (error) {
      if (request === this.#request) this.error = error;
    } finally {
      if (request === this.#request) this.loading = false;
    }
  }
}
