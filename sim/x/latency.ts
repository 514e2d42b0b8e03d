/**
 * A latency profile for the simulated X: every X API call (`/2/…`, the token endpoints) waits a
 * random time drawn from a log-normal distribution before it is answered, so the connector meets the
 * slow, long-tailed X it meets in production instead of a loopback server answering in 0–4 ms.
 *
 * Log-normal because request latencies are (a long right tail, never below zero): with median `p50Ms`
 * and 99th percentile `p99Ms`, `ln(latency) ~ N(ln p50, σ)` with `σ = ln(p99 / p50) / z₀.₉₉`. Each draw
 * is capped at `maxMs`. Off by default (p50 0): the tests keep an instant X unless they ask.
 *
 * Set with the start option `latency`, `sim.setLatency()` or `PUT /_sim/latency {p50Ms, p99Ms, maxMs?}`.
 */
import { z } from 'zod';

/** The standard normal's 99th percentile. */
const Z99 = 2.3263478740408408;

/** A latency profile (all real milliseconds). */
export interface LatencyProfile {
  /** Median added latency; 0 = off. */
  p50Ms: number;
  /** 99th percentile, ≥ p50Ms. */
  p99Ms: number;
  /** No draw exceeds this. Default 10 × p99Ms (at most 60 s). */
  maxMs: number;
}

export const LATENCY_OFF: LatencyProfile = { p50Ms: 0, p99Ms: 0, maxMs: 0 };

/** Body of `PUT /_sim/latency` and the `latency` start option. */
export const latencySchema = z
  .object({
    p50Ms: z.number().min(0).max(30_000),
    p99Ms: z.number().min(0).max(60_000),
    maxMs: z.number().min(0).max(60_000).optional(),
  })
  .strict()
  .refine((p) => p.p99Ms >= p.p50Ms, { path: ['p99Ms'], message: 'must be at least p50Ms' });

/** Validates a profile; throws a zod error naming the field. */
export function parseLatency(input: unknown): LatencyProfile {
  const p = latencySchema.parse(input);
  return { p50Ms: p.p50Ms, p99Ms: p.p99Ms, maxMs: p.maxMs ?? Math.min(60_000, 10 * p.p99Ms) };
}

/** Draws latencies from a profile; `random` is a uniform source in [0, 1). */
export class LatencySampler {
  private spare: number | null = null;
  constructor(
    private profile: LatencyProfile = LATENCY_OFF,
    private readonly random: () => number = Math.random,
  ) {}

  get(): LatencyProfile {
    return { ...this.profile };
  }

  set(profile: LatencyProfile): void {
    this.profile = { ...profile };
  }

  /** One draw in ms (0 when off). */
  draw(): number {
    const { p50Ms, p99Ms, maxMs } = this.profile;
    if (p50Ms <= 0) return 0;
    const sigma = p99Ms > p50Ms ? Math.log(p99Ms / p50Ms) / Z99 : 0;
    return Math.min(maxMs, p50Ms * Math.exp(sigma * this.normal()));
  }

  /** A standard normal draw (Box–Muller, the second value kept for the next call). */
  private normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = Math.max(Number.MIN_VALUE, this.random());
    const v = this.random();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}
