/**
 * JobsStore: the one cache of job status objects, kept live while something watches a job.
 * A watch streams `GET /jobs/{id}/events` (Server-Sent Events) and falls back to polling `GET /jobs/{id}` every
 * second when the stream gives up (after its own reconnects), or when enough streams are already open (a browser
 * allows only ~6 HTTP/1.1 connections per server, and each stream holds one).
 */
import { untrack } from 'svelte';
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { ApiClient } from './api/client';
import { ApiError } from './api/problem';
import { isTerminal, type Job, type UploadAccepted } from './api/types';

export type JobsApi = Pick<ApiClient, 'getJob' | 'cancelJob' | 'retryJob' | 'deleteJob' | 'jobEvents'>;

/** What a JobCard needs from the store; tests pass a stub. */
export interface JobActions {
  cancel(id: string): Promise<unknown>;
  retry(id: string, password?: string): Promise<unknown>;
  watch?(id: string): () => void;
}

export interface JobsStoreOptions {
  /** At most this many event streams at once; further watches poll (0: always poll). */
  maxStreams?: number;
  pollInterval?: number;
}

interface Watch {
  refs: number;
  /** Stops the live connection; null while none is open (not started yet, or the job is finished). */
  stop: (() => void) | null;
}

export class JobsStore implements JobActions {
  /** Jobs started in this tab, newest first. */
  session = $state<string[]>([]);
  /** Jobs the server answered 404 for (expired or deleted). */
  readonly gone = new SvelteSet<string>();

  readonly #api: JobsApi;
  readonly #jobs = new SvelteMap<string, Job>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping of connections, never rendered
  readonly #watches = new Map<string, Watch>();
  readonly #maxStreams: number;
  readonly #pollInterval: number;
  #openStreams = 0;

  constructor(api: JobsApi, options: JobsStoreOptions = {}) {
    this.#api = api;
    this.#maxStreams = options.maxStreams ?? 3;
    this.#pollInterval = options.pollInterval ?? 1000;
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  /** Stores a status object (from any source); a watched job that is running again gets a live connection. */
  upsert(job: Job): void {
    this.#jobs.set(job.job_id, job);
    this.gone.delete(job.job_id);
    if (!isTerminal(job.status)) untrack(() => this.#connect(job.job_id));
  }

  /** Records a job just accepted by `POST /upload` and puts it first in this session's list. */
  addUploaded(accepted: UploadAccepted, size: number): void {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a timestamp, not state
    const now = new Date().toISOString();
    if (!this.#jobs.has(accepted.job_id)) {
      this.#jobs.set(accepted.job_id, {
        job_id: accepted.job_id,
        status: 'queued',
        progress: 0,
        message: accepted.message,
        pages_done: 0,
        pages_total: null,
        failed_pages: [],
        filename: accepted.filename,
        file_type: accepted.file_type,
        size,
        created_at: now,
        started_at: null,
        finished_at: null,
        expires_at: null,
        attempts: 0,
        queue_position: null,
        error: null,
      });
    }
    this.session = [accepted.job_id, ...this.session.filter((id) => id !== accepted.job_id)];
  }

  /** Brings back this session's list after a reload: each job is fetched again; jobs gone meanwhile are dropped. */
  restore(ids: readonly string[]): void {
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- only removes duplicates
    this.session = [...new Set(ids)];
    for (const id of this.session) {
      if (this.#jobs.has(id)) continue;
      this.refresh(id)
        .then((job) => {
          if (!job) this.dismiss(id);
        })
        .catch(() => undefined);
    }
  }

  /** Removes a job from this session's list (the job itself stays on the server). */
  dismiss(id: string): void {
    this.session = this.session.filter((other) => other !== id);
  }

  /**
   * Keeps the job's status live until the returned cleanup is called. Watches are counted: several components may
   * watch one job over a single connection. Safe to call inside `$effect` (it reads no reactive state there).
   */
  watch(id: string): () => void {
    return untrack(() => {
      let watch = this.#watches.get(id);
      if (!watch) {
        watch = { refs: 0, stop: null };
        this.#watches.set(id, watch);
      }
      watch.refs += 1;
      this.#connect(id);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const current = this.#watches.get(id);
        if (!current) return;
        current.refs -= 1;
        if (current.refs <= 0) {
          current.stop?.();
          this.#watches.delete(id);
        }
      };
    });
  }

