/** The app's API client, wired to the stored API key. */
import { auth } from '../auth.svelte';
import { ApiClient } from './client';

export const api = new ApiClient('', auth);

export { ApiClient } from './client';
export type { JobEventHandlers, KeySource, ListJobsQuery, UploadRequest } from './client';
export { keyedUrl } from './keyed';
export { ApiError, errorMessage } from './problem';
export * from './types';
