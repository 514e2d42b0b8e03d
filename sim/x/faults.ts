/**
 * Scriptable faults per endpoint: what a flaky or hostile X does to a client (STYLE.md §9).
 * A fault matches `METHOD /path/template` (or `*`), fires `count` times (default 1) or forever when
 * `sticky`, and optionally only for one user.
 */
import { z } from 'zod';
import { ENDPOINTS } from './limits';

/**
 * X's OAuth 2.0 token and revoke endpoints. A fault reaches them only when it names them: `*` keeps
 * meaning "every X API call", so existing fault runs do not start failing sign-ins and refreshes.
 */
export const OAUTH_FAULT_ENDPOINTS = ['POST /2/oauth2/token', 'POST /2/oauth2/revoke'] as const;

/** Validated fault definition (the body of `POST /_sim/faults`). */
export const faultSchema = z
  .object({
    endpoint: z.union([z.literal('*'), z.enum(ENDPOINTS), z.enum(OAUTH_FAULT_ENDPOINTS)]),
    kind: z.enum(['status', 'latency', 'timeout', 'reset', 'malformed', 'revoke', 'suspend']),
    /** For `status`: 500, 503, 429, 401, 403, … */
    status: z.number().int().min(400).max(599).optional(),
    /** For `status: 429`: seconds until the advertised reset (default 900). */
    resetSeconds: z.number().int().min(0).max(86_400).optional(),
    /**
     * For `status: 429`: X keeps the window: later calls of the endpoint by the same user are answered
     * 429 with the same reset until it passes (a spent window), not only the call that took the fault.
     */
    hold: z.boolean().optional(),
    /** For `latency`: real milliseconds to wait before answering normally. */
    latencyMs: z.number().int().min(0).max(60_000).optional(),
    count: z.number().int().min(1).max(1_000_000).optional(),
    sticky: z.boolean().optional(),
    /** Only calls made with this user's token. */
    userId: z
      .string()
      .regex(/^[0-9]{1,19}$/)
      .optional(),
    /** The caller's name for the fault, echoed in the fired log (e.g. a test's fault kind). */
    label: z.string().min(1).max(60).optional(),
  })
  .strict()
  .refine((f) => f.kind !== 'status' || f.status !== undefined, {
    path: ['status'],
    message: 'status is required when kind is "status"',
  })
  .refine((f) => f.kind !== 'latency' || f.latencyMs !== undefined, {
    path: ['latencyMs'],
    message: 'latencyMs is required when kind is "latency"',
  });

/** A fault definition. */
export type FaultSpec = z.infer<typeof faultSchema>;

interface ActiveFault {
  spec: FaultSpec;
  remaining: number;
}

/** The set of armed faults. */
export class FaultTable {
  private faults: ActiveFault[] = [];
  /** Every fault that fired, in order (a fault fires when a call takes it, not when it is armed). */
  private readonly firedLog: FaultSpec[] = [];

  add(spec: FaultSpec): void {
    this.faults.push({ spec, remaining: spec.sticky ? Infinity : (spec.count ?? 1) });
  }

  clear(): void {
    this.faults = [];
  }

  /** Armed faults, for `GET /_sim/faults`. */
  list(): Array<FaultSpec & { remaining: number | null }> {
    return this.faults.map((f) => ({
      ...f.spec,
      remaining: Number.isFinite(f.remaining) ? f.remaining : null,
    }));
  }

  /** The faults that fired since start, oldest first (one entry per call a fault answered). */
  fired(): readonly FaultSpec[] {
    return this.firedLog;
  }

  /**
   * Takes the first fault that matches this call, consuming one of its uses. `*` matches every X API
   * endpoint, never an OAuth one (those take only a fault that names them).
   */
  take(endpoint: string, userId: string | null): FaultSpec | undefined {
    if (!this.faults.length) return undefined;
    const wildcard = !(OAUTH_FAULT_ENDPOINTS as readonly string[]).includes(endpoint);
    const index = this.faults.findIndex(
      (f) =>
        ((wildcard && f.spec.endpoint === '*') || f.spec.endpoint === endpoint) &&
        (!f.spec.userId || f.spec.userId === userId),
    );
    if (index < 0) return undefined;
    const fault = this.faults[index];
    fault.remaining--;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    this.firedLog.push(fault.spec);
    return fault.spec;
  }
}
