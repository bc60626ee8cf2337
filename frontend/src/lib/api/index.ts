/** The app's API client, wired to the stored API key. */
import { auth } from '../auth.svelte';
import { ApiClient } from './client';

export const api = new ApiClient('', auth);

export { ApiClient, DEFAULT_CONFIG } from './client';
export type { KeySource, UploadRequest, ListJobsQuery } from './client';
export { ApiError, errorMessage } from './problem';
export * from './types';
