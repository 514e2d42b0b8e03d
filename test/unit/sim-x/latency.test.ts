/**
 * The simulated X's latency profile (sim/x/latency.ts): draws from a seeded source follow the
 * log-normal the profile names — median and 99th percentile where asked, never above the cap — and a
 * bad profile is refused naming the field. No wall-clock timing: the sampler's numbers are checked.
 */
import { LatencySampler, parseLatency } from '../../../sim/x/latency';

/** mulberry32: a small deterministic uniform source. */
function seeded(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const quantile = (sorted: number[], q: number) => sorted[Math.ceil(q * sorted.length) - 1];

describe('sim-x latency profile', () => {
  it('draws a long-tailed distribution with the asked median and 99th percentile, capped', () => {
    const sampler = new LatencySampler(parseLatency({ p50Ms: 150, p99Ms: 900, maxMs: 2000 }), seeded(7));
    const draws = Array.from({ length: 20_000 }, () => sampler.draw()).sort((a, b) => a - b);
    expect(quantile(draws, 0.5)).toBeGreaterThan(150 * 0.95);
    expect(quantile(draws, 0.5)).toBeLessThan(150 * 1.05);
    expect(quantile(draws, 0.99)).toBeGreaterThan(900 * 0.85);
    expect(quantile(draws, 0.99)).toBeLessThan(900 * 1.15);
    expect(draws[0]).toBeGreaterThan(0);
    expect(draws[draws.length - 1]).toBeLessThanOrEqual(2000);
    // the tail: the mean lies above the median
    expect(draws.reduce((s, v) => s + v, 0) / draws.length).toBeGreaterThan(quantile(draws, 0.5));
  });

  it('is off by default and after a p50 of 0', () => {
    const sampler = new LatencySampler();
    expect(sampler.draw()).toBe(0);
    sampler.set(parseLatency({ p50Ms: 100, p99Ms: 100 }));
    expect(sampler.draw()).toBe(100);
    sampler.set(parseLatency({ p50Ms: 0, p99Ms: 0 }));
    expect(sampler.draw()).toBe(0);
  });

  it('defaults the cap to 10 × p99 and refuses a p99 below the p50 by name', () => {
    expect(parseLatency({ p50Ms: 100, p99Ms: 400 })).toEqual({ p50Ms: 100, p99Ms: 400, maxMs: 4000 });
    expect(() => parseLatency({ p50Ms: 200, p99Ms: 100 })).toThrow(/p99Ms/);
    expect(() => parseLatency({ p50Ms: 100 })).toThrow(/p99Ms/);
  });
});
