/**
 * Rate-limit windows (X-API.md §3) and the pay-per-use billing meter (X-API.md §4). Both read
 * the injectable clock, so tests move time instead of sleeping.
 */
import type { BillingItem } from './http-util';
import {
  EVENT_PRICES_USD,
  PRICES_USD,
  RATE_LIMITS,
  XAA_ENDPOINTS,
  type EndpointKey,
  type RateWindow,
  type Tier,
} from './limits';
import { emptyBilling, type BillingData } from './store';

/** One API call as the rate limiter saw it; `reset` (epoch s) is set on every 429. */
export interface RateLimitLogEntry {
  at: number;
  endpoint: EndpointKey;
  userId: string;
  clientId: string;
  status: number;
  reset?: number;
}

/** The outcome of counting a call. */
export interface RateDecision {
  allowed: boolean;
  headers: Record<string, string>;
  /** Epoch seconds of the blocking window's reset when refused. */
  reset?: number;
}

interface Counter {
  start: number;
  count: number;
}

const LOG_CAP = 500_000;

/** Fixed windows per (endpoint or bucket, scope, subject, length), starting at the first call. */
export class RateLimiter {
  private counters = new Map<string, Counter>();
  readonly log: RateLimitLogEntry[] = [];

  constructor(private readonly now: () => number) {}

  reset(): void {
    this.counters.clear();
    this.log.length = 0;
  }

  /** Records a finished call (with its status) in the log the reliability tests read. */
  record(entry: RateLimitLogEntry): void {
    // Bounded so a long benchmark cannot exhaust memory; tests stay far below it.
    if (this.log.length >= LOG_CAP) this.log.splice(0, LOG_CAP / 10);
    this.log.push(entry);
  }

  private counter(key: string, windowMs: number, now: number): Counter {
    let c = this.counters.get(key);
    if (!c || now >= c.start + windowMs) {
      c = { start: now, count: 0 };
      this.counters.set(key, c);
    }
    return c;
  }

  /** Counts one call against every window of the endpoint, or refuses it when one is spent. */
  take(tier: Tier, endpoint: EndpointKey, userId: string, clientId: string): RateDecision {
    const access = RATE_LIMITS[tier][endpoint];
    // X: "per-user limits apply with user tokens, per-app limits with the app-only Bearer token"
    // (docs.x.com/fundamentals/rate-limits). A read made with a user's token therefore counts in its
    // user's window only; writes (which no app-only token can make) keep X's app-wide caps (posts
    // 10,000/24 h, DMs 1,440/24 h across accounts), and the XAA endpoints are app-level throughout.
    const userRead =
      userId !== '' &&
      endpoint.startsWith('GET ') &&
      !(XAA_ENDPOINTS as readonly string[]).includes(endpoint);
    const windows: RateWindow[] = ('windows' in access ? access.windows : []).filter(
      (w) => !(userRead && w.scope === 'app'),
    );
    const now = this.now();
    if (!windows.length) {
      return {
        allowed: true,
        headers: rateHeaders('x-rate-limit', 1_000_000_000, 1_000_000_000, Math.ceil((now + 900_000) / 1000)),
      };
    }
    const states = windows.map((w) => {
      const subject = w.scope === 'user' ? userId : clientId;
      const key = `${w.bucket ?? endpoint}|${w.scope}|${subject}|${w.windowSeconds}`;
      const c = this.counter(key, w.windowSeconds * 1000, now);
      return { w, c, reset: Math.ceil((c.start + w.windowSeconds * 1000) / 1000) };
    });
    const blocked = states.find((s) => s.c.count >= s.w.limit);
    if (blocked) {
      // The x-rate-limit-* headers describe the window that refused, so a client obeying them waits long enough.
      const headers = rateHeaders('x-rate-limit', blocked.w.limit, 0, blocked.reset);
      return { allowed: false, headers, reset: blocked.reset };
    }
    for (const s of states) s.c.count++;
    const primary = states[0];
    const headers = rateHeaders(
      'x-rate-limit',
      primary.w.limit,
      primary.w.limit - primary.c.count,
      primary.reset,
    );
    for (const s of states) {
      if (s.w.windowSeconds === 86_400 && s !== primary) {
        const prefix = s.w.scope === 'user' ? 'x-user-limit-24hour' : 'x-app-limit-24hour';
        Object.assign(headers, rateHeaders(prefix, s.w.limit, s.w.limit - s.c.count, s.reset));
      }
    }
    return { allowed: true, headers };
  }
}

function rateHeaders(
  prefix: string,
  limit: number,
  remaining: number,
  reset: number,
): Record<string, string> {
  return {
    [`${prefix}-limit`]: String(limit),
    [`${prefix}-remaining`]: String(Math.max(0, remaining)),
    [`${prefix}-reset`]: String(reset),
  };
}

const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

const OWN_TIMELINES = new Set<string>(['GET /2/users/:id/mentions', 'GET /2/users/:id/tweets']);

/**
 * Owned Reads (X-API.md §4): a timeline read of `{id}` by the authenticated user `{id}` itself, through
 * an app that user owns, is billed at $0.001 instead of $0.005 per post.
 */
export function applyOwnedReads(
  items: BillingItem[],
  call: {
    endpoint: string;
    pathUserId: string | undefined;
    userId: string | null;
    appOwnerUserId?: string | null;
  },
): BillingItem[] {
  const owned =
    OWN_TIMELINES.has(call.endpoint) &&
    !!call.userId &&
    call.pathUserId === call.userId &&
    call.appOwnerUserId === call.userId;
  return owned ? items.map((i) => (i.kind === 'postRead' ? { ...i, kind: 'ownedRead' as const } : i)) : items;
}