  /** Fetches the job once; null when the server no longer has it. */
  async refresh(id: string): Promise<Job | null> {
    try {
      const job = await this.#api.getJob(id);
      this.upsert(job);
      return job;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        this.#markGone(id);
        return null;
      }
      throw error;
    }
  }

  async cancel(id: string): Promise<Job> {
    try {
      const job = await this.#api.cancelJob(id);
      this.upsert(job);
      return job;
    } catch (error) {
      // 409: it finished meanwhile; show its real state next to the message
      if (error instanceof ApiError && error.status === 409) await this.refresh(id).catch(() => null);
      throw error;
    }
  }

  async retry(id: string, password?: string): Promise<Job> {
    const job = await this.#api.retryJob(id, password);
    this.upsert(job);
    return job;
  }

  async remove(id: string): Promise<void> {
    try {
      await this.#api.deleteJob(id);
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
    this.#forget(id);
  }

  #forget(id: string): void {
    const watch = this.#watches.get(id);
    watch?.stop?.();
    if (watch) watch.stop = null;
    this.#jobs.delete(id);
    this.dismiss(id);
  }

  #markGone(id: string): void {
    this.gone.add(id);
    const watch = this.#watches.get(id);
    watch?.stop?.();
    if (watch) watch.stop = null;
  }

  #connect(id: string): void {
    const watch = this.#watches.get(id);
    if (!watch || watch.stop) return;
    const known = this.#jobs.get(id);
    if (known && isTerminal(known.status)) return;
    if (this.#openStreams < this.#maxStreams) this.#stream(id, watch);
    else this.#poll(id, watch);
  }

  /** Receives a status object from the stream or a poll; true when the job is finished. */
  #receive(job: Job): boolean {
    this.#jobs.set(job.job_id, job);
    this.gone.delete(job.job_id);
    return isTerminal(job.status);
  }

  #stream(id: string, watch: Watch): void {
    // show something at once even if the stream only speaks on the next change
    if (!this.#jobs.has(id)) void this.refresh(id).catch(() => undefined);
    this.#openStreams += 1;
    let open = true;
    let close = () => {};
    const stop = () => {
      if (!open) return;
      open = false;
      close();
      this.#openStreams -= 1;
    };
    watch.stop = stop;
    close = this.#api.jobEvents(id, {
      onStatus: (job) => {
        if (!open || !this.#receive(job)) return;
        stop();
        if (watch.stop === stop) watch.stop = null;
      },
      // The stream gave up (its reconnects failed, or the server refused it): poll instead.
      onError: (error) => {
        if (!open) return;
        stop();
        if (watch.stop !== stop) return;
        watch.stop = null;
        if (error instanceof ApiError && error.status === 404) this.#markGone(id);
        else if (this.#watches.get(id) === watch) this.#poll(id, watch);
      },
    });
  }

  #poll(id: string, watch: Watch): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let failures = 0;
    const stop = () => {
      stopped = true;
      clearTimeout(timer);
    };
    const finish = () => {
      stop();
      if (watch.stop === stop) watch.stop = null;
    };
    watch.stop = stop;

    const tick = async () => {
      try {
        const job = await this.#api.getJob(id);
        if (stopped) return;
        failures = 0;
        if (this.#receive(job)) return finish();
      } catch (error) {
        if (stopped) return;
        if (error instanceof ApiError && error.status === 404) {
          this.#markGone(id);
          return finish();
        }
        failures += 1;
      }
      // back off while the server is unreachable, up to 10 intervals
      timer = setTimeout(tick, this.#pollInterval * Math.min(2 ** failures, 10));
    };
    void tick();
  }
}
