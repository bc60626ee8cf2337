/** UploadsStore: files chosen for upload, their client-side checks and their byte progress. */
import type { UploadRequest } from './api/client';
import { ApiError } from './api/problem';
import type { OcrMode, ParseOption, ServerConfig, UploadAccepted } from './api/types';
import type { UploadSource } from './jobs.svelte';
import { isValidCallbackUrl, isValidOcrLanguages, isValidPageRange, checkFile, type Rejection } from './validate';

export type UploadState = 'checking' | 'ready' | 'uploading' | 'rejected' | 'error';

/** The settings a file was sent with (kept per file, so "Upload again" sends the same). */
export type UploadSettings = Omit<UploadRequest, 'file' | 'signal' | 'onProgress'>;

/**
 * Whether sending the same file again may work: after a network failure, a busy or failing server, yes; after an
 * answer about the file itself (its type, size, emptiness, the request), no: it would be refused the same way.
 */
export function mayUploadAgain(error: unknown): boolean {
  if (!(error instanceof ApiError)) return true;
  return error.status === 401 || error.status === 408 || error.status === 429 || error.status >= 500;
}

export interface UploadItem {
  id: number;
  file: File;
  state: UploadState;
  loaded: number;
  total: number;
  /** Why the client refused the file (translated when shown). */
  rejection: Rejection | null;
  /** Why the upload failed (shown through errorMessage: the server's problem detail as is). */
  error: unknown;
  /** What it was (or is being) sent with. */
  settings: UploadSettings | null;
}

export interface UploadsDeps {
  upload: (request: UploadRequest) => Promise<UploadAccepted>;
  /** The server's limits, null while unknown. */
  config: () => ServerConfig | null;
  /** A file's size and the server's limit, for the message when it is over. */
  formatSizes: (size: number, limit: number) => [string, string];
  /** Called for each accepted upload; the file leaves the list and its job takes over. */
  onAccepted: (accepted: UploadAccepted, source: UploadSource) => void;
}

/** Uploads sent at the same time; the rest wait their turn. */
const CONCURRENCY = 2;

export class UploadsStore {
  readonly #deps: UploadsDeps;
  items = $state<UploadItem[]>([]);
  password = $state('');
  pages = $state('');
  tables = $state(false);
  markdown = $state(false);
  ocr = $state<OcrMode>('auto');
  /** Tesseract languages joined by "+"; empty: the server's default. */
  ocrLanguages = $state('');
  /** Parse the files even if they were parsed before with the same options (the upload's `reuse=false`). */
  parseAgain = $state(false);
  /** Where each job's status is POSTed when it ends; empty: nowhere (or the API key's default). */
  callbackUrl = $state('');

  readonly pagesValid = $derived(isValidPageRange(this.pages));
  readonly callbackUrlValid = $derived(isValidCallbackUrl(this.callbackUrl));

  readonly readyCount = $derived(this.items.filter((item) => item.state === 'ready').length);
  /** Files that will be sent by Upload (ready, or still being checked). */
  readonly pendingCount = $derived(this.items.filter((item) => item.state === 'ready' || item.state === 'checking').length);
  readonly busy = $derived(this.items.some((item) => item.state === 'uploading'));

