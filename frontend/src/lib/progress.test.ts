import { describe, expect, it } from 'vitest';
import { EtaEstimator, roundEta } from './progress';

/** A deterministic "random" in [0, 1). */
function noise(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/**
 * Statuses of a job parsed at `rate(t)` pages/s, arriving every 250 ms with pages stored in batches; returns the
 * ETA shown each second (rounded as the card shows it) next to the true time left.
 */
function simulate(total: number, rate: (t: number) => number, options: { startDone?: number; seed?: number } = {}) {
  const eta = new EtaEstimator();
  const random = noise(options.seed ?? 7);
  let done = options.startDone ?? 0;
  let exact = done;
  const shown: { t: number; eta: number | null; trueLeft: number; done: number }[] = [];
  // the true finish time, to compare with
  const finish = (() => {
    let pages = done;
    let t = 0;
    while (pages < total) {
      pages += rate(t) * 0.01;
      t += 0.01;
    }
    return t;
  })();
  for (let ms = 0; done < total; ms += 250) {
    const t = ms / 1000;
    exact = Math.min(total, exact + rate(t) * 0.25);
    // pages become visible in batches: sometimes none for a while, then several
    if (random() < 0.6 || exact >= total) done = Math.floor(exact);
    eta.observe(done, total, ms);
    if (ms % 1000 === 0) {
      const seconds = eta.estimate(ms);
      shown.push({ t, eta: seconds === null ? null : roundEta(seconds), trueLeft: finish - t, done });
    }
  }
  return shown;
}

describe('EtaEstimator', () => {
  it('says nothing until a few seconds and a few pages were seen', () => {
    const eta = new EtaEstimator();
    eta.observe(0, 311, 0);
    eta.observe(2, 311, 500);
    eta.observe(3, 311, 1000);
    expect(eta.estimate(1000)).toBeNull(); // 3 pages in 1 s: too early
    eta.observe(10, 311, 3000);
    expect(eta.estimate(3000)).not.toBeNull();
  });

  it('never shows 0 while work remains, even when the first status already counts many pages', () => {
    const eta = new EtaEstimator();
    eta.observe(42, 2415, 0); // the first status this page saw: 42 pages, parsed before it was watching
    expect(eta.estimate(0)).toBeNull();
    eta.observe(43, 2415, 1000);
    expect(eta.estimate(1000)).toBeNull();
    for (let s = 2; s <= 10; s++) eta.observe(42 + s * 3, 2415, s * 1000);
    const seconds = eta.estimate(10_000)!;
    expect(seconds).toBeGreaterThan(600); // ~3 pages/s for ~2,340 pages: ~13 min, not "0 sec"
    // a long stall: the estimate counts down but stays at least 1 s while pages remain
    expect(eta.estimate(10_000 + 3_600_000)).toBeGreaterThanOrEqual(1);
  });

  it('is close from its first figure on a slow document whose first pages came fast', () => {
    // gnuplot.pdf with tables: a few quick pages, then ~4 pages/s
    const shown = simulate(311, (t) => (t < 1 ? 6 : 4), { seed: 3 });
    const first = shown.find((s) => s.eta !== null)!;
    expect(first.t).toBeLessThanOrEqual(5);
    expect(Math.abs(first.eta! - first.trueLeft) / first.trueLeft).toBeLessThan(0.25);
  });

  it('does not swing from second to second', () => {
    const shown = simulate(600, (t) => 5 + Math.sin(t / 3), { seed: 11 }).filter((s) => s.eta !== null);
    expect(shown.length).toBeGreaterThan(60);
    for (let i = 1; i < shown.length; i++) {
      const step = shown[i].eta! - shown[i - 1].eta!;
      // it counts down (by at most a rounding step or two), and never jumps up by 10 s from one second to the next
      expect(step).toBeLessThanOrEqual(5);
      expect(step).toBeGreaterThanOrEqual(-10);
    }
    // and stays near the truth once it has seen enough
    for (const s of shown.filter((s) => s.t > 20 && s.trueLeft > 20)) {
      expect(Math.abs(s.eta! - s.trueLeft) / s.trueLeft).toBeLessThan(0.3);
    }
  });

  it('starts over when the job is retried (fewer pages) or its total changes', () => {
    const eta = new EtaEstimator();
    for (let s = 0; s <= 5; s++) eta.observe(s * 2, 100, s * 1000);
    expect(eta.estimate(5000)).not.toBeNull();
    eta.observe(0, 100, 6000);
    expect(eta.estimate(6000)).toBeNull();
  });

  it('rounds to steps that read calmly', () => {
    expect(roundEta(3)).toBeNull();
    expect(roundEta(41)).toBe(45);
    expect(roundEta(83)).toBe(80);
    expect(roundEta(1234)).toBe(1260);
  });
});
