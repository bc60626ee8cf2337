/** The app's shared stores, wired together once. Components import these; tests build their own. */
import { api } from './api';
import { config } from './config.svelte';
import { HistoryStore } from './history.svelte';
import { i18n } from './i18n.svelte';
import { JobsStore } from './jobs.svelte';
import { Router } from './router.svelte';
import { UploadsStore } from './uploads.svelte';

export const jobs = new JobsStore(api);

/** The jobs card list of this tab survives a reload (sessionStorage: per tab, gone with it). */
const SESSION_KEY = 'docparse.session';

export function restoreSession(): void {
  try {
    const ids: unknown = JSON.parse(globalThis.sessionStorage?.getItem(SESSION_KEY) ?? '[]');
    if (Array.isArray(ids)) jobs.restore(ids.filter((id): id is string => typeof id === 'string'));
  } catch {
    // nothing stored, or storage unavailable
  }
}

/** Keeps sessionStorage in step with the list; returns the cleanup. */
export function persistSession(): () => void {
  return $effect.root(() => {
    $effect(() => {
      const ids = JSON.stringify(jobs.session);
      try {
        globalThis.sessionStorage?.setItem(SESSION_KEY, ids);
      } catch {
        // storage unavailable: the list lasts for this page only
      }
    });
  });
}

export const history = new HistoryStore(api, jobs);

export const uploads = new UploadsStore({
  upload: (request) => api.upload(request),
  config: () => config.value,
  formatSizes: (size, limit) => i18n.bytesApart(size, limit),
  onAccepted: (accepted, source) => jobs.addUploaded(accepted, source.file.size, source),
});

export const router = new Router();