  #nextId = 1;
  #checks: Promise<void>[] = [];
  /** Files checked before the server's limits were known: checked again by start() once they are. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, never rendered
  #uncheckedIds = new Set<number>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping of requests, never rendered
  #controllers = new Map<number, AbortController>();

  constructor(deps: UploadsDeps) {
    this.#deps = deps;
  }

  /** Empty, or languages the server has (as far as its `/config` is known). */
  get ocrLanguagesValid(): boolean {
    return isValidOcrLanguages(this.ocrLanguages, this.#deps.config()?.ocr?.languages ?? null);
  }

  /**
   * Adds chosen or dropped files; files the server would refuse are marked with the reason as soon as their first
   * bytes are read (the server decides a type by them). Resolves when every check is done.
   */
  add(files: Iterable<File>): Promise<void> {
    const limits = this.#deps.config();
    const added = [...files].map(
      (file): UploadItem => ({
        id: this.#nextId++,
        file,
        state: 'checking',
        loaded: 0,
        total: file.size,
        rejection: null,
        error: null,
        settings: null,
      }),
    );
    this.items = [...this.items, ...added];
    return this.#check(added.map((item) => item.id), limits);
  }

  /** Checks files against `limits` (null: only emptiness, until `/config` answers); resolves when all are done. */
  #check(ids: number[], limits: ServerConfig | null): Promise<void> {
    const checks = ids.map(async (id) => {
      const file = this.#find(id)?.file;
      if (!file) return;
      const rejection = await checkFile(file, limits, this.#deps.formatSizes);
      const item = this.#find(id);
      if (item?.state !== 'checking') return;
      item.rejection = rejection;
      item.state = rejection ? 'rejected' : 'ready';
      if (!limits) this.#uncheckedIds.add(id);
    });
    const all = Promise.all(checks).then(() => undefined);
    this.#checks.push(all);
    return all;
  }

  remove(id: number): void {
    this.#controllers.get(id)?.abort();
    this.items = this.items.filter((item) => item.id !== id);
  }

  /** Sends a failed upload again, with the settings it was first sent with. */
  again(id: number): Promise<void> {
    const item = this.#find(id);
    if (item?.state !== 'error' || !item.settings) return Promise.resolve();
    item.state = 'uploading';
    item.error = null;
    item.loaded = 0;
    return this.#send(id, item.settings);
  }

  /**
   * Uploads every ready file with the current password, pages and options. The password field is emptied once
   * they are on their way: it belongs to these files, not to the next ones.
   */
  async start(): Promise<void> {
    if (!this.pagesValid || !this.ocrLanguagesValid || !this.callbackUrlValid) return;
    await Promise.all(this.#checks);
    const limits = this.#deps.config();
    if (limits && this.#uncheckedIds.size > 0) {
      const again = this.items.filter((item) => item.state === 'ready' && this.#uncheckedIds.has(item.id));
      this.#uncheckedIds.clear();
      for (const item of again) item.state = 'checking';
      await this.#check(
        again.map((item) => item.id),
        limits,
      );
    }
    this.#checks = [];
    const options: ParseOption[] = [];
    if (this.tables) options.push('tables');
    if (this.markdown) options.push('markdown');
    const settings: UploadSettings = {
      password: this.password || undefined,
      pages: this.pages.trim() || undefined,
      options,
      ocr: this.ocr,
      ocrLanguages: this.ocr === 'never' ? undefined : this.ocrLanguages.trim() || undefined,
      reuse: this.parseAgain ? false : undefined,
      callbackUrl: this.callbackUrl.trim() || undefined,
    };
    const queue = this.items.filter((item) => item.state === 'ready').map((item) => item.id);
    if (queue.length === 0) return;
    this.password = '';
    for (const id of queue) {
      const item = this.#find(id);
      if (item) {
        item.state = 'uploading';
        item.loaded = 0;
        item.settings = settings;
      }
    }
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await this.#send(id, settings);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  }

  async #send(id: number, settings: UploadSettings): Promise<void> {
    const item = this.#find(id);
    if (!item || item.state !== 'uploading') return;
    const controller = new AbortController();
    this.#controllers.set(id, controller);
    try {
      const accepted = await this.#deps.upload({
        ...settings,
        file: item.file,
        signal: controller.signal,
        onProgress: (loaded, total) => {
          const current = this.#find(id);
          if (current) {
            current.loaded = loaded;
            current.total = total || current.total;
          }
        },
      });
      this.items = this.items.filter((other) => other.id !== id);
      this.#deps.onAccepted(accepted, { ...settings, file: item.file });
    } catch (error) {
      const current = this.#find(id);
      if (current) {
        current.state = 'error';
        current.error = error;
      }
    } finally {
      this.#controllers.delete(id);
    }
  }

  #find(id: number): UploadItem | undefined {
    return this.items.find((item) => item.id === id);
  }
}
