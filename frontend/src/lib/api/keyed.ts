/** API resources (page pictures, downloads) for elements that load URLs themselves: `<img src>`, `<a href>`. */
import type { ApiClient } from './client';

export interface KeyedUrl {
  url: string;
  /** Frees the object URL, if one was made. */
  release: () => void;
}

/**
 * A URL the browser can load for `url`: the URL itself when no API key is in use (the browser streams and caches
 * it), else an object URL of the bytes fetched with the key in the Authorization header.
 */
export async function keyedUrl(
  client: Pick<ApiClient, 'keys' | 'blob'>,
  url: string,
  signal?: AbortSignal,
): Promise<KeyedUrl> {
  if (!client.keys?.key) return { url, release: () => undefined };
  const objectUrl = URL.createObjectURL(await client.blob(url, signal));
  return { url: objectUrl, release: () => URL.revokeObjectURL(objectUrl) };
}
