/**
 * Server-Sent Events read over fetch (so a request can carry headers, which EventSource cannot), parsed by
 * eventsource-parser. Like EventSource it reconnects with Last-Event-ID after the `retry` delay the server asks
 * for; unlike it, it gives up after a few failed attempts in a row, so the caller can fall back to polling.
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ApiError } from './problem';

export interface EventStreamOptions {
  /** Opens one connection with these headers; throws ApiError for an error answer. */
  connect: (headers: Record<string, string>, signal: AbortSignal) => Promise<Response>;
  onEvent: (message: EventSourceMessage) => void;
  /** Called once when the stream gives up: an error answer, or `attempts` failed connections in a row. */
  onError: (error: unknown) => void;
  attempts?: number;
  /** Milliseconds before reconnecting, until the server sends its own `retry`. */
  retryDelay?: number;
}

/** Starts reading; the returned function closes the stream (no callback is called after it). */
export function openEventStream(options: EventStreamOptions): () => void {
  const { connect, onEvent, onError, attempts = 3 } = options;
  const controller = new AbortController();
  const { signal } = controller;
  let lastEventId: string | undefined;
  let retryDelay = options.retryDelay ?? 2000;

  /** Reads one connection to its end; true when it carried at least one event. */
  async function read(response: Response): Promise<boolean> {
    let received = false;
    const parser = createParser({
      onEvent: (message) => {
        if (message.id !== undefined) lastEventId = message.id;
        received = true;
        if (!signal.aborted) onEvent(message);
      },
      onRetry: (delay) => (retryDelay = delay),
    });
    if (!response.body) return false;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || signal.aborted) break;
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } finally {
      reader.releaseLock();
    }
    return received;
  }

  async function run(): Promise<void> {
    let failures = 0;
    for (;;) {
      try {
        const headers: Record<string, string> = { Accept: 'text/event-stream' };
        if (lastEventId !== undefined) headers['Last-Event-ID'] = lastEventId;
        // A connection that ends without an event counts as a failure, so a stream that keeps closing at once
        // does not reconnect forever.
        failures = (await read(await connect(headers, signal))) ? 0 : failures + 1;
      } catch (error) {
        if (signal.aborted) return;
        failures += 1;
        // an error answer (404, 401 without a key, ...) will not change by asking again
        if (error instanceof ApiError || failures >= attempts) return onError(error);
      }
      if (signal.aborted) return;
      if (failures >= attempts) return onError(new Error('The event stream keeps closing.'));
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        const timer = setTimeout(wake, retryDelay);
        signal.addEventListener('abort', wake);
      });
      if (signal.aborted) return;
    }
  }

  void run();
  return () => controller.abort();
}
