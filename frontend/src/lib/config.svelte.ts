/** The server's limits from `GET /config`, with defaults until (or unless) it answers. */
import { DEFAULT_CONFIG, type ApiClient } from './api/client';
import type { ServerConfig } from './api/types';

export class ConfigStore {
  value = $state<ServerConfig>({ ...DEFAULT_CONFIG });
  loaded = $state(false);

  async load(api: Pick<ApiClient, 'getConfig'>): Promise<void> {
    this.value = await api.getConfig();
    this.loaded = true;
  }
}

export const config = new ConfigStore();