/** A view of the meter for `billing()` and `GET /_sim/billing`. */
export interface BillingReport {
  reads: BillingData['reads'];
  writes: BillingData['writes'];
  /** Delivered XAA events billed, per event type. */
  events: BillingData['events'];
  costUsd: number;
  creditsUsd: number | null;
  monthPostReads: number;
}

/**
 * Pay-per-use meter: reads charged per resource returned, once per resource per UTC day; writes
 * per request. It runs on every tier (so a demo shows what PPU would cost); credits and the 402
 * apply only on `pay-per-use`.
 */
export class BillingMeter {
  /** Per read kind: ids billed today (mirrors `billing.billedToday`, whose keys are `<kind>:<id>`). */
  private billedToday = new Map<string, Set<string>>();

  constructor(
    private readonly data: () => { billing: BillingData; creditsUsd: number | null },
    private readonly now: () => number,
  ) {
    this.reload();
  }

  /** Resets the meter (state already replaced by the store reset). */
  reload(): void {
    this.billedToday.clear();
    for (const key of this.data().billing.billedToday) {
      const colon = key.indexOf(':');
      this.billedSet(key.slice(0, colon)).add(key.slice(colon + 1));
    }
  }

  private billedSet(kind: string): Set<string> {
    let set = this.billedToday.get(kind);
    if (!set) {
      set = new Set();
      this.billedToday.set(kind, set);
    }
    return set;
  }

  // The UTC day and month are recomputed only when the clock leaves the day last rolled to (or the
  // billing state was replaced), not on every call.
  private rolled: { billing: BillingData; start: number; end: number } | null = null;

  private roll() {
    const b = this.data().billing;
    const now = this.now();
    const r = this.rolled;
    if (r && r.billing === b && now >= r.start && now < r.end) return;
    const day = utcDay(now);
    const start = Date.parse(`${day}T00:00:00.000Z`);
    this.rolled = { billing: b, start, end: start + 86_400_000 };
    if (b.billedDay !== day) {
      b.billedDay = day;
      this.billedToday.clear();
      b.billedToday = [];
    }
    const month = day.slice(0, 7);
    if (b.month !== month) {
      b.month = month;
      b.monthPostReads = 0;
    }
  }

  /** Post reads counted this UTC month. */
  monthPostReads(): number {
    this.roll();
    return this.data().billing.monthPostReads;
  }

  /** Charges the items of one answer. */
  charge(items: BillingItem[]): void {
    if (!items.length) return;
    this.roll();
    const state = this.data();
    const b = state.billing;
    let cost = 0;
    for (const item of items) {
      if ('ids' in item) {
        // an Owned Read is a post read at another price: one resource, one charge per UTC day
        const billed = this.billedSet(item.kind === 'ownedRead' ? 'postRead' : item.kind);
        for (const id of item.ids) {
          if (billed.has(id)) continue;
          billed.add(id);
          b.billedToday.push(`${item.kind === 'ownedRead' ? 'postRead' : item.kind}:${id}`);
          if (item.kind === 'postRead') {
            b.reads.posts++;
            b.monthPostReads++;
            cost += PRICES_USD.postRead;
          } else if (item.kind === 'ownedRead') {
            b.reads.ownedPosts++;
            b.monthPostReads++;
            cost += PRICES_USD.ownedRead;
          } else if (item.kind === 'userRead') {
            b.reads.users++;
            cost += PRICES_USD.userRead;
          } else {
            b.reads.dmEvents++;
            cost += PRICES_USD.dmEventRead;
          }
        }
      } else {
        const map = {
          post: 'posts',
          postWithUrl: 'postsWithUrl',
          reply: 'replies',
          dm: 'dms',
          follow: 'follows',
        } as const;
        b.writes[map[item.kind]]++;
        cost += PRICES_USD[item.kind];
      }
    }
    // Keep cents exact enough for tests: round to 1/1000 of a cent.
    b.costUsd = Math.round((b.costUsd + cost) * 100_000) / 100_000;
    if (state.creditsUsd !== null)
      state.creditsUsd = Math.round((state.creditsUsd - cost) * 100_000) / 100_000;
  }

  /**
   * Charges one delivered XAA event: once per event type and object per UTC day (X's "deduplicated
   * within the same 24-hour UTC window", X-API.md §9), so duplicates and same-day replays are free
   * and a replay on a later UTC day is billed again. True when it was billed now.
   */
  chargeEvent(eventType: string, objectId: string): boolean {
    const price = EVENT_PRICES_USD[eventType];
    if (price === undefined) return false;
    this.roll();
    const billed = this.billedSet(`event.${eventType}`);
    if (billed.has(objectId)) return false;
    billed.add(objectId);
    const state = this.data();
    const b = state.billing;
    b.billedToday.push(`event.${eventType}:${objectId}`);
    b.events[eventType] = (b.events[eventType] ?? 0) + 1;
    b.costUsd = Math.round((b.costUsd + price) * 100_000) / 100_000;
    if (state.creditsUsd !== null)
      state.creditsUsd = Math.round((state.creditsUsd - price) * 100_000) / 100_000;
    return true;
  }

  report(): BillingReport {
    const s = this.data();
    return {
      reads: { ...s.billing.reads },
      writes: { ...s.billing.writes },
      events: { ...s.billing.events },
      costUsd: s.billing.costUsd,
      creditsUsd: s.creditsUsd,
      monthPostReads: s.billing.monthPostReads,
    };
  }

  zero(): void {
    this.data().billing = emptyBilling();
    this.billedToday.clear();
  }
}
