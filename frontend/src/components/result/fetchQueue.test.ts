import { describe, expect, it } from 'vitest';
import { FetchQueue, type FetchKind } from './fetchQueue';

/** A request that ends when told to (or when aborted), recording what happened to it. */
function request(log: string[], name: string) {
  let finish = () => {};
  const run = (signal: AbortSignal) =>
    new Promise<void>((resolve, reject) => {
      log.push(`start ${name}`);
      finish = () => {
        log.push(`end ${name}`);
        resolve();
      };
      signal.addEventListener('abort', () => {
        log.push(`abort ${name}`);
        reject(new DOMException('aborted', 'AbortError'));
      });
    });
  return { run, finish: () => finish() };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('FetchQueue', () => {
  it('runs a few at a time, nearest to the reader first, pages before their pictures', async () => {
    let center = 50;
    const queue = new FetchQueue(2, (page: number, kind: FetchKind) => Math.abs(page - center) * 2 + (kind === 'picture' ? 1 : 0));
    const log: string[] = [];
    const far = request(log, 'page 10');
    const near = request(log, 'page 50');
    const nearPicture = request(log, 'picture 50');
    const next = request(log, 'page 51');
    queue.add(10, 'page', far.run);
    queue.add(50, 'picture', nearPicture.run);
    queue.add(51, 'page', next.run);
    queue.add(50, 'page', near.run);
    await settle();
    expect(log).toEqual(['start page 50', 'start picture 50']);
    expect([queue.running, queue.waiting]).toEqual([2, 2]);

    center = 10; // the reader moved: the rank is asked again when a slot frees
    near.finish();
    await settle();
    expect(log.slice(2)).toEqual(['end page 50', 'start page 10']);
  });

  it('cancels: a waiting request never starts, a running one is aborted and frees its slot', async () => {
    const queue = new FetchQueue(1, (page) => page);
    const log: string[] = [];
    const first = request(log, 'page 1');
    const second = request(log, 'page 2');
    const third = request(log, 'page 3');
    const cancelFirst = queue.add(1, 'page', first.run);
    const cancelSecond = queue.add(2, 'page', second.run);
    queue.add(3, 'page', third.run);
    await settle();
    cancelSecond();
    cancelFirst();
    await settle();
    expect(log).toEqual(['start page 1', 'abort page 1', 'start page 3']);
    expect([queue.running, queue.waiting]).toEqual([1, 0]);
    cancelFirst(); // twice: nothing more
    third.finish();
    await settle();
    expect([queue.running, queue.waiting]).toEqual([0, 0]);
  });
});
