/** The server's limits and supported types from `GET /config`; null until (or unless) it answers. */
import type { ApiClient } from './api/client';
import type { ServerConfig } from './api/types';

export class ConfigStore {
  value = $state<ServerConfig | null>(null);

  /** Without an answer the UI checks nothing itself: the server still refuses what it cannot take. */
  async load(api: Pick<ApiClient, 'getConfig'>): Promise<void> {
    try {
      this.value = await api.getConfig();
    } catch {
      this.value = null;
    }
  }
}

export const config = new ConfigStore();
