/**
 * JobsStore: the one cache of job status objects, kept live while something watches a job.
 * A watch streams `GET /jobs/{id}/events` (Server-Sent Events) and falls back to polling `GET /jobs/{id}` every
 * second when the stream gives up (after its own reconnects), or when enough streams are already open (a browser
 * allows only ~6 HTTP/1.1 connections per server, and each stream holds one).
 *
 * Two things a job's own stream does not say in time, and are asked for here:
 * - a queued job's place in the queue changes when another job leaves the queue, and its stream only speaks when
 *   its own job changes: when any job leaves the queue, the other watched queued jobs are fetched again;
 * - the end of a job: the status says "completed" as soon as the last page is stored, while its stream may be
 *   woken only later (when the queue lets go of the job): once every page is done, the job is polled quickly.
 */
import { untrack } from 'svelte';
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type { ApiClient, UploadRequest } from './api/client';
import { ApiError } from './api/problem';
import { isTerminal, type Job, type UploadAccepted } from './api/types';

export type JobsApi = Pick<ApiClient, 'getJob' | 'cancelJob' | 'retryJob' | 'deleteJob' | 'jobEvents'> &
  Partial<Pick<ApiClient, 'upload'>>;

/** What a JobCard needs from the store; tests pass a stub. */
export interface JobActions {
  cancel(id: string): Promise<unknown>;
  retry(id: string, password?: string): Promise<unknown>;
  watch?(id: string): () => void;
  /** True when this tab still holds the job's file, so it can be uploaded again with other settings. */
  canReupload?(id: string): boolean;
  /** Uploads the job's file again with another page range (the job itself stays as it is). */
  reupload?(id: string, pages: string): Promise<unknown>;
  /** Whether the server still has the job (e.g. the one a result was reused from). */
  exists?(id: string): Promise<boolean>;
}

/** What a job was uploaded with, kept in this tab so it can be sent again with another page range. */
export type UploadSource = { file: File } & Omit<UploadRequest, 'file' | 'signal' | 'onProgress'>;

export interface JobsStoreOptions {
  /** At most this many event streams at once; further watches poll (0: always poll). */
  maxStreams?: number;
  pollInterval?: number;
  /** Polling interval once every page of a job is done, until its final status. */
  finishInterval?: number;
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
  readonly #finishInterval: number;
  #openStreams = 0;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- files kept for uploading again, never rendered
  readonly #sources = new Map<string, UploadSource>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- jobs being polled to their end, never rendered
  readonly #finishing = new Set<string>();
  #queueRefresh: ReturnType<typeof setTimeout> | null = null;
  /** How many statuses of each job were received, to tell a fetch overtaken by a newer status. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- counters, never rendered
  readonly #received = new Map<string, number>();

  constructor(api: JobsApi, options: JobsStoreOptions = {}) {
    this.#api = api;
    this.#maxStreams = options.maxStreams ?? 3;
    this.#pollInterval = options.pollInterval ?? 1000;
    this.#finishInterval = options.finishInterval ?? 200;
  }

  get(id: string): Job | undefined {
    return this.#jobs.get(id);
  }

  /** Stores a status object (from any source); a watched job that is running again gets a live connection. */
  upsert(job: Job): void {
    this.#receive(job);
    if (!isTerminal(job.status)) untrack(() => this.#connect(job.job_id));
  }

  /** Records a job just accepted by `POST /upload` and puts it first in this session's list. */
  addUploaded(accepted: UploadAccepted, size: number, source?: UploadSource): void {
    if (source) this.#sources.set(accepted.job_id, source);
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

  canReupload(id: string): boolean {
    return this.#sources.has(id) && this.#api.upload !== undefined;
  }

  /** Uploads a job's file again with another page range; the new job takes the old one's place in the list. */
  async reupload(id: string, pages: string): Promise<UploadAccepted> {
    const source = this.#sources.get(id);
    if (!source || !this.#api.upload) throw new Error('The file of this job is no longer in this tab.');
    const again: UploadSource = { ...source, pages };
    const accepted = await this.#api.upload(again);
    this.addUploaded(accepted, source.file.size, again);
    this.dismiss(id);
    return accepted;
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

  /**
   * Whether the server still has the job: a job known here counts as there, one answered 404 as gone; others are
   * fetched once. Reads no reactive state, so an effect calling it reruns only for its own reasons.
   */
  async exists(id: string): Promise<boolean> {
    const known = untrack(() => (this.gone.has(id) ? false : this.#jobs.has(id) ? true : null));
    if (known !== null) return known;
    return (await this.refresh(id).catch(() => null)) !== null;
  }

  /** Fetches the job once; null when the server no longer has it. */
  async refresh(id: string): Promise<Job | null> {
    const received = this.#received.get(id);
    try {
      const job = await this.#api.getJob(id);
      // a status that arrived while this request was under way is newer than its answer: keep that one
      if (this.#received.get(id) !== received) return this.#jobs.get(id) ?? job;
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
    const wasQueued = this.#jobs.get(id)?.status === 'queued';
    this.#jobs.delete(id);
    this.#sources.delete(id);
    this.dismiss(id);
    if (wasQueued) this.#refreshQueue();
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

  /** Receives a status object from any source; true when the job is finished. */
  #receive(job: Job): boolean {
    const before = this.#jobs.get(job.job_id);
    this.#received.set(job.job_id, (this.#received.get(job.job_id) ?? 0) + 1);
    this.#jobs.set(job.job_id, job);
    this.gone.delete(job.job_id);
    // it left the queue: the jobs behind it moved up, which their own streams do not say
    if (before?.status === 'queued' && job.status !== 'queued') this.#refreshQueue();
    if (job.status === 'processing' && job.pages_total && job.pages_done >= job.pages_total) {
      untrack(() => this.#pollToEnd(job.job_id));
    }
    return isTerminal(job.status);
  }

  /** Fetches every other watched queued job once, soon (several jobs leaving the queue at once make one pass). */
  #refreshQueue(): void {
    if (this.#queueRefresh !== null) return;
    this.#queueRefresh = setTimeout(() => {
      this.#queueRefresh = null;
      for (const [id, watch] of this.#watches) {
        if (watch.refs > 0 && this.#jobs.get(id)?.status === 'queued') void this.refresh(id).catch(() => undefined);
      }
    }, 0);
  }

  /** Every page is done: asks for the status quickly until the job's final one (at most ~10 s of it). */
  #pollToEnd(id: string): void {
    if (this.#finishing.has(id) || !this.#watches.has(id)) return;
    this.#finishing.add(id);
    let tries = Math.ceil(10_000 / this.#finishInterval);
    const tick = async () => {
      const known = this.#jobs.get(id);
      if (!known || isTerminal(known.status) || !this.#watches.has(id) || tries-- <= 0) {
        this.#finishing.delete(id);
        return;
      }
      await this.refresh(id).catch(() => null);
      setTimeout(() => void tick(), this.#finishInterval);
    };
    setTimeout(() => void tick(), this.#finishInterval);
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

