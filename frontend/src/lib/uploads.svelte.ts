/** UploadsStore: files chosen for upload, their client-side checks and their byte progress. */
import type { UploadRequest } from './api/client';
import type { OcrMode, ParseOption, ServerConfig, UploadAccepted } from './api/types';
import { isValidOcrLanguages, isValidPageRange, checkFile, type Rejection } from './validate';

export type UploadState = 'ready' | 'uploading' | 'rejected' | 'error';

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
}

export interface UploadsDeps {
  upload: (request: UploadRequest) => Promise<UploadAccepted>;
  /** The server's limits, null while unknown. */
  config: () => ServerConfig | null;
  formatBytes: (bytes: number) => string;
  /** Called for each accepted upload; the file leaves the list and its job takes over. */
  onAccepted: (accepted: UploadAccepted, file: File) => void;
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

  readonly pagesValid = $derived(isValidPageRange(this.pages));

  readonly readyCount = $derived(this.items.filter((item) => item.state === 'ready').length);
  readonly busy = $derived(this.items.some((item) => item.state === 'uploading'));

  #nextId = 1;
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping of requests, never rendered
  #controllers = new Map<number, AbortController>();

  constructor(deps: UploadsDeps) {
    this.#deps = deps;
  }

  /** Empty, or languages the server has (as far as its `/config` is known). */
  get ocrLanguagesValid(): boolean {
    return isValidOcrLanguages(this.ocrLanguages, this.#deps.config()?.ocr?.languages ?? null);
  }

  /** Adds chosen or dropped files; files the server would refuse are marked at once with the reason. */
  add(files: Iterable<File>): void {
    const limits = this.#deps.config();
    const added = [...files].map((file): UploadItem => {
      const rejection = checkFile(file, limits, this.#deps.formatBytes);
      return {
        id: this.#nextId++,
        file,
        state: rejection ? 'rejected' : 'ready',
        loaded: 0,
        total: file.size,
        rejection,
        error: null,
      };
    });
    this.items = [...this.items, ...added];
  }

  remove(id: number): void {
    this.#controllers.get(id)?.abort();
    this.items = this.items.filter((item) => item.id !== id);
  }

  /** Puts a failed upload back in line and starts it. */
  again(id: number): Promise<void> {
    const item = this.#find(id);
    if (item?.state === 'error') {
      item.state = 'ready';
      item.error = null;
      item.loaded = 0;
    }
    return this.start();
  }

  /** Uploads every ready file with the current password, pages and options. */
  async start(): Promise<void> {
    if (!this.pagesValid || !this.ocrLanguagesValid) return;
    const options: ParseOption[] = [];
    if (this.tables) options.push('tables');
    if (this.markdown) options.push('markdown');
    const settings = {
      password: this.password || undefined,
      pages: this.pages.trim() || undefined,
      options,
      ocr: this.ocr,
      ocrLanguages: this.ocr === 'never' ? undefined : this.ocrLanguages.trim() || undefined,
    };
    const queue = this.items.filter((item) => item.state === 'ready').map((item) => item.id);
    for (const id of queue) {
      const item = this.#find(id);
      if (item) {
        item.state = 'uploading';
        item.loaded = 0;
      }
    }
    const worker = async () => {
      for (let id = queue.shift(); id !== undefined; id = queue.shift()) await this.#send(id, settings);
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
  }

  async #send(id: number, settings: Omit<UploadRequest, 'file'>): Promise<void> {
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
      this.#deps.onAccepted(accepted, item.file);
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
