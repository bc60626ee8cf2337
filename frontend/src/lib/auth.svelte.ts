/** The API key: kept in localStorage, asked for when the server answers 401, sent as `Authorization: Bearer`. */

const STORAGE_KEY = 'docparse.apiKey';

export type KeyPrompt = { rejected: boolean };

export class AuthStore {
  key = $state<string | null>(null);
  /** Set while the key dialog should be shown. */
  prompt = $state<KeyPrompt | null>(null);
  #pending: Promise<boolean> | null = null;
  #resolve: ((ok: boolean) => void) | null = null;

  constructor() {
    try {
      this.key = globalThis.localStorage?.getItem(STORAGE_KEY) || null;
    } catch {
      this.key = null;
    }
  }

  /**
   * Called by the API client on a 401: shows the dialog (once, however many requests failed) and resolves to true
   * when the person entered a key (the request is then repeated) or false when they dismissed it.
   */
  requestKey(): Promise<boolean> {
    if (this.#pending) return this.#pending;
    this.prompt = { rejected: this.key !== null };
    this.#pending = new Promise<boolean>((resolve) => {
      this.#resolve = resolve;
    });
    return this.#pending;
  }

  submit(key: string): void {
    const value = key.trim();
    if (!value) return;
    this.#store(value);
    this.#settle(true);
  }

  dismiss(): void {
    this.#settle(false);
  }

  forget(): void {
    this.#store(null);
  }

  #settle(ok: boolean): void {
    this.prompt = null;
    const resolve = this.#resolve;
    this.#pending = null;
    this.#resolve = null;
    resolve?.(ok);
  }

  #store(key: string | null): void {
    this.key = key;
    try {
      if (key) globalThis.localStorage?.setItem(STORAGE_KEY, key);
      else globalThis.localStorage?.removeItem(STORAGE_KEY);
    } catch {
      // storage may be unavailable (private mode): the key lasts for this page only
    }
  }
}

export const auth = new AuthStore();
